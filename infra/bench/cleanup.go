package main

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
)

// cleanups are undone on every way out of the bench: a normal end, an
// error, and an interrupt (the cgroups it made would otherwise outlive it).
var cleanups struct {
	mu  sync.Mutex
	fns []func()
}

// registerCleanup adds f to what runCleanups undoes.
func registerCleanup(f func()) {
	cleanups.mu.Lock()
	cleanups.fns = append(cleanups.fns, f)
	cleanups.mu.Unlock()
}

// runCleanups runs the registered functions once each, last first. A
// second caller waits until the first has finished, so the bench cannot
// exit halfway through a cleanup.
func runCleanups() {
	cleanups.mu.Lock()
	defer cleanups.mu.Unlock()
	for _, f := range slices.Backward(cleanups.fns) {
		f()
	}
	cleanups.fns = nil
}

// cleanUpOnSignal runs the cleanups and exits when the bench is
// interrupted or terminated. Function processes die with the bench
// (Pdeathsig); the cleanups remove their cgroups.
func cleanUpOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-ch
		fmt.Fprintf(os.Stderr, "bench: %v: cleaning up\n", s)
		runCleanups()
		os.Exit(130)
	}()
}
