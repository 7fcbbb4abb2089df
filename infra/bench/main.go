// Command bench measures the functions against the floor, an empty
// aws-lambda-go function built with the same flags: binary and zip size,
// cold start against a fake Lambda Runtime API, warm CPU and wall time per
// invocation, peak memory, package init time, the per-request work as
// `go test -bench` sees it, and what a million leads cost on AWS. It prints
// one table and writes the same figures to build/bench.json.
//
//	go run ./infra/bench            # or: make bench
//	go run ./infra/bench -levers    # also measure the performance levers
//	go run ./infra/bench -levers -before HEAD~3   # and today against a revision
//
// Timings are of this machine, not of Lambda: they compare the functions
// with the baseline measured in the same run, and are never asserted.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
)

type options struct {
	coldRuns  int
	warmN     int
	warmTime  time.Duration
	initRuns  int
	benchTime string
	useTLS    bool
	levers    bool
	before    string
	goTest    bool
	out       string
	listLeads int
	listTime  time.Duration

	lambdaSizes  string // -lambda, parsed into sizes
	sizes        []int
	lambdaRuns   int
	lambdaWarm   int
	lambdaPace   time.Duration
	lambdaLevers string // "", "all", or letters of the levers: "h,j"
}

func main() {
	var o options
	flag.IntVar(&o.coldRuns, "runs", 30, "fresh processes per function for the cold start")
	flag.IntVar(&o.warmN, "warm", 2000, "invocations per function for the warm figures")
	flag.DurationVar(&o.warmTime, "warm-time", 30*time.Second, "stop the warm run of a function after this long")
	flag.IntVar(&o.initRuns, "inittrace", 5, "processes per function run with GODEBUG=inittrace=1")
	flag.StringVar(&o.benchTime, "benchtime", "300ms", "go test -benchtime for the per-request benchmarks")
	flag.BoolVar(&o.useTLS, "tls", true, "the AWS stub speaks TLS, as AWS does")
	flag.BoolVar(&o.levers, "levers", false, "also measure the levers (variants, flags, keep-alive; needs the module proxy for config)")
	flag.StringVar(&o.before, "before", "", "with -levers, also measure the functions as they were at this git revision (e.g. HEAD~3)")
	flag.BoolVar(&o.goTest, "gotest", true, "run the go test benchmarks")
	flag.IntVar(&o.listLeads, "list-leads", 10_000, "leads in dynalite for the staff list figure (0: leave it out)")
	flag.DurationVar(&o.listTime, "list-time", time.Minute, "stop each walk through the staff list after this long")
	flag.StringVar(&o.out, "json", filepath.Join("build", "bench.json"), "where to write the figures, relative to the module root")
	flag.StringVar(&o.lambdaSizes, "lambda", "128,256,512,1024", "memory sizes (MB) for the Lambda-like mode, whose CPU share is applied by a cgroup after init; \"off\" to leave it out")
	flag.IntVar(&o.lambdaRuns, "lambda-runs", 20, "cold processes per function and size in the Lambda-like mode")
	flag.IntVar(&o.lambdaWarm, "lambda-warm", 60, "warm invocations per function and size in the Lambda-like mode")
	flag.DurationVar(&o.lambdaPace, "lambda-pace", throttlePeriod, "idle time between the Lambda-like mode's warm invocations")
	flag.StringVar(&o.lambdaLevers, "lambda-levers", "", "measure the cold-start levers under the Lambda-like mode: \"all\" (also part of -levers) or some of h,i,f,j")
	flag.Parse()
	if o.before != "" {
		o.levers = true
	}
	if o.levers && o.lambdaLevers == "" {
		o.lambdaLevers = "all"
	}
	var err error
	if o.sizes, err = parseSizes(o.lambdaSizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	cleanUpOnSignal()
	err = run(o)
	runCleanups()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// target is a function under measurement.
type target struct {
	Name    string // baseline, contact, consultation, notify, staff
	Pkg     string // ./functions/contact
	Logical string // its logical ID in template.yaml
	Event   string // the sample event it is invoked with
	Kind    string // baseline, intake, notify, staff
}

var targets = []target{
	{"baseline", "./infra/bench/baseline", "", benchdata.ConsultationEvent, "baseline"},
	{"contact", "./functions/contact", "ContactFunction", benchdata.ContactEvent, "intake"},
	{"consultation", "./functions/consultation", "ConsultationFunction", benchdata.ConsultationEvent, "intake"},
	{"notify", "./functions/notify", "NotifyFunction", benchdata.StreamEvent, "notify"},
	{"staff", "./functions/staff", "StaffFunction", benchdata.StaffListEvent, "staff"},
}

func run(o options) error {
	began := time.Now()
	root, err := benchdata.Root()
	if err != nil {
		return err
	}
	b, err := newBuilder(root)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "leadpipe-bench-")
	if err != nil {
		return err
	}
	registerCleanup(func() { os.RemoveAll(work) })

	rep := &Report{
		GeneratedAt: began.UTC().Format(time.RFC3339),
		GoVersion:   b.goVersion(),
		Machine:     machine(),
		BuildFlags:  strings.Join(append(append([]string{}, b.build.Env...), b.build.Flags...), " "),
		Settings:    o,
		Run: Settings{
			ColdRuns: o.coldRuns, WarmN: o.warmN, WarmRounds: warmRounds, InitTraceRuns: o.initRuns,
			BenchTime: o.benchTime, TLS: o.useTLS, Levers: o.levers, Before: o.before,
		},
	}
	progress("building %d functions for linux/arm64 and linux/amd64 (%s)", len(targets), rep.GoVersion)
	var fns []*FunctionReport
	for _, t := range targets {
		fr := &FunctionReport{Name: t.Name, Package: t.Pkg, target: t, Size: map[string]Size{}}
		fns = append(fns, fr)
		for _, arch := range []string{"arm64", "amd64"} {
			bin := filepath.Join(root, "build", "bench", "bin", t.Name+"-"+arch, "bootstrap")
			if err := b.run(buildSpec{pkg: t.Pkg, goarch: arch, out: bin}); err != nil {
				fr.Error = firstLine(err.Error())
				progress("%s: build failed, left out: %v", t.Name, err)
				break
			}
			sz, _ := fileSize(bin)
			z, err := zipSize(bin)
			if err != nil {
				return err
			}
			fr.Size[arch] = Size{Binary: sz, Zip: z}
			if arch == runtime.GOARCH {
				fr.bin = bin
			}
		}
	}
	if fns[0].Error != "" {
		return fmt.Errorf("the baseline did not build: %s", fns[0].Error)
	}
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		return fmt.Errorf("the process measurements need linux/amd64 or linux/arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}

	env, err := newBenchEnv(root, work, o.useTLS)
	if err != nil {
		return err
	}
	defer env.close()
	rep.Stub = env.stub.url

	if err := measureProcesses(env, fns, o); err != nil {
		return err
	}
	rep.Functions = fns

	var lim *cpuLimiter
	if len(o.sizes) > 0 || o.lambdaLevers != "" {
		if lim, err = newCPULimiter(); err != nil {
			why := "no writable cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us): " + err.Error()
			progress("Lambda-like mode skipped: %s", why)
			rep.Lambda = &LambdaMode{Skipped: why}
			lim = nil
		} else if len(o.sizes) > 0 {
			if rep.Lambda, err = measureLambda(env, lim, fns, o); err != nil {
				return err
			}
		}
	}

	if o.goTest {
		progress("go test -bench (benchtime %s)", o.benchTime)
		rep.Benchmarks, err = runGoBench(b, o.benchTime)
		if err != nil {
			return err
		}
	}
	if o.listLeads > 0 {
		var staffFn *FunctionReport
		for _, f := range fns {
			if f.target.Kind == "staff" {
				staffFn = f
			}
		}
		if rep.StaffList, err = measureStaffList(env, staffFn, o); err != nil {
			return err
		}
	}
	rep.Costs, rep.StoragePerMonth = costs(env, fns)
	if rep.Lambda != nil && rep.Lambda.Skipped == "" {
		rep.Lambda.Costs = lambdaCosts(rep.Costs, rep.Lambda)
	}
	rep.Prices = priceList()
	rep.Notes = notes

	if o.levers {
		rep.Levers, err = measureLevers(b, env, fns, work, o)
		if err != nil {
			return err
		}
	}
	if o.lambdaLevers != "" && lim != nil {
		if rep.Levers == nil {
			rep.Levers = &Levers{}
		}
		if err := measureLambdaLevers(b, env, lim, rep.Levers, fns, work, o); err != nil {
			return err
		}
	}
	rep.Seconds = time.Since(began).Seconds()

	t := rep.table()
	t.write(os.Stdout)
	out := o.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(js, '\n'), 0o644); err != nil {
		return err
	}
	rel, _ := filepath.Rel(root, out)
	fmt.Printf("\nfigures written to %s (%.0f s)\n", rel, rep.Seconds)
	for _, f := range fns {
		if f.Error != "" {
			return fmt.Errorf("%s was not fully measured: %s", f.Name, f.Error)
		}
	}
	if rep.StaffList != nil {
		for _, w := range rep.StaffList.Walks {
			if len(w.Problems) > 0 {
				return fmt.Errorf("the staff list %s went wrong: %s", w.Query, strings.Join(w.Problems, "; "))
			}
		}
	}
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func machine() Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// notes go into the JSON with the figures.
var notes = []string{
	"Timings are of this machine (see machine), not of Lambda; compare functions with the baseline of the same run.",
	"Cold start is process start to the first invocation's response against a fake Runtime API on loopback; on Lambda the sandbox start adds to it for every function alike.",
	"Warm CPU per invocation is (process CPU after the Nth answer - after the first) / (N-1), from /proc/<pid>/task/*/schedstat (nanoseconds); cold CPU is the process's rusage.",
	"Peak RSS is VmHWM read from /proc just before the process is killed.",
	"The AWS stub answers at once; on AWS each call adds a network round trip, so billed durations there are higher.",
	"The stub answers GetItem with the requested key as the item (the lead exists, no marks yet: the notifier's normal path) and PutItem, UpdateItem with {}.",
	"Intake events get a new Idempotency-Key per invocation, so every invocation stores a new lead; the notifier gets the same stream record each time.",
	"Item sizes follow DynamoDB's rules (attribute names plus values) on the items the functions actually sent.",
	"The staff function is invoked with events/staff-list.json (GET /staff/leads, a staff member's claims); the stub answers its Query with a page of leads as the template's ByStatusQueue index projects them.",
	"The staff list figure runs the staff function's binary against dynalite (no TLS, no network) through a proxy that counts its DynamoDB calls; per-page times are the invocation's, from event handed over to response.",
}
