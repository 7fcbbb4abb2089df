package benchdata

import (
	"slices"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
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

func TestInboxLeads(t *testing.T) {
	leads, err := InboxLeads(40)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	crisis, contacts := 0, 0
	for i, l := range leads {
		ids[l.ID] = true
		if want := Now.Add(time.Duration(i) * time.Second); !l.CreatedAt.Equal(want) {
			t.Errorf("lead %d created %s, want %s", i, l.CreatedAt, want)
		}
		if l.Status != lead.StatusNew {
			t.Errorf("lead %d status %s", i, l.Status)
		}
		switch {
		case l.Kind == lead.KindContact:
			contacts++
		case l.InCrisis():
			crisis++
			if i%20 != 0 {
				t.Errorf("lead %d in crisis", i)
			}
		}
	}
	if len(ids) != 40 || contacts != 20 || crisis != 2 {
		t.Errorf("%d ids, %d contacts, %d in crisis; want 40, 20, 2", len(ids), contacts, crisis)
	}
	// Each has its own form: one in crisis leaves the others as they were.
	if leads[2].InCrisis() || !leads[0].InCrisis() {
		t.Errorf("crisis flag shared between leads")
	}
}
