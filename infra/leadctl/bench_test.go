package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
)

// BenchmarkExport measures `leadctl export` over n leads in dynalite, run
// as its own process (the binary make leadctl builds), so its peak RSS is
// leadctl's alone: flat across n is what constant memory means. It
// reports leads per second and the child's peak RSS. Run it once (it is
// not part of go test):
//
//	go test -run '^$' -bench Export -benchtime 1x ./infra/leadctl/
func BenchmarkExport(b *testing.B) {
	root, err := benchdata.Root()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "leadctl")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./infra/leadctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build leadctl: %v\n%s", err, out)
	}
	emu := awstest.Dynamo(b)
	db := awstest.DynamoClient(b, emu.Endpoint)
	tmpl, err := samtemplate.Load()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []int{1000, 10000, 30000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			table := fmt.Sprintf("bench-%d", n)
			if err := dynamotest.CreateLeadsTable(ctx, db, tmpl, table); err != nil {
				b.Fatal(err)
			}
			leads, err := benchdata.InboxLeads(n)
			if err != nil {
				b.Fatal(err)
			}
			if err := dynamotest.PutLeads(ctx, db, table, leads); err != nil {
				b.Fatal(err)
			}
			leads = nil
			for i := 0; i < b.N; i++ {
				for _, format := range []string{"csv", "jsonl"} {
					out := filepath.Join(b.TempDir(), "export."+format)
					cmd := exec.Command(bin, "export", "--local", "--since", "2026-11-01", "--until", "2026-12-31",
						"--format", format, "--include-health", "--out", out)
					// leadctl --local talks to dynalite directly here: an
					// export needs no transactions (the stream proxy).
					cmd.Env = append(os.Environ(), "LEADPIPE_TABLE="+table, "LEADPIPE_STREAM_PORT="+portOf(emu.Endpoint))
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					start := time.Now()
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					peak := watchPeak(cmd.Process.Pid)
					if err := cmd.Wait(); err != nil {
						b.Fatalf("leadctl export: %v\n%s", err, stderr.String())
					}
					took := time.Since(start)
					rss := peak() // KiB
					if !strings.Contains(stderr.String(), fmt.Sprintf("%d leads", n)) {
						b.Fatalf("leadctl export did not export %d leads: %s", n, stderr.String())
					}
					fi, _ := os.Stat(out)
					b.ReportMetric(float64(n)/took.Seconds(), format+"-leads/s")
					b.ReportMetric(float64(rss)/1024, format+"-peak-RSS-MiB")
					b.ReportMetric(float64(fi.Size())/(1<<20), format+"-file-MiB")
				}
			}
		})
	}
}

// watchPeak follows the peak RSS (VmHWM) of process pid until it exits,
// and returns a function that gives it in KiB. The child's own rusage
// cannot be used: os/exec starts it with vfork, and Linux then counts the
// parent's (this test's) peak RSS as the child's ru_maxrss. VmHWM belongs
// to the process's address space after exec, so it is leadctl's alone;
// reading it every 2 ms misses at most the last moments before exit.
func watchPeak(pid int) func() int {
	var peak int
	done := make(chan struct{})
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return
			}
			found := false
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
					peak, found = max(peak, kb), true
				}
			}
			if !found { // a zombie: the address space is gone
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() int { <-done; return peak }
}

func portOf(endpoint string) string {
	return endpoint[strings.LastIndexByte(endpoint, ':')+1:]
}
