package localaws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
)

type probeResponse struct {
	Echo         string `json:"echo"`
	PID          int    `json:"pid"`
	Timeout      string `json:"timeout"`
	Probe        string `json:"probe"`
	Home         string `json:"home"`
	FunctionName string `json:"functionName"`
	RequestID    string `json:"requestId"`
	DeadlineInMs int64  `json:"deadlineInMs"`
}

var (
	probeOnce sync.Once
	probeDir  string
	probePath string
	probeErr  error
)

// TestMain removes the probe built for the RIE tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if probeDir != "" {
		os.RemoveAll(probeDir)
	}
	os.Exit(code)
}

// probe builds testdata/probe once for all RIE tests, skipping (or failing)
// when the RIE is missing.
func probe(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Lambda RIE runs on linux only")
	}
	root, err := localaws.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "aws-lambda-rie")); err != nil {
		awstest.Check(t, fmt.Errorf("bin/aws-lambda-rie is missing (make test installs it): %w", localaws.ErrNotInstalled))
	}
	probeOnce.Do(func() {
		if probeDir, probeErr = os.MkdirTemp("", "localaws-probe-"); probeErr != nil {
			return
		}
		probePath = filepath.Join(probeDir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", probePath, "./internal/dev/localaws/testdata/probe")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probeErr = fmt.Errorf("build probe: %v\n%s", err, out)
		}
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probePath
}

func invokeProbe(t *testing.T, e *localaws.Emulator, payload string) probeResponse {
	t.Helper()
	body, err := e.Invoke(context.Background(), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	var r probeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return r
}

func TestRIE(t *testing.T) {
	t.Parallel()
	bootstrap := probe(t)
	e, err := localaws.StartRIE(context.Background(), localaws.RIEOptions{
		Binary: bootstrap,
		Env:    []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=7", "LEADPIPE_PROBE=passed"},
		Log:    testWriter{t},
	})
	awstest.Check(t, err)
	defer e.Stop()
	assertLoopbackOnly(t, e.Port)

	first := invokeProbe(t, e, `{"echo":"hi"}`)
	if first.Echo != "hi" || first.Probe != "passed" || first.Timeout != "7" || first.FunctionName != "test_function" || first.RequestID == "" {
		t.Errorf("first invocation saw %+v", first)
	}
	if first.Home != "" {
		t.Errorf("function saw HOME=%q: the caller's environment leaked", first.Home)
	}
	if first.DeadlineInMs <= 5000 || first.DeadlineInMs > 7000 {
		t.Errorf("deadline in %d ms, want about 7000 (AWS_LAMBDA_FUNCTION_TIMEOUT=7)", first.DeadlineInMs)
	}

	second := invokeProbe(t, e, `{"echo":"again"}`)
	if second.Echo != "again" || second.PID != first.PID {
		t.Errorf("second invocation saw %+v, want the warm bootstrap (pid %d)", second, first.PID)
	}

	body, err := e.Invoke(context.Background(), []byte(`{"fail":true}`))
	if err != nil {
		t.Fatalf("invoke failing function: %v", err)
	}
	if !strings.Contains(string(body), `"errorMessage":"probe failed on request"`) {
		t.Errorf("failing function answered %s, want its errorMessage", body)
	}

	if !localaws.Alive(first.PID) {
		t.Fatalf("bootstrap pid %d not running before Stop", first.PID)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, e)
	if localaws.Alive(first.PID) {
		t.Errorf("bootstrap pid %d still running after Stop", first.PID)
	}
}

func TestRIETimeout(t *testing.T) {
	t.Parallel()
	bootstrap := probe(t)
	e := awstest.RIE(t, localaws.RIEOptions{Binary: bootstrap, Env: []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=1"}})
	before := invokeProbe(t, e, `{}`).PID

	body, err := e.Invoke(context.Background(), []byte(`{"sleepMs":1500}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Task timed out after 1.00 seconds"; string(body) != want {
		t.Errorf("slow invocation answered %q, want %q", body, want)
	}

	after := invokeProbe(t, e, `{"echo":"fresh"}`)
	if after.Echo != "fresh" || after.PID == before {
		t.Errorf("after the timeout got %+v, want a fresh runtime (not pid %d)", after, before)
	}
	if localaws.Alive(before) {
		t.Errorf("timed-out runtime pid %d still running", before)
	}
}

func TestRIEKill(t *testing.T) {
	t.Parallel()
	probe(t) // skips without the RIE
	bootstrap := awstest.Bootstrap(t, "./internal/dev/localaws/testdata/probe")
	e := awstest.RIE(t, localaws.RIEOptions{Binary: bootstrap})
	pid := invokeProbe(t, e, `{}`).PID
	e.Kill()
	assertGone(t, e)
	if localaws.Alive(pid) {
		t.Errorf("bootstrap pid %d still running after Kill", pid)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
