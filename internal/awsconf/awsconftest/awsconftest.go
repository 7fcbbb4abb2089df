// Package awsconftest helps test the functions' start-up against AWS
// endpoints that misbehave.
package awsconftest

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"testing"
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
