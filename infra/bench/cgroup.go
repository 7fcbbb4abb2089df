package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lambda gives a function a share of a vCPU proportional to its memory:
// 1,769 MB is one vCPU. The share is enforced by the CFS bandwidth
// controller, a quota of CPU time in every period.
const (
	mbPerVCPU       = 1769
	throttlePeriod  = 100 * time.Millisecond
	cgroupDirPrefix = "leadpipe-bench-"
)

// shareOf is the fraction of one CPU a function of memoryMB gets.
func shareOf(memoryMB int) float64 { return float64(memoryMB) / mbPerVCPU }

// cpuLimiter makes CPU-limited cgroups for function processes: one per
// process, made before it starts and removed after it ends, all under one
// directory of this bench run (<controller>/<our cgroup>/leadpipe-bench-<pid>)
// that close removes. A new group per process starts with a full quota, as
// a new Lambda sandbox does.
type cpuLimiter struct {
	version int    // 1 or 2
	base    string // this run's directory
	period  time.Duration

	mu     sync.Mutex
	seq    int
	live   map[string]bool // groups made and not yet removed
	closed bool            // by close: no new groups
}

// describe says how the limit is applied, for the report.
func (l *cpuLimiter) describe() string {
	if l.version == 2 {
		return fmt.Sprintf("cgroup v2 cpu.max, quota per %s period", l.period)
	}
	return fmt.Sprintf("cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us (%d µs)", l.period.Microseconds())
}

// cgroupMounts are where this process's cpu controller lives: the
// directory of its own cgroup in the v2 hierarchy (if the cpu controller
// is there) and in the v1 cpu hierarchy (if mounted).
type cgroupMounts struct {
	v2, v1 string
}

// findCgroups reads /proc/self/mountinfo and /proc/self/cgroup.
func findCgroups(mountinfo, procCgroup []byte) cgroupMounts {
	var m cgroupMounts
	own := map[string]string{} // "" (v2) or a v1 controller -> our path
	sc := bufio.NewScanner(bytes.NewReader(procCgroup))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	sc = bufio.NewScanner(bytes.NewReader(mountinfo))
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		root, point := f[3], unescapeMount(f[4])
		switch g[0] {
		case "cgroup2":
			if p, ok := own[""]; ok && m.v2 == "" {
				m.v2 = joinCgroup(point, root, p)
			}
		case "cgroup":
			for _, opt := range strings.Split(g[2], ",") {
				if opt == "cpu" {
					if p, ok := own["cpu"]; ok && m.v1 == "" {
						m.v1 = joinCgroup(point, root, p)
					}
				}
			}
		}
	}
	return m
}

// joinCgroup is the directory of cgroup path p in a hierarchy mounted at
// point whose mount shows the hierarchy from root.
func joinCgroup(point, root, p string) string {
	if root != "/" {
		if rest, ok := strings.CutPrefix(p, root); ok {
			p = rest
		}
	}
	return filepath.Join(point, filepath.FromSlash(p))
}

// unescapeMount undoes mountinfo's octal escapes (\040 is a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// newCPULimiter finds a writable cpu controller, v2 first, and makes this
// run's directory in it. The error says why neither could be used.
func newCPULimiter() (*cpuLimiter, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	pc, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	m := findCgroups(mi, pc)
	var why []string
	if m.v2 != "" {
		l, err := openLimiter(2, m.v2)
		if err == nil {
			return l, nil
		}
		why = append(why, "v2: "+err.Error())
	} else {
		why = append(why, "v2: no cgroup2 hierarchy")
	}
	if m.v1 != "" {
		l, err := openLimiter(1, m.v1)
		if err == nil {
			return l, nil
		}
		why = append(why, "v1: "+err.Error())
	} else {
		why = append(why, "v1: no cpu controller mounted")
	}
	return nil, errors.New(strings.Join(why, "; "))
}

