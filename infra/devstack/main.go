// Command devstack runs the whole pipeline on this machine: `make dev`.
// Everything is in package internal/dev/devstack; this is signal handling.
// Settings come from the environment (LEADPIPE_API_PORT, LEADPIPE_TABLE,
// NOTIFY_DETAIL, ...; see the README).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/clinicleads/leadpipe/internal/dev/devstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := devstack.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Out, cfg.Log = os.Stdout, os.Stderr
	// Ctrl-C (SIGINT) and SIGTERM end the context; Run then stops every
	// process it started before returning. A second signal is not caught,
	// so it ends this process at once, and the kernel kills the emulators
	// with it (they run with a parent-death signal).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-ctx.Done()
		stop()
	}()
	defer stop()
	if err := devstack.Run(ctx, cfg); err != nil {
		return err
	}
	fmt.Println("leadpipe dev stack stopped")
	return nil
}
