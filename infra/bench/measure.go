package main

import (
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"
)

const invokeTimeout = 10 * time.Second

// measureProcesses runs the cold, inittrace and warm measurements of every
// function that built. Cold runs go round-robin over the functions, so a
// slow spell of the machine hits all of them alike.
func measureProcesses(env *benchEnv, fns []*FunctionReport, o options) error {
	live := slices.DeleteFunc(slices.Clone(fns), func(f *FunctionReport) bool { return f.bin == "" })

	// Cold start. One unmeasured round first warms the page cache.
	progress("cold start: %d fresh processes per function", o.coldRuns)
	cold := map[string][]*procRun{}
	for r := -1; r < o.coldRuns; r++ {
		for _, f := range live {
			if f.Error != "" {
				continue
			}
			evs, err := env.eventsFor(f.target, fmt.Sprintf("cold%d", r), 1)
			if err != nil {
				return err
			}
			p, err := runProcess(f.bin, runOpts{
				env: env.processEnv(f.target), n: 1, timeout: invokeTimeout,
				events: func(int) []byte { return evs[0] }, check: check(f.target),
			})
			if err != nil {
				f.Error = "cold start: " + firstLine(err.Error())
				progress("%s: %v", f.Name, err)
				continue
			}
			if r >= 0 {
				cold[f.Name] = append(cold[f.Name], p)
			}
		}
	}
	for _, f := range live {
		if runs := cold[f.Name]; len(runs) > 0 {
			f.Cold = summarizeCold(runs)
		}
	}

	// Package init.
	progress("package init: %d processes per function with GODEBUG=inittrace=1", o.initRuns)
	for _, f := range live {
		if f.Error != "" {
			continue
		}
		var runs [][]PkgInit
		for r := 0; r < o.initRuns; r++ {
			evs, err := env.eventsFor(f.target, fmt.Sprintf("init%d", r), 1)
			if err != nil {
				return err
			}
			p, err := runProcess(f.bin, runOpts{
				env: append(env.processEnv(f.target), "GODEBUG=inittrace=1"), n: 1, timeout: invokeTimeout,
				events: func(int) []byte { return evs[0] }, check: check(f.target),
			})
			if err != nil {
				f.Error = "inittrace: " + firstLine(err.Error())
				break
			}
			runs = append(runs, parseInitTrace(p.stderr))
		}
		f.Init = summarizeInit(runs)
	}

	// Warm, in rounds that take turns over the functions.
	progress("warm: up to %d invocations per function in %d rounds (at most %s each)", o.warmN, warmRounds, o.warmTime)
	rounds := map[string][]*warmRound{}
	for r := 0; r < warmRounds; r++ {
		for _, f := range live {
			if f.Error != "" || f.Cold == nil {
				continue
			}
			w, err := measureWarm(env, f, f.bin, o.warmN/warmRounds+1, o.warmTime/warmRounds)
			if err != nil {
				f.Error = "warm: " + firstLine(err.Error())
				progress("%s: %v", f.Name, err)
				continue
			}
			rounds[f.Name] = append(rounds[f.Name], w)
		}
	}
	for _, f := range live {
		if rs := rounds[f.Name]; len(rs) > 0 && f.Error == "" {
			f.Warm = summarizeWarm(rs)
		}
	}

	// The aims, against the baseline of this run.
	base := fns[0]
	for _, f := range fns {
		if f.Cold != nil && base.Cold != nil && base.Cold.P50Ms > 0 {
			f.Cold.Ratio = f.Cold.P50Ms / base.Cold.P50Ms
			f.Cold.Aim = aim(f.Cold.Ratio, coldAim)
		}
		if f.Warm != nil && base.Warm != nil && base.Warm.CPUPerInvUs > 0 {
			f.Warm.Ratio = f.Warm.CPUPerInvUs / base.Warm.CPUPerInvUs
			f.Warm.Aim = aim(f.Warm.Ratio, warmAim)
		}
	}
	return nil
}

// The aims: cold start within 2x the empty function's, warm CPU per
// invocation within 3x. Shown, never asserted.
const (
	coldAim = 2.0
	warmAim = 3.0
)

// warmRounds is how many processes share a function's warm invocations.
const warmRounds = 4

func aim(ratio, limit float64) string {
	if ratio <= limit {
		return "PASS"
	}
	return "ABOVE"
}

func summarizeCold(runs []*procRun) *Cold {
	var total, ready, first, cpu, rss, logs []float64
	for _, p := range runs {
		total = append(total, ms(p.toFirstAnswer()))
		if !p.ready.IsZero() {
			ready = append(ready, ms(p.ready.Sub(p.start)))
		}
		first = append(first, ms(p.invs[0].answered.Sub(p.invs[0].sent)))
		cpu = append(cpu, ms(p.cpu()))
		rss = append(rss, float64(p.maxRSS()))
		logs = append(logs, float64(p.stdout))
	}
	return &Cold{
		Runs:         len(runs),
		P50Ms:        quantile(total, 0.5),
		P90Ms:        quantile(total, 0.9),
		ReadyP50Ms:   quantile(ready, 0.5),
		FirstInvP50:  quantile(first, 0.5),
		CPUP50Ms:     quantile(cpu, 0.5),
		RSSP50Bytes:  int64(quantile(rss, 0.5)),
		LogBytesP50:  quantile(logs, 0.5),
		coldLogBytes: logs,
	}
}

