// Package awsconftest helps test the functions' start-up against AWS
// endpoints that misbehave.
package awsconftest

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Blackhole returns the https URL of a loopback listener that accepts
// connections and never answers: an endpoint unreachable in the slowest
// way, a TLS handshake that never completes. It closes with the test.
func Blackhole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return "https://" + ln.Addr().String()
}

// Stdout runs fn with os.Stdout captured (the functions log there) and
// returns what it wrote. Tests that use it must not run in parallel.
func Stdout(t testing.TB, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&buf, r)
		close(done)
	}()
	saved := os.Stdout
	os.Stdout = w
	func() {
		defer func() { os.Stdout = saved }()
		fn()
	}()
	w.Close()
	<-done
	r.Close()
	return buf.String()
}

// StartsDespiteFailedWarmUp runs start, a function's New against endpoints
// that never answer, and fails t unless it succeeds within bound (the
// warm-up's, plus slack for a busy machine) and logs the failed warm-up
// exactly once. It returns what start wrote to stdout.
func StartsDespiteFailedWarmUp(t testing.TB, bound time.Duration, start func() error) string {
	t.Helper()
	var err error
	var took time.Duration
	out := Stdout(t, func() {
		began := time.Now()
		err = start()
		took = time.Since(began)
	})
	if err != nil {
		t.Fatalf("start-up failed with unreachable endpoints: %v", err)
	}
	if limit := bound + 500*time.Millisecond; took > limit {
		t.Errorf("start-up took %s with unreachable endpoints, want at most %s", took, limit)
	}
	if n := strings.Count(out, "connection warm-up failed"); n != 1 {
		t.Errorf("logged the failed warm-up %d times, want once:\n%s", n, out)
	}
	return out
}