// openLimiter makes this run's directory under own (our cgroup's directory
// in a hierarchy with the cpu controller) and checks that a group in it
// takes a quota.
func openLimiter(version int, own string) (*cpuLimiter, error) {
	removeStale(own)
	base := filepath.Join(own, cgroupDirPrefix+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(base, 0o755); err != nil {
		return nil, fmt.Errorf("make %s: %w", base, err)
	}
	l := &cpuLimiter{version: version, base: base, period: throttlePeriod, live: map[string]bool{}}
	fail := func(err error) (*cpuLimiter, error) {
		os.Remove(base)
		return nil, err
	}
	if version == 2 {
		// Our directory hands the cpu controller down to the groups in it;
		// that needs our own cgroup to have handed it to us.
		if _, err := os.Stat(filepath.Join(base, "cpu.max")); err != nil {
			return fail(fmt.Errorf("the cpu controller is not enabled for %s (cgroup.subtree_control of %s)", base, own))
		}
		if err := os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte("+cpu"), 0o644); err != nil {
			return fail(fmt.Errorf("enable cpu in %s: %w", base, err))
		}
	}
	g, err := l.newGroup(0.5)
	if err != nil {
		return fail(err)
	}
	if err := g.remove(); err != nil {
		return fail(err)
	}
	registerCleanup(l.close)
	return l, nil
}

// removeStale removes the directories earlier bench runs left behind when
// they were killed (their pid is gone); only empty groups can be removed,
// so a live process is never touched.
func removeStale(own string) {
	dirs, _ := filepath.Glob(filepath.Join(own, cgroupDirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), cgroupDirPrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // that run is still going
		}
		subs, _ := os.ReadDir(d)
		for _, s := range subs {
			if s.IsDir() {
				os.Remove(filepath.Join(d, s.Name()))
			}
		}
		os.Remove(d)
	}
}

// cpuGroup is one process's cgroup.
type cpuGroup struct {
	l     *cpuLimiter
	dir   string
	quota time.Duration
}

// quotaFor is the CPU time per period of a share of one CPU (at least the
// kernel's minimum of 1 ms).
func quotaFor(share float64, period time.Duration) time.Duration {
	return max(time.Duration(share*float64(period)), time.Millisecond)
}

// newGroup makes an empty group limited to share of one CPU.
func (l *cpuLimiter) newGroup(share float64) (*cpuGroup, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errors.New("the cgroups are being removed")
	}
	l.seq++
	dir := filepath.Join(l.base, fmt.Sprintf("p%d", l.seq))
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		l.live[dir] = true
	}
	l.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("make cgroup %s: %w", dir, err)
	}
	g := &cpuGroup{l: l, dir: dir, quota: quotaFor(share, l.period)}
	if l.version == 2 {
		err = g.write("cpu.max", fmt.Sprintf("%d %d", g.quota.Microseconds(), l.period.Microseconds()))
	} else if err = g.write("cpu.cfs_period_us", strconv.FormatInt(l.period.Microseconds(), 10)); err == nil {
		err = g.write("cpu.cfs_quota_us", strconv.FormatInt(g.quota.Microseconds(), 10))
	}
	if err != nil {
		g.remove()
		return nil, err
	}
	return g, nil
}

func (g *cpuGroup) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(g.dir, file), []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %s to %s: %w", value, filepath.Join(g.dir, file), err)
	}
	return nil
}

// add moves process pid, all its threads, into the group.
func (g *cpuGroup) add(pid int) error { return g.write("cgroup.procs", strconv.Itoa(pid)) }

// throttleStat is the group's cpu.stat: how often the quota ran out.
type throttleStat struct {
	Periods, Throttled int64
	ThrottledTime      time.Duration
}

func (g *cpuGroup) stat() throttleStat {
	var s throttleStat
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return s
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "nr_periods":
			s.Periods = n
		case "nr_throttled":
			s.Throttled = n
		case "throttled_time": // v1, ns
			s.ThrottledTime = time.Duration(n)
		case "throttled_usec": // v2
			s.ThrottledTime = time.Duration(n) * time.Microsecond
		}
	}
	return s
}

// remove kills anything still in the group (only this bench's own function
// processes are ever put there) and removes it.
func (g *cpuGroup) remove() error {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.Remove(g.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			g.l.mu.Lock()
			delete(g.l.live, g.dir)
			g.l.mu.Unlock()
			return nil
		}
		if b, rerr := os.ReadFile(filepath.Join(g.dir, "cgroup.procs")); rerr == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, perr := strconv.Atoi(f); perr == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", g.dir, err)
}

// close removes every group left and this run's directory; no group can
// be made after it.
func (l *cpuLimiter) close() {
	l.mu.Lock()
	l.closed = true
	var dirs []string
	for d := range l.live {
		dirs = append(dirs, d)
	}
	l.mu.Unlock()
	for _, d := range dirs {
		(&cpuGroup{l: l, dir: d}).remove()
	}
	os.Remove(l.base)
}
