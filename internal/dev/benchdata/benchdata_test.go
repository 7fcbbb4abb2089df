package benchdata

import (
	"slices"
	"testing"
)

func TestParseBuild(t *testing.T) {
	got, err := ParseBuild(` CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='`)
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{"CGO_ENABLED=0", "GOOS=linux"}
	wantFlags := []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid="}
	if !slices.Equal(got.Env, wantEnv) || !slices.Equal(got.Flags, wantFlags) {
		t.Errorf("ParseBuild = %q %q, want %q %q", got.Env, got.Flags, wantEnv, wantFlags)
	}
	for _, bad := range []string{"", "go test ./...", "CGO_ENABLED=0 $(GO) build -ldflags='-s"} {
		if _, err := ParseBuild(bad); err == nil {
			t.Errorf("ParseBuild(%q) = nil error", bad)
		}
	}
}

func TestMakefileBuild(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := LambdaBuild(root)
	if err != nil {
		t.Fatal(err)
	}
	// The flags the budgets assume: a static, stripped, reproducible binary.
	for _, want := range []string{"-trimpath", "-tags"} {
		if !slices.Contains(b.Flags, want) {
			t.Errorf("LAMBDA_BUILD flags %q lack %s", b.Flags, want)
		}
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("LAMBDA_BUILD env %q lacks CGO_ENABLED=0", b.Env)
	}
}

func TestFixtures(t *testing.T) {
	for name, get := range map[string]func() (any, error){
		"contact":      func() (any, error) { return ContactLead() },
		"consultation": func() (any, error) { return ConsultationLead() },
		"stream":       func() (any, error) { return Stream(StreamEvent) },
	} {
		if _, err := get(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
