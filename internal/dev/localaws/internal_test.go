package localaws

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStartNodeNotInstalled(t *testing.T) {
	_, err := startNodeIn(context.Background(), t.TempDir(), nodeEmulator{name: "dynalite", script: "dynalite.js", pkg: "dynalite"}, Options{})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("got %v, want an error wrapping ErrNotInstalled", err)
	}
	for _, want := range []string{"infra/node_modules/dynalite is missing", "make test", "npm ci --prefix infra"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestOutputMarkerAcrossWrites(t *testing.T) {
	o := newOutput(nil, "ses listening on http://127.0.0.1:8005")
	for _, chunk := range []string{"starting\nses liste", "ning on http://127.0", ".0.1:8005\n"} {
		o.Write([]byte(chunk))
	}
	select {
	case <-o.ready:
	default:
		t.Fatal("marker split over three writes was not seen")
	}
	if got := string(o.tail()); !strings.HasPrefix(got, "starting\n") {
		t.Errorf("tail = %q, want the whole output", got)
	}
}

func TestLaunchReportsOutputOfEarlyExit(t *testing.T) {
	cmd := exec.Command("sh", "-c", "echo 'cannot load emulator' >&2; exit 1")
	_, err := launch(context.Background(), "fake", 1, cmd, "fake listening", nil)
	if err == nil {
		t.Fatal("launch succeeded")
	}
	for _, want := range []string{"start fake on 127.0.0.1:1", "exited before it was ready", "cannot load emulator"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestLaunchTimesOutAndKills(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cmd := exec.Command("sh", "-c", "echo still loading; exec sleep 60")
	_, err := launch(ctx, "fake", 1, cmd, "fake listening", nil)
	if err == nil || !strings.Contains(err.Error(), "not ready") || !strings.Contains(err.Error(), "still loading") {
		t.Fatalf("got %v, want a not-ready error quoting the output", err)
	}
	if cmd.Process == nil || alive(cmd.Process.Pid) {
		t.Errorf("process left running after a failed start")
	}
}

func TestStartOnPortRetriesTakenPickedPort(t *testing.T) {
	var ports []int
	e, err := startOnPort(context.Background(), "fake", 0, func(port int) (*Emulator, error) {
		ports = append(ports, port)
		if len(ports) < portAttempts {
			return nil, fmt.Errorf("start fake: %w", &portInUseError{port: port})
		}
		return &Emulator{Port: port}, nil
	})
	if err != nil || e == nil || len(ports) != portAttempts {
		t.Fatalf("got %v, %v after %d attempts, want success on attempt %d", e, err, len(ports), portAttempts)
	}
}

func TestLaunchExitPortInUse(t *testing.T) {
	cmd := exec.Command("sh", "-c", "echo 'port 1 on 127.0.0.1 is already in use' >&2; exit 3")
	_, err := launch(context.Background(), "fake", 1, cmd, "fake listening", nil)
	if !isPortInUse(err) || !strings.Contains(err.Error(), "port 1 on 127.0.0.1 is already in use") {
		t.Fatalf("got %v, want a portInUseError", err)
	}
}
