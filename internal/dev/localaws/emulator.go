package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 3 * time.Second
	// reapTimeout bounds the wait for killed processes to disappear.
	reapTimeout = 5 * time.Second
	// tailSize is how much of an emulator's output is kept for errors.
	tailSize = 4 << 10
)

// Emulator is a running emulator process.
type Emulator struct {
	// Name says which emulator this is: dynalite, ses, cognito or rie.
	Name string
	// Endpoint is the emulator's base URL, http://127.0.0.1:<Port>.
	Endpoint string
	// Port is the 127.0.0.1 port of Endpoint. Pass it in Options to start a
	// fresh emulator on the same address after Stop or Kill.
	Port int
	// PID is the emulator's process ID, which is also its process group ID.
	PID int

	out     *output
	dataDir string        // removed once the process is gone; "" for none
	exited  chan struct{} // closed once the process has been reaped
	err     error         // cmd.Wait's result, set before exited is closed

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// launch starts cmd and waits until it listens on 127.0.0.1:port: until it
// has printed marker (when marker is not empty) and the port accepts a TCP
// connection. On failure the process is killed and the error quotes the tail
// of its output.
func launch(ctx context.Context, name string, port int, cmd *exec.Cmd, marker string, log io.Writer) (*Emulator, error) {
	out := newOutput(log, marker)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild holding the output pipe must not block Wait forever.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	e := &Emulator{
		Name:     name,
		Endpoint: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Port:     port,
		PID:      cmd.Process.Pid,
		out:      out,
		exited:   make(chan struct{}),
	}
	go func() {
		e.err = cmd.Wait()
		close(e.exited)
	}()
	if err := e.waitReady(ctx, marker); err != nil {
		e.Kill()
		select {
		case <-e.exited:
			if exitCode(e.err) == exitPortInUse || bytes.Contains(out.tail(), []byte("address already in use")) {
				err = &portInUseError{port: port}
			}
		default: // Unkillable; Kill has waited long enough.
		}
		return nil, fmt.Errorf("start %s on 127.0.0.1:%d: %w%s", name, port, err, out.quote())
	}
	return e, nil
}

func (e *Emulator) waitReady(ctx context.Context, marker string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if marker != "" {
		select {
		case <-e.out.ready:
		case <-e.exited:
			return fmt.Errorf("exited before it was ready (%v)", e.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready (timeout %v): %w", startTimeout, ctx.Err())
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(e.Port))
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			select {
			case <-e.exited:
				return fmt.Errorf("exited before it was ready (%v)", e.err)
			default:
				return nil
			}
		}
		select {
		case <-e.exited:
			return fmt.Errorf("exited before it was ready (%v)", e.err)
		case <-ctx.Done():
			return fmt.Errorf("port %d accepts no connection (timeout %v): %w", e.Port, startTimeout, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Stop ends the emulator: SIGTERM to its process group (and to any process it
// started in a group of its own), SIGKILL after a short grace, and waits
// until they are gone, so its port is free when Stop returns. It reports an
// error if the emulator had died by itself before. Stop is idempotent and
// safe to call after Kill.
func (e *Emulator) Stop() error {
	return e.terminate(stopGrace)
}

// Kill ends the emulator at once with SIGKILL, like a crash, for tests that
// simulate an outage. It waits until the processes are gone. Stop after Kill
// does nothing and returns nil.
func (e *Emulator) Kill() {
	e.terminate(0)
}

func (e *Emulator) terminate(grace time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return e.stopErr
	}
	e.stopped = true
	e.stopErr = e.kill(grace)
	if e.dataDir != "" {
		if err := os.RemoveAll(e.dataDir); err != nil {
			e.stopErr = errors.Join(e.stopErr, fmt.Errorf("stop %s: remove its data: %w", e.Name, err))
		}
	}
	return e.stopErr
}

// kill ends the process group, after grace with SIGTERM if grace > 0, and
// waits until the processes are gone.
func (e *Emulator) kill(grace time.Duration) error {
	select {
	case <-e.exited:
		// Died by itself: clear what it left behind and say so.
		killGroup(e.PID, syscall.SIGKILL)
		return fmt.Errorf("%s (pid %d) exited before Stop (%v)%s", e.Name, e.PID, e.err, e.out.quote())
	default:
	}

	// Runtimes started by the RIE sit in process groups of their own.
	kids := descendants(e.PID)
	if grace > 0 {
		killGroup(e.PID, syscall.SIGTERM)
		signalAll(kids, syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(grace):
		}
	}
	killGroup(e.PID, syscall.SIGKILL)
	signalAll(kids, syscall.SIGKILL)

	select {
	case <-e.exited:
	case <-time.After(reapTimeout):
		return fmt.Errorf("stop %s: pid %d still running %v after SIGKILL", e.Name, e.PID, reapTimeout)
	}
	if !waitGone(kids, reapTimeout) {
		return fmt.Errorf("stop %s: child processes %v still running after SIGKILL", e.Name, kids)
	}
	return nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// output copies an emulator's output to a log, keeps its tail for error
// messages, and closes ready once marker has been written.
type output struct {
	mu     sync.Mutex
	log    io.Writer
	buf    []byte
	marker []byte // nil once seen
	scan   []byte // unmatched end of the output, as long as marker at most
	ready  chan struct{}
}

func newOutput(log io.Writer, marker string) *output {
	return &output{log: log, marker: []byte(marker), ready: make(chan struct{})}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		o.log.Write(p) // A failing log must not stop the emulator.
	}
	o.buf = append(o.buf, p...)
	if len(o.buf) > tailSize {
		o.buf = append(o.buf[:0], o.buf[len(o.buf)-tailSize:]...)
	}
	if len(o.marker) > 0 {
		o.scan = append(o.scan, p...)
		if bytes.Contains(o.scan, o.marker) {
			close(o.ready)
			o.marker = nil
			o.scan = nil
		} else if len(o.scan) > len(o.marker) {
			o.scan = append(o.scan[:0], o.scan[len(o.scan)-len(o.marker):]...)
		}
	}
	return len(p), nil
}

func (o *output) tail() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.buf)
}

// quote renders the output's tail for an error message.
func (o *output) quote() string {
	t := bytes.TrimSpace(o.tail())
	if len(t) == 0 {
		return "; it printed nothing"
	}
	return "; its output ends:\n" + string(t)
}
