// Package samtemplate reads the project's AWS SAM template (template.yaml) so
// that the template stays the single source of truth: the local stack builds
// its DynamoDB table and its stream filter from it instead of from hand-kept
// copies, and the tests in this package assert the deployment properties that
// matter (runtime, least-privilege IAM, encryption, retries, alarms).
//
// Short-form intrinsic tags (!Ref, !GetAtt, !Sub, ...) are turned into the
// long form CloudFormation uses in JSON ({"Ref": ...}, {"Fn::GetAtt": [...]}),
// so callers see one representation.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultFile is the template's file name at the module root.
const DefaultFile = "template.yaml"

// Logical IDs in template.yaml that other packages look up.
const (
	LeadsTable     = "LeadsTable"
	NotifyFunction = "NotifyFunction"
)

// Template is a parsed template. Values are map[string]any, []any, string,
// int, float64, bool or nil, with intrinsic functions in their long form.
type Template struct {
	Parameters map[string]map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
	Outputs    map[string]map[string]any
	// Doc is the whole document, for sections without a field (Rules, Conditions).
	Doc map[string]any
}

// Resource is one entry of the Resources section.
type Resource struct {
	Type                string
	Properties          map[string]any
	Metadata            map[string]any
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// Load reads DefaultFile from the module root above the working directory.
func Load() (*Template, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	return LoadFile(filepath.Join(root, DefaultFile))
}

// LoadFile reads and parses the template at path.
func LoadFile(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ModuleRoot returns dir or the nearest directory above it holding go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no go.mod in any parent directory")
		}
		dir = parent
	}
}

// Parse parses a template from YAML (JSON, being YAML, works too).
func Parse(data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, errors.New("parse template: empty document")
	}
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parse template: top level is not a mapping")
	}

	t := &Template{Doc: doc, Resources: map[string]Resource{}}
	if t.Parameters, err = sectionOfMaps(doc, "Parameters"); err != nil {
		return nil, err
	}
	if t.Outputs, err = sectionOfMaps(doc, "Outputs"); err != nil {
		return nil, err
	}
	if g, ok := doc["Globals"]; ok {
		if t.Globals, ok = g.(map[string]any); !ok {
			return nil, errors.New("parse template: Globals is not a mapping")
		}
	}
	resources, err := sectionOfMaps(doc, "Resources")
	if err != nil {
		return nil, err
	}
	if len(resources) == 0 {
		return nil, errors.New("parse template: no Resources")
	}
	for id, r := range resources {
		res, err := toResource(r)
		if err != nil {
			return nil, fmt.Errorf("parse template: resource %s: %w", id, err)
		}
		t.Resources[id] = res
	}
	return t, nil
}

func sectionOfMaps(doc map[string]any, name string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	raw, ok := doc[name]
	if !ok {
		return out, nil
	}
	section, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse template: %s is not a mapping", name)
	}
	for k, v := range section {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parse template: %s.%s is not a mapping", name, k)
		}
		out[k] = m
	}
	return out, nil
}

func toResource(m map[string]any) (Resource, error) {
	var r Resource
	var ok bool
	if r.Type, ok = m["Type"].(string); !ok || r.Type == "" {
		return r, errors.New("missing Type")
	}
	for key, dst := range map[string]*map[string]any{"Properties": &r.Properties, "Metadata": &r.Metadata} {
		if v, present := m[key]; present {
			if *dst, ok = v.(map[string]any); !ok {
				return r, fmt.Errorf("%s is not a mapping", key)
			}
		}
	}
	if r.Properties == nil {
		r.Properties = map[string]any{}
	}
	for key, dst := range map[string]*string{"Condition": &r.Condition, "DeletionPolicy": &r.DeletionPolicy, "UpdateReplacePolicy": &r.UpdateReplacePolicy} {
		if v, present := m[key]; present {
			if *dst, ok = v.(string); !ok {
				return r, fmt.Errorf("%s is not a string", key)
			}
		}
	}
	return r, nil
}

// shortForms maps each short-form tag to its long-form key. Unknown tags are
// an error rather than a silent string, so a typo cannot pass the tests.
var shortForms = map[string]string{
	"!Ref":       "Ref",
	"!Condition": "Condition",
}

func init() {
	for _, fn := range []string{
		"And", "Base64", "Cidr", "Equals", "FindInMap", "ForEach", "GetAtt", "GetAZs",
		"If", "ImportValue", "Join", "Length", "Not", "Or", "Select", "Split", "Sub",
		"ToJsonString", "Transform",
		// Functions of the Rules section.
		"Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
	} {
		shortForms["!"+fn] = "Fn::" + fn
	}
}

// convert turns a YAML node into plain Go values, expanding short-form tags.
func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if long, ok := shortForms[n.Tag]; ok {
		return intrinsic(n, long)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") && n.Tag != "!" {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if k.Value == "<<" {
				return nil, fmt.Errorf("line %d: merge keys are not supported by CloudFormation", k.Line)
			}
			// CloudFormation rejects duplicate keys; yaml.Node keeps both.
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := convert(vn)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		// Unquoted dates (AWSTemplateFormatVersion: 2010-09-09) are strings to CloudFormation.
		if _, isTime := v.(time.Time); isTime {
			return n.Value, nil
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func intrinsic(n *yaml.Node, long string) (any, error) {
	if n.Kind == yaml.ScalarNode {
		// !GetAtt Resource.Attribute is shorthand for [Resource, Attribute];
		// attribute names may themselves contain dots (Endpoint.Address).
		if long == "Fn::GetAtt" {
			res, attr, ok := strings.Cut(n.Value, ".")
			if !ok || res == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, n.Value)
			}
			return map[string]any{long: []any{res, attr}}, nil
		}
		return map[string]any{long: n.Value}, nil
	}
	// Convert the content as an untagged node of the same kind.
	inner := *n
	inner.Tag = ""
	v, err := convert(&inner)
	if err != nil {
		return nil, err
	}
	return map[string]any{long: v}, nil
}
