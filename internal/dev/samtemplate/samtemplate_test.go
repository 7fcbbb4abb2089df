package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// js renders v as JSON (map keys sorted), the one form tests compare in.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unmarshalable: " + err.Error()
	}
	return string(b)
}

// at follows map keys (string) and list indexes (int) through v; it returns
// nil where the path does not exist.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestParseShortForms(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"Ref", `!Ref LeadsTable`, `{"Ref":"LeadsTable"}`},
		{"GetAtt scalar", `!GetAtt LeadsTable.StreamArn`, `{"Fn::GetAtt":["LeadsTable","StreamArn"]}`},
		{"GetAtt dotted attribute", `!GetAtt Db.Endpoint.Address`, `{"Fn::GetAtt":["Db","Endpoint.Address"]}`},
		{"GetAtt list", `!GetAtt [Queue, Arn]`, `{"Fn::GetAtt":["Queue","Arn"]}`},
		{"Sub scalar", `!Sub "arn:${AWS::Partition}:x"`, `{"Fn::Sub":"arn:${AWS::Partition}:x"}`},
		{"Sub list", `!Sub ["${a}", {a: !Ref B}]`, `{"Fn::Sub":["${a}",{"a":{"Ref":"B"}}]}`},
		{"If Equals Not nested", `!If [C, !Not [!Equals [!Ref P, ""]], !Ref AWS::NoValue]`,
			`{"Fn::If":["C",{"Fn::Not":[{"Fn::Equals":[{"Ref":"P"},""]}]},{"Ref":"AWS::NoValue"}]}`},
		{"Join Select Split", `!Join [",", [!Select [0, !Split ["/", !Ref X]]]]`,
			`{"Fn::Join":[",",[{"Fn::Select":[0,{"Fn::Split":["/",{"Ref":"X"}]}]}]]}`},
		{"GetAZs empty", `!GetAZs ''`, `{"Fn::GetAZs":""}`},
		{"Condition", `!Condition IsProd`, `{"Condition":"IsProd"}`},
		{"Contains in Rules", `!Contains [!Ref L, "*"]`, `{"Fn::Contains":[{"Ref":"L"},"*"]}`},
		{"FindInMap", `!FindInMap [M, !Ref AWS::Region, K]`, `{"Fn::FindInMap":["M",{"Ref":"AWS::Region"},"K"]}`},
		{"Base64 Sub mapping", "!Base64\n  Fn::Sub: x", `{"Fn::Base64":{"Fn::Sub":"x"}}`},
		{"long form kept", `{"Fn::GetAtt": ["A", "B"]}`, `{"Fn::GetAtt":["A","B"]}`},
		{"plain scalars", `[1, 2.5, true, "10", null, 2010-09-09]`, `[1,2.5,true,"10",null,"2010-09-09"]`},
		{"alias", "a: &x [1]\nb: *x", `{"a":[1],"b":[1]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte("Resources: {R: {Type: T}}\nValue: " + indent(tt.yaml)))
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if got := js(tmpl.Doc["Value"]); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// indent lets a multi-line YAML value sit under a mapping key.
func indent(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	return "\n  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown tag", "Resources: {R: {Type: T, Properties: {A: !Reff X}}}", "unknown tag !Reff"},
		{"duplicate key", "Resources:\n  R: {Type: T}\n  R: {Type: U}", `duplicate key "R"`},
		{"merge key", "Resources:\n  R:\n    <<: {Type: T}", "merge keys"},
		{"GetAtt without attribute", "Resources: {R: {Type: T, Properties: {A: !GetAtt X}}}", "not Resource.Attribute"},
		{"resource without Type", "Resources: {R: {Properties: {}}}", "resource R: missing Type"},
		{"no resources", "Parameters: {}", "no Resources"},
		{"not a mapping", "[1, 2]", "not a mapping"},
		{"invalid YAML", "Resources: [", "parse template"},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ModuleRoot(deep); err == nil {
		t.Fatalf("ModuleRoot(%s) without go.mod: got no error", deep)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, deep} {
		got, err := ModuleRoot(dir)
		if err != nil {
			t.Fatalf("ModuleRoot(%s) error = %v", dir, err)
		}
		if got != root {
			t.Errorf("ModuleRoot(%s) = %s, want %s", dir, got, root)
		}
	}
}

func TestLoadFindsTemplateAtModuleRoot(t *testing.T) {
	// go test runs in this package's directory, two levels below go.mod.
	tmpl, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if _, ok := tmpl.Resources[LeadsTable]; !ok {
		t.Errorf("Load() has no %s resource", LeadsTable)
	}

	path := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(path, []byte("Resources: {Only: {Type: AWS::SQS::Queue}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err = LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile(%s) error = %v", path, err)
	}
	if got := tmpl.Resources["Only"].Type; got != "AWS::SQS::Queue" {
		t.Errorf("LoadFile: Only.Type = %q, want AWS::SQS::Queue", got)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("LoadFile(missing) got no error")
	}
}

func TestFunctionPropertiesMergesGlobals(t *testing.T) {
	tmpl, err := Parse([]byte(`
Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 3
    Layers: [g]
    Environment: {Variables: {A: !Ref Global, B: global}}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 10
      Layers: [f]
      Environment: {Variables: {A: !Sub local, C: local}}
`))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	got, err := tmpl.functionProperties("F")
	if err != nil {
		t.Fatalf("functionProperties() error = %v", err)
	}
	want := `{"Environment":{"Variables":{"A":{"Fn::Sub":"local"},"B":"global","C":"local"}},"Layers":["g","f"],"Runtime":"provided.al2023","Timeout":10}`
	if js(got) != want {
		t.Errorf("got %s, want %s", js(got), want)
	}
	if _, err := tmpl.functionProperties("Missing"); err == nil {
		t.Error("functionProperties(Missing) got no error")
	}
}
