package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestFindCgroups(t *testing.T) {
	tests := []struct {
		name               string
		mountinfo, cgroups string
		want               cgroupMounts
	}{{
		name: "v1 cpu next to an empty v2 (this kind of machine)",
		mountinfo: `27 22 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
28 27 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
29 27 0:25 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
37 27 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`,
		cgroups: "2:cpuacct:/\n1:cpu:/\n0::/\n",
		want:    cgroupMounts{v2: "/sys/fs/cgroup/unified", v1: "/sys/fs/cgroup/cpu"},
	}, {
		name: "v1 cpu,cpuacct co-mounted, in a nested group",
		mountinfo: `30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
`,
		cgroups: "4:cpu,cpuacct:/user.slice/session-1.scope\n",
		want:    cgroupMounts{v1: "/sys/fs/cgroup/cpu,cpuacct/user.slice/session-1.scope"},
	}, {
		name:      "v2 only, systemd user service",
		mountinfo: "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n",
		cgroups:   "0::/user.slice/user-1000.slice/user@1000.service/app.slice/bench.scope\n",
		want:      cgroupMounts{v2: "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/bench.scope"},
	}, {
		name:      "a container: the mount shows the hierarchy from our group",
		mountinfo: "700 690 0:30 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n",
		cgroups:   "0::/docker/abc\n",
		want:      cgroupMounts{v2: "/sys/fs/cgroup"},
	}, {
		name:      "a cpuset hierarchy is not the cpu controller",
		mountinfo: "31 25 0:27 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n",
		cgroups:   "3:cpuset:/\n",
		want:      cgroupMounts{},
	}, {
		name:      "escaped mount point",
		mountinfo: `28 22 0:24 / /mnt/my\040cgroups rw - cgroup cgroup rw,cpu` + "\n",
		cgroups:   "1:cpu:/\n",
		want:      cgroupMounts{v1: "/mnt/my cgroups"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findCgroups([]byte(tt.mountinfo), []byte(tt.cgroups)); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQuotaFor(t *testing.T) {
	for mb, want := range map[int]time.Duration{
		128:  7235 * time.Microsecond, // 7.2 %
		256:  14471 * time.Microsecond,
		512:  28942 * time.Microsecond,
		1024: 57885 * time.Microsecond,
		1769: 100 * time.Millisecond, // one vCPU
	} {
		got := quotaFor(shareOf(mb), throttlePeriod).Truncate(time.Microsecond)
		if got != want {
			t.Errorf("%d MB: quota %s per %s, want %s", mb, got, throttlePeriod, want)
		}
	}
	if got := quotaFor(0.001, throttlePeriod); got != time.Millisecond {
		t.Errorf("a tiny share: quota %s, want the kernel's minimum 1ms", got)
	}
}

func TestParseSizes(t *testing.T) {
	if got, err := parseSizes(" 512,128,256,128 "); err != nil || fmt.Sprint(got) != "[128 256 512]" {
		t.Errorf("parseSizes = %v, %v; want [128 256 512]", got, err)
	}
	for _, off := range []string{"", "off"} {
		if got, err := parseSizes(off); err != nil || got != nil {
			t.Errorf("parseSizes(%q) = %v, %v; want none", off, got, err)
		}
	}
	for _, bad := range []string{"64", "abc", "128,20000"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted it", bad)
		}
	}
}

// TestCPULimiterHoldsAProcessToItsShare runs a busy loop in a group with
// the 128 MB share for half a second: it must get about 7 % of a CPU, far
// from the whole core it would take unlimited. Skipped where no cgroup
// cpu controller is writable.
func TestCPULimiterHoldsAProcessToItsShare(t *testing.T) {
	if os.Getenv("LEADPIPE_BENCH_SPIN") == "1" {
		for {
		}
	}
	lim, err := newCPULimiter()
	if err != nil {
		t.Skipf("no writable cgroup cpu controller: %v", err)
	}
	defer lim.close()
	g, err := lim.newGroup(shareOf(128))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCPULimiterHoldsAProcessToItsShare$")
	cmd.Env = append(os.Environ(), "LEADPIPE_BENCH_SPIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	const span = 500 * time.Millisecond
	before := threadsCPU(cmd.Process.Pid)
	time.Sleep(span)
	used := threadsCPU(cmd.Process.Pid) - before
	st := g.stat()
	cmd.Process.Kill()
	cmd.Wait()
	if err := g.remove(); err != nil {
		t.Error(err)
	}
	// 7.2 % of 500 ms is 36 ms; allow a period's quota and slices on
	// either side.
	if limit := 100 * time.Millisecond; used > limit {
		t.Errorf("a busy loop at the 128 MB share used %s of CPU in %s, want at most %s", used, span, limit)
	}
	if st.Throttled == 0 {
		t.Errorf("cpu.stat shows no throttled period: %+v", st)
	}
	if _, err := os.Stat(g.dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after remove: %v", g.dir, err)
	}
	lim.close()
	if _, err := os.Stat(lim.base); !os.IsNotExist(err) {
		t.Errorf("%s still exists after close: %v", lim.base, err)
	}
}

// TestRemoveStale removes what a killed run left, and only that.
func TestRemoveStale(t *testing.T) {
	own := t.TempDir()
	dead := filepath.Join(own, cgroupDirPrefix+"999999999")
	alive := filepath.Join(own, cgroupDirPrefix+"1") // pid 1 always runs
	other := filepath.Join(own, "someone-else")
	for _, d := range []string{filepath.Join(dead, "p1"), filepath.Join(alive, "p1"), other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removeStale(own)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead run's directory is still there: %v", err)
	}
	for _, d := range []string{alive, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
}
