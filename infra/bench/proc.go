package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procRun is one function process: started, given events one after the
// other through its own runtime API, then killed.
type procRun struct {
	start  time.Time // just before the process was started
	ready  time.Time // its first GET /invocation/next
	invs   []invTiming
	rusage syscall.Rusage // of the whole process, read after it was killed
	hwm    int64          // peak resident set (VmHWM) in bytes, read just before the kill
	// cpuAfterFirst and cpuAfterLast are the process's CPU time after its
	// first and its last answer (from /proc, summed over its threads).
	cpuAfterFirst, cpuAfterLast time.Duration
	stdout                      int64 // bytes written to stdout (Lambda ships them to CloudWatch Logs)
	stderr                      []byte
	// throttle is the process's cgroup's cpu.stat when it ran limited.
	throttle throttleStat
	// cpuAtReady is the process's CPU time at its first GET /next.
	cpuAtReady time.Duration
}

type invTiming struct {
	sent, answered time.Time
	body           []byte
}

// cpu is the process's user plus system CPU time.
func (p *procRun) cpu() time.Duration {
	return time.Duration(p.rusage.Utime.Nano() + p.rusage.Stime.Nano())
}

// maxRSS is the process's peak resident set in bytes. It is VmHWM from
// /proc, not rusage's Maxrss: os/exec starts the child with vfork, and Linux
// carries the parent's (this bench's) peak into the child's Maxrss.
func (p *procRun) maxRSS() int64 { return p.hwm }

// threadsCPU returns a live process's CPU time so far, summed over its
// threads from /proc/<pid>/task/*/schedstat (nanoseconds, unlike the clock
// ticks of /proc/<pid>/stat). Go keeps its threads, so none is missed.
func threadsCPU(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// vmHWM reads a live process's peak resident set from /proc/<pid>/status.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// toFirstAnswer is process start to the first invocation's response.
func (p *procRun) toFirstAnswer() time.Duration { return p.invs[0].answered.Sub(p.start) }

type countingWriter struct {
	mu sync.Mutex
	n  int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.n += int64(len(b))
	w.mu.Unlock()
	return len(b), nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (w *limitedBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

// runOpts says how to run a process.
type runOpts struct {
	env     []string
	events  func(i int) []byte // the i-th event
	n       int                // invocations (at least 1)
	maxTime time.Duration      // stop early once this much time has passed (after the first)
	done    func() bool        // stop early once it reports true (asked after each invocation); nil: never
	check   func(body []byte) error
	timeout time.Duration // per invocation
	pace    time.Duration // idle time after each answer before the next event; 0: back to back

	// limiter and share: from its first GET /invocation/next on, the
	// process runs in a new cgroup of limiter, held to share of one CPU
	// (Lambda's share for a memory size). nil: a whole core throughout.
	limiter *cpuLimiter
	share   float64
}

// runProcess starts bin with its own runtime API, invokes it up to o.n
// times, kills it and returns what was measured.
func runProcess(bin string, o runOpts) (*procRun, error) {
	rt, err := newRuntimeAPI()
	if err != nil {
		return nil, err
	}
	defer rt.close()
	var group *cpuGroup
	var pid int
	started := make(chan struct{})
	p := &procRun{}
	if o.limiter != nil {
		if group, err = o.limiter.newGroup(o.share); err != nil {
			return nil, err
		}
		defer group.remove()
	}
	rt.onReady = func() error {
		<-started
		p.cpuAtReady = threadsCPU(pid)
		if group == nil {
			return nil
		}
		return group.add(pid)
	}
	stdout := &countingWriter{}
	stderr := &limitedBuffer{max: 1 << 20}
	cmd := exec.Command(bin)
	cmd.Env = append(append([]string{}, o.env...), "AWS_LAMBDA_RUNTIME_API="+rt.addr())
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the bench
	exited := make(chan struct{})

	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	pid = cmd.Process.Pid
	close(started)
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	finish := func() {
		p.hwm = vmHWM(cmd.Process.Pid)
		cmd.Process.Kill()
		<-exited
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.rusage = *ru
		}
		p.stdout = stdout.n
		p.stderr = stderr.buf.Bytes()
	}

	var runErr error
	for i := 0; i < max(o.n, 1); i++ {
		if i > 0 && o.maxTime > 0 && time.Since(p.start) > o.maxTime {
			break
		}
		if i > 0 && o.done != nil && o.done() {
			break
		}
		if i > 0 && o.pace > 0 {
			time.Sleep(o.pace)
		}
		inv, res, err := rt.invoke(o.events(i), o.timeout, exited)
		if err == nil {
			err = rt.readyError()
		}
		if err == nil && res.isError {
			err = fmt.Errorf("invocation %d answered with an error: %s", i, res.body)
		}
		if err == nil && o.check != nil {
			if cerr := o.check(res.body); cerr != nil {
				err = fmt.Errorf("invocation %d: %w", i, cerr)
			}
		}
		if err != nil {
			runErr = err
			break
		}
		p.invs = append(p.invs, invTiming{sent: inv.sent, answered: res.at, body: res.body})
		if i == 0 {
			p.cpuAfterFirst = threadsCPU(cmd.Process.Pid)
		}
	}
	if len(p.invs) > 0 {
		p.cpuAfterLast = threadsCPU(cmd.Process.Pid)
	}
	p.ready = rt.ready()
	finish()
	if group != nil {
		p.throttle = group.stat()
	}
	if runErr != nil {
		if errors.Is(runErr, errExited) && waitErr != nil {
			runErr = fmt.Errorf("%w (%v)", runErr, waitErr)
		}
		return p, fmt.Errorf("%w; stderr: %s", runErr, tail(p.stderr, 600))
	}
	return p, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
