// The size budget of every function's deployed binary.

package functions_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
)

// budget is the function's size budget (benchdata.SizeBudget, which the
// bench command shows too).
func budget(function string) int64 { return benchdata.SizeBudget(function) }

// TestSize builds every function exactly as the Makefile (and so sam build)
// does and holds it to its budget.
func TestSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function; skipped with -short")
	}
	root, build := lambdaBuild(t)
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions/*/main.go under %s (%v)", root, err)
	}
	out := t.TempDir()
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		t.Run(name, func(t *testing.T) {
			bin := filepath.Join(out, name, "bootstrap")
			args := append([]string{"build"}, build.Flags...)
			args = append(args, "-o", bin, "./functions/"+name)
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			cmd.Env = append(append(os.Environ(), build.Env...), "GOARCH=arm64")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go %v: %v\n%s", args, err, b)
			}
			fi, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			size := fi.Size()
			limit := budget(name)
			t.Logf("%s: linux/arm64 bootstrap %d bytes (%.2f MiB), budget %.2f MiB", name, size, mib(size), mib(limit))
			if size > limit {
				t.Errorf("%s: linux/arm64 bootstrap is %.2f MiB, over the %.2f MiB budget by %d KiB",
					name, mib(size), mib(limit), (size-limit+1023)/1024)
			}
		})
	}
}

// lambdaBuild returns the module root and the Makefile's Lambda build.
func lambdaBuild(t *testing.T) (string, benchdata.Build) {
	t.Helper()
	root, err := benchdata.Root()
	if err != nil {
		t.Fatal(err)
	}
	build, err := benchdata.LambdaBuild(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, build
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestNoDevPackagesShip holds every function to the layout's promise: what
// lives under internal/dev (emulators, the dev stack, test harnesses) never
// ends up in a deployed binary.
func TestNoDevPackagesShip(t *testing.T) {
	root, err := benchdata.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const dev = "github.com/clinicleads/leadpipe/internal/dev/"
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages; the check would prove nothing", len(deps))
	}
	// Nor what only the operations command links: its own packages, and
	// the SDK's default configuration loader (functions build theirs
	// with internal/awsconf).
	opsOnly := []string{"github.com/clinicleads/leadpipe/infra/leadctl", "github.com/aws/aws-sdk-go-v2/config"}
	for _, p := range deps {
		if strings.HasPrefix(p, dev) {
			t.Errorf("a function imports %s; dev-only packages must not ship", p)
		}
		for _, o := range opsOnly {
			if p == o || strings.HasPrefix(p, o+"/") {
				t.Errorf("a function imports %s; only leadctl may link it", p)
			}
		}
	}
}

// TestIntakeHasNoTemplates: the intake functions build their pages with
// html.EscapeString (internal/intake/pages.go), because text/template's
// reflection would cost them about 2 MiB (see notifyBudget). This names
// the cause when it happens, before the size budget notices the growth.
func TestIntakeHasNoTemplates(t *testing.T) {
	root, build := lambdaBuild(t)
	for _, fn := range []string{"contact", "consultation"} {
		args := []string{"list", "-deps", "-f", "{{.ImportPath}}"}
		for i, f := range build.Flags { // lambda.norpc: net/rpc would pull in html/template
			if f == "-tags" && i+1 < len(build.Flags) {
				args = append(args, f, build.Flags[i+1])
			} else if strings.HasPrefix(f, "-tags=") {
				args = append(args, f)
			}
		}
		cmd := exec.Command("go", append(args, "./functions/"+fn)...)
		cmd.Dir = root
		cmd.Env = append(append(os.Environ(), build.Env...), "GOARCH=arm64")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/clinicleads/leadpipe/internal/intake") {
			t.Fatalf("%s does not depend on internal/intake; the check would prove nothing", fn)
		}
		for _, p := range []string{"text/template", "html/template"} {
			if slices.Contains(deps, p) {
				t.Errorf("functions/%s imports %s", fn, p)
			}
		}
	}
}
