//go:build unix && !linux

package localaws

import (
	"syscall"
	"time"
)

// sysProcAttr puts an emulator in a process group of its own, so Stop reaches
// everything it runs. Outside Linux there is no parent-death signal: the
// infra/*.js wrappers still exit when their parent dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup signals the process group led by pid.
func killGroup(pid int, sig syscall.Signal) {
	syscall.Kill(-pid, sig) // ESRCH: the group is gone already.
}

// signalAll signals each of pids.
func signalAll(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}

// descendants is not tracked outside Linux (the RIE runs on Linux only).
func descendants(int) []int { return nil }

func waitGone([]int, time.Duration) bool { return true }

// alive reports whether process pid exists (a zombie counts as alive here).
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}