func summarizeInit(runs [][]PkgInit) *Init {
	if len(runs) == 0 {
		return nil
	}
	var sums, bytes, allocs []float64
	perPkg := map[string][]float64{}
	for _, r := range runs {
		s, b, a := 0.0, 0.0, 0.0
		for _, p := range r {
			s += p.ClockMs
			b += float64(p.Bytes)
			a += float64(p.Allocs)
			perPkg[p.Package] = append(perPkg[p.Package], p.ClockMs)
		}
		sums, bytes, allocs = append(sums, s), append(bytes, b), append(allocs, a)
	}
	in := &Init{Runs: len(runs), Packages: len(runs[0]), ClockMs: quantile(sums, 0.5), Bytes: int64(quantile(bytes, 0.5)), Allocs: int64(quantile(allocs, 0.5))}
	for pkg, xs := range perPkg {
		in.Slowest = append(in.Slowest, PkgInit{Package: pkg, ClockMs: quantile(xs, 0.5)})
	}
	sort.Slice(in.Slowest, func(i, j int) bool { return in.Slowest[i].ClockMs > in.Slowest[j].ClockMs })
	in.Slowest = in.Slowest[:min(5, len(in.Slowest))]
	return in
}

// warmRound is one warm process: n invocations, then killed.
type warmRound struct {
	walls, billed []float64 // per invocation after the first: µs, billed ms
	cpuMs         float64   // the process's CPU after its last answer minus after its first
	logBytes      float64   // stdout minus the cold processes' median
	rss           int64
	calls         map[string]int // AWS calls during the round
	invocations   int            // all of them, the first included
}

// measureWarm runs a round of up to n invocations in one process. CPU per
// invocation is the process's CPU after the last answer minus after the
// first, over the invocations after the first.
func measureWarm(env *benchEnv, f *FunctionReport, bin string, n int, maxTime time.Duration) (*warmRound, error) {
	evs, err := env.eventsFor(f.target, fmt.Sprintf("warm%d", time.Now().UnixNano()), n)
	if err != nil {
		return nil, err
	}
	before := env.stub.snapshot()
	p, err := runProcess(bin, runOpts{
		env: env.processEnv(f.target), n: n, maxTime: maxTime, timeout: invokeTimeout,
		events: func(i int) []byte { return evs[i] }, check: check(f.target),
	})
	if err != nil {
		return nil, err
	}
	after := env.stub.snapshot()
	if len(p.invs) < 2 {
		return nil, fmt.Errorf("only %d invocations", len(p.invs))
	}
	f.leadItem, f.claimItem, f.update = env.stub.item("lead"), env.stub.item("claim"), env.stub.lastUpdate()
	w := &warmRound{
		cpuMs:       ms(p.cpuAfterLast - p.cpuAfterFirst),
		logBytes:    float64(p.stdout) - quantile(f.Cold.coldLogBytes, 0.5),
		rss:         p.maxRSS(),
		calls:       map[string]int{},
		invocations: len(p.invs),
	}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			w.calls[k] = d
		}
	}
	for _, inv := range p.invs[1:] {
		d := ms(inv.answered.Sub(inv.sent))
		w.walls = append(w.walls, d*1000)
		w.billed = append(w.billed, billedMs(d))
	}
	return w, nil
}

// summarizeWarm pools rounds.
func summarizeWarm(rounds []*warmRound) *Warm {
	var walls, billed []float64
	var cpu, logs float64
	var rss int64
	calls := map[string]int{}
	all := 0
	for _, r := range rounds {
		walls = append(walls, r.walls...)
		billed = append(billed, r.billed...)
		cpu += r.cpuMs
		logs += r.logBytes
		rss = max(rss, r.rss)
		all += r.invocations
		for k, v := range r.calls {
			calls[k] += v
		}
	}
	k := float64(len(walls))
	per := map[string]float64{}
	for op, v := range calls {
		if op != "connections" && !strings.HasSuffix(op, ".GET /") { // the warm-up's, once per process
			per[op] = float64(v) / float64(all)
		}
	}
	return &Warm{
		Invocations:  len(walls),
		CPUPerInvUs:  cpu * 1000 / k,
		WallP50Us:    quantile(walls, 0.5),
		WallP99Us:    quantile(walls, 0.99),
		WallMeanUs:   mean(walls),
		BilledMsMean: mean(billed),
		PeakRSSBytes: rss,
		LogBytesPer:  logs / k,
		AWSCalls:     per,
		NewConnsPer:  float64(calls["connections"]) / float64(all),
	}
}

// runGoBench runs the per-request benchmarks and parses their output.
func runGoBench(b *builder, benchtime string) ([]GoBench, error) {
	pkgs := []string{"./internal/httpapi", "./internal/lead", "./internal/dynamo", "./internal/sesmail", "./internal/intake"}
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.root
	cmd.Env = b.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	res := parseGoBench(out)
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench printed no results:\n%s", out)
	}
	return res, nil
}
