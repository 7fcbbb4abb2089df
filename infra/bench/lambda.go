package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LambdaMode is the functions measured as Lambda runs them: init with the
// whole machine, then, from the first GET /invocation/next on, the CPU
// share of a memory size (1,769 MB is one vCPU), enforced per 100 ms
// period by a cgroup. Each size is measured beside the whole core, all
// functions and the empty baseline in the same interleaved rounds.
type LambdaMode struct {
	Applied    string           `json:"applied,omitempty"` // how the limit was applied
	Skipped    string           `json:"skipped,omitempty"` // why the mode did not run
	PeriodMs   float64          `json:"throttlePeriodMs"`
	Runs       int              `json:"coldRunsPerSize"`
	WarmN      int              `json:"warmInvocationsPerSize"`
	PaceMs     float64          `json:"warmPaceMs"`
	TemplateMB int              `json:"templateMemoryMB"`
	Sizes      []int            `json:"memorySizesMB"`
	Functions  []LambdaFunction `json:"functions"`
	Costs      []SizeCost       `json:"costBySize,omitempty"`
	Aims       []Aim            `json:"aims,omitempty"`
}

// LambdaFunction is one function's figures at each size.
type LambdaFunction struct {
	Name    string          `json:"name"`
	Figures []*ShareFigures `json:"figures"` // whole core first, then Sizes
}

// ShareFigures are a function's figures at one CPU share.
type ShareFigures struct {
	MemoryMB int     `json:"memoryMB"` // 0: a whole core, no limit
	SharePct float64 `json:"sharePercent"`
	ColdRuns int     `json:"coldRuns"`
	// Init is process start to its first GET /invocation/next (unlimited,
	// as Lambda's init phase); first invocation is event handed over to
	// response, under the limit.
	InitP50Ms  float64 `json:"initP50Ms"`
	InitP90Ms  float64 `json:"initP90Ms"`
	FirstP50Ms float64 `json:"firstInvocationP50Ms"`
	FirstP90Ms float64 `json:"firstInvocationP90Ms"`
	FirstMaxMs float64 `json:"firstInvocationMaxMs"`
	// FirstCPUP50Ms is the process's CPU time during its first invocation.
	FirstCPUP50Ms float64 `json:"firstInvocationCpuP50Ms"`
	// FirstThrottled counts cold runs whose cgroup ran out of quota during
	// the first invocation.
	FirstThrottled int `json:"firstInvocationsThrottled"`
	// Warm invocations come one at a time with an idle pace between them
	// (a clinic's forms arrive far apart), after the process's first.
	WarmN         int     `json:"warmInvocations"`
	WarmP50Ms     float64 `json:"warmP50Ms"`
	WarmP99Ms     float64 `json:"warmP99Ms"`
	WarmMaxMs     float64 `json:"warmMaxMs"`
	WarmBilledMs  float64 `json:"warmBilledMsMean"`
	WarmThrottled int     `json:"warmPeriodsThrottled"`
	// Burst invocations come back to back, as in a flood of submissions:
	// the share then caps throughput, and waits for the next period show.
	BurstN         int     `json:"burstInvocations"`
	BurstP50Ms     float64 `json:"burstP50Ms"`
	BurstP99Ms     float64 `json:"burstP99Ms"`
	BurstCPUUs     float64 `json:"burstCpuPerInvocationUs"`
	BurstThrottled int     `json:"burstPeriodsThrottled"`
}

// shareRuns is how much of each measurement a case gets.
type shareRuns struct {
	cold  int           // fresh processes
	warm  int           // paced invocations in one process
	burst int           // back-to-back invocations in one process
	pace  time.Duration // idle time between the paced ones
}

// SizeCost is what a million leads cost with every function at one size,
// from the warm billed durations measured at that size.
type SizeCost struct {
	MemoryMB       int     `json:"memoryMB"`
	Form           string  `json:"form"`
	IntakeBilledMs float64 `json:"intakeBilledMs"`
	NotifyBilledMs float64 `json:"notifyBilledMs"`
	LambdaUSD      float64 `json:"lambdaUSD"` // requests and duration, intake and notifier
	TotalUSD       float64 `json:"totalUSD"`
	PerExtraMs     float64 `json:"perExtraBilledMsUSD"`
}

// Aim is one of the aims at the template's memory size: reported,
// never asserted.
type Aim struct {
	What   string  `json:"what"`
	Value  float64 `json:"value"`
	Limit  float64 `json:"limit"`
	Unit   string  `json:"unit"`
	Result string  `json:"result"` // PASS or ABOVE
}

// shareCase is one thing to measure at one size: a function's binary (or
// a variant of it, with env added), at memoryMB (0: a whole core).
type shareCase struct {
	t        target
	bin      string
	env      []string
	memoryMB int
}

// parseSizes reads -lambda: memory sizes in MB, "" or "off" for none.
func parseSizes(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 128 || n > 10240 {
			return nil, fmt.Errorf("-lambda: %q is not a Lambda memory size (128 to 10240 MB)", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// measureLambda runs the Lambda-like mode for every function that built.
func measureLambda(env *benchEnv, lim *cpuLimiter, fns []*FunctionReport, o options) (*LambdaMode, error) {
	lm := &LambdaMode{
		PeriodMs:   ms(throttlePeriod),
		Runs:       o.lambdaRuns,
		WarmN:      o.lambdaWarm,
		PaceMs:     ms(o.lambdaPace),
		TemplateMB: env.memoryMB("ContactFunction"),
		Sizes:      o.sizes,
		Applied:    lim.describe(),
	}
	var cases []shareCase
	for _, f := range fns {
		if f.bin == "" || f.Error != "" {
			continue
		}
		lm.Functions = append(lm.Functions, LambdaFunction{Name: f.Name})
		for _, mb := range append([]int{0}, o.sizes...) {
			cases = append(cases, shareCase{t: f.target, bin: f.bin, memoryMB: mb})
		}
	}
	progress("Lambda-like mode (%s): %d cold runs and %d warm invocations (%s apart) per function at whole core and %v MB",
		lim.describe(), o.lambdaRuns, o.lambdaWarm, o.lambdaPace, o.sizes)
	figs, err := measureShares(env, lim, cases, shareRuns{cold: o.lambdaRuns, warm: o.lambdaWarm, burst: o.lambdaWarm, pace: o.lambdaPace})
	if err != nil {
		return nil, err
	}
	for i, fig := range figs {
		for k := range lm.Functions {
			if lm.Functions[k].Name == cases[i].t.Name {
				lm.Functions[k].Figures = append(lm.Functions[k].Figures, fig)
			}
		}
	}
	lm.Aims = lambdaAims(lm)
	return lm, nil
}

// measureShares measures each case: cold processes in rounds that take
// turns over the cases (one unmeasured round first), so a slow spell of
// the machine hits all of them alike; then one paced and one back-to-back
// warm process per case.
func measureShares(env *benchEnv, lim *cpuLimiter, cases []shareCase, n shareRuns) ([]*ShareFigures, error) {
	opts := func(c shareCase, count int) runOpts {
		ro := runOpts{
			env: append(append(env.processEnv(c.t), c.env...), memoryEnv(c.memoryMB)...),
			n:   count, timeout: invokeTimeout, check: check(c.t),
		}
		if c.memoryMB > 0 {
			ro.limiter, ro.share = lim, shareOf(c.memoryMB)
		}
		return ro
	}
	out := make([]*ShareFigures, len(cases))
	for i, c := range cases {
		out[i] = &ShareFigures{MemoryMB: c.memoryMB}
		if c.memoryMB > 0 {
			out[i].SharePct = 100 * shareOf(c.memoryMB)
		}
	}
	cold := make([][]*procRun, len(cases))
	for r := -1; r < n.cold && n.cold > 0; r++ {
		for i, c := range cases {
			evs, err := env.eventsFor(c.t, fmt.Sprintf("share%d-%d", i, r), 1)
			if err != nil {
				return nil, err
			}
			ro := opts(c, 1)
			ro.events = func(int) []byte { return evs[0] }
			p, err := runProcess(c.bin, ro)
			if err != nil {
				return nil, fmt.Errorf("%s at %s: %w", c.t.Name, sizeName(c.memoryMB), err)
			}
			if r >= 0 {
				cold[i] = append(cold[i], p)
			}
		}
	}
	for i := range cases {
		fig := out[i]
		fig.ColdRuns = len(cold[i])
		if fig.ColdRuns == 0 {
			continue
		}
		var init, first, cpu []float64
		for _, p := range cold[i] {
			init = append(init, ms(p.ready.Sub(p.start)))
			first = append(first, ms(p.invs[0].answered.Sub(p.invs[0].sent)))
			cpu = append(cpu, ms(p.cpuAfterFirst-p.cpuAtReady))
			if p.throttle.Throttled > 0 {
				fig.FirstThrottled++
			}
		}
		fig.InitP50Ms, fig.InitP90Ms = quantile(init, 0.5), quantile(init, 0.9)
		fig.FirstP50Ms, fig.FirstP90Ms = quantile(first, 0.5), quantile(first, 0.9)
		fig.FirstMaxMs = slices.Max(first)
		fig.FirstCPUP50Ms = quantile(cpu, 0.5)
	}
	// warm runs count invocations after the process's first, k of them.
	warm := func(i int, c shareCase, k int, pace time.Duration) (*procRun, []float64, error) {
		evs, err := env.eventsFor(c.t, fmt.Sprintf("sharewarm%d-%d", i, time.Now().UnixNano()), k+1)
		if err != nil {
			return nil, nil, err
		}
		ro := opts(c, k+1)
		ro.events = func(j int) []byte { return evs[j] }
		ro.pace = pace
		p, err := runProcess(c.bin, ro)
		if err != nil {
			return nil, nil, fmt.Errorf("%s warm at %s: %w", c.t.Name, sizeName(c.memoryMB), err)
		}
		var walls []float64
		for _, inv := range p.invs[1:] {
			walls = append(walls, ms(inv.answered.Sub(inv.sent)))
		}
		return p, walls, nil
	}
	for i, c := range cases {
		fig := out[i]
		if n.warm >= 1 {
			p, walls, err := warm(i, c, n.warm, n.pace)
			if err != nil {
				return nil, err
			}
			var billed []float64
			for _, w := range walls {
				billed = append(billed, billedMs(w))
			}
			fig.WarmN = len(walls)
			fig.WarmP50Ms, fig.WarmP99Ms, fig.WarmMaxMs = quantile(walls, 0.5), quantile(walls, 0.99), slices.Max(walls)
			fig.WarmBilledMs = mean(billed)
			fig.WarmThrottled = int(p.throttle.Throttled)
		}
		if n.burst >= 1 {
			p, walls, err := warm(i, c, n.burst, 0)
			if err != nil {
				return nil, err
			}
			fig.BurstN = len(walls)
			fig.BurstP50Ms, fig.BurstP99Ms = quantile(walls, 0.5), quantile(walls, 0.99)
			fig.BurstCPUUs = float64((p.cpuAfterLast - p.cpuAfterFirst).Microseconds()) / float64(len(walls))
			fig.BurstThrottled = int(p.throttle.Throttled)
		}
	}
	return out, nil
}

// memoryEnv is what Lambda tells a function of its memory size.
func memoryEnv(mb int) []string {
	if mb == 0 {
		return nil
	}
	return []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(mb)}
}

func sizeName(mb int) string {
	if mb == 0 {
		return "whole core"
	}
	return fmt.Sprintf("%d MB", mb)
}

// figure returns a function's figures at mb, or nil.
func (lm *LambdaMode) figure(name string, mb int) *ShareFigures {
	for _, f := range lm.Functions {
		if f.Name == name {
			for _, fig := range f.Figures {
				if fig.MemoryMB == mb {
					return fig
				}
			}
		}
	}
	return nil
}

// The aims at the template's memory size.
const (
	coldShareAim  = 2.0 // contact's init p50 + first invocation p90, against the empty function's
	warmP99AimMs  = 10.0
	firstMaxAimMs = 100.0 // one throttle period
)

func lambdaAims(lm *LambdaMode) []Aim {
	mb := lm.TemplateMB
	c, b := lm.figure("contact", mb), lm.figure("baseline", mb)
	if c == nil || b == nil {
		return nil
	}
	verdict := func(v, limit float64) string {
		if v <= limit {
			return "PASS"
		}
		return "ABOVE"
	}
	var aims []Aim
	ratio := (c.InitP50Ms + c.FirstP90Ms) / (b.InitP50Ms + b.FirstP90Ms)
	aims = append(aims, Aim{What: fmt.Sprintf("contact init p50 + first invocation p90 (%.1f ms), against the empty function's (%.1f ms)",
		c.InitP50Ms+c.FirstP90Ms, b.InitP50Ms+b.FirstP90Ms), Value: ratio, Limit: coldShareAim, Unit: "×", Result: verdict(ratio, coldShareAim)})
	if c.WarmN > 0 {
		aims = append(aims, Aim{What: "contact warm p99", Value: c.WarmP99Ms, Limit: warmP99AimMs, Unit: "ms", Result: verdict(c.WarmP99Ms, warmP99AimMs)})
	}
	worst, who := 0.0, ""
	for _, f := range lm.Functions {
		if fig := lm.figure(f.Name, mb); fig != nil && fig.FirstMaxMs > worst {
			worst, who = fig.FirstMaxMs, f.Name
		}
	}
	aims = append(aims, Aim{What: fmt.Sprintf("slowest first invocation of any function (%s)", who), Value: worst, Limit: firstMaxAimMs, Unit: "ms", Result: verdict(worst, firstMaxAimMs)})
	return aims
}

// lambdaCosts prices a million leads with every function at each size,
// from base (the whole-core estimate: items, calls, logs) and the warm
// billed durations measured at that size.
func lambdaCosts(base []Cost, lm *LambdaMode) []SizeCost {
	var out []SizeCost
	for _, mb := range lm.Sizes {
		notify := lm.figure("notify", mb)
		for _, c := range base {
			intake := lm.figure(c.Input.Form, mb)
			if intake == nil || intake.WarmN == 0 {
				continue
			}
			in := c.Input
			in.IntakeMemoryMB, in.NotifyMemoryMB = mb, mb
			in.IntakeBilledMs = intake.WarmBilledMs
			if notify != nil && notify.WarmN > 0 {
				in.NotifyBilledMs = notify.WarmBilledMs
			}
			e := estimate(in)
			sc := SizeCost{MemoryMB: mb, Form: in.Form, IntakeBilledMs: in.IntakeBilledMs, NotifyBilledMs: in.NotifyBilledMs,
				TotalUSD: e.Total, PerExtraMs: e.PerExtraMs}
			for _, l := range e.Lines {
				if strings.HasPrefix(l.Item, "Lambda") {
					sc.LambdaUSD += l.USD
				}
			}
			out = append(out, sc)
		}
	}
	return out
}

// table adds the mode to the bench's table.
func (lm *LambdaMode) table(t *table) {
	if lm.Skipped != "" {
		t.section("Lambda-like mode: skipped")
		t.note("%s", lm.Skipped)
		return
	}
	t.section(fmt.Sprintf("Lambda-like: init with the whole machine, then from the first GET /next the CPU share of the memory size (1,769 MB = 1 vCPU; %s)", lm.Applied))
	names := []string{""}
	for _, f := range lm.Functions {
		names = append(names, f.Name)
	}
	t.header(names...)
	na := "—"
	row := func(mb int, label string, cell func(f *ShareFigures) string) {
		r := []string{label}
		for _, f := range lm.Functions {
			if fig := lm.figure(f.Name, mb); fig != nil {
				r = append(r, cell(fig))
			} else {
				r = append(r, na)
			}
		}
		t.row(r...)
	}
	for _, mb := range append([]int{0}, lm.Sizes...) {
		head := "whole core"
		if mb > 0 {
			head = fmt.Sprintf("%d MB (%.1f %%)", mb, 100*shareOf(mb))
			if mb == lm.TemplateMB {
				head += " template"
			}
		}
		row(mb, head+": init p50 / p90 (ms)", func(f *ShareFigures) string { return fmt.Sprintf("%.1f / %.1f", f.InitP50Ms, f.InitP90Ms) })
		row(mb, "  first invocation p50 / p90 / max (ms)", func(f *ShareFigures) string {
			return fmt.Sprintf("%.1f / %.1f / %.0f", f.FirstP50Ms, f.FirstP90Ms, f.FirstMaxMs)
		})
		if mb > 0 {
			row(mb, "  first invocations throttled", func(f *ShareFigures) string { return fmt.Sprintf("%d of %d", f.FirstThrottled, f.ColdRuns) })
		}
		row(mb, "  first invocation CPU p50 (ms)", func(f *ShareFigures) string { return fmt.Sprintf("%.1f", f.FirstCPUP50Ms) })
		row(mb, fmt.Sprintf("  warm p50 / p99 (ms, one per %.0f ms)", lm.PaceMs), func(f *ShareFigures) string {
			if f.WarmN == 0 {
				return na
			}
			return fmt.Sprintf("%.2f / %.2f", f.WarmP50Ms, f.WarmP99Ms)
		})
		row(mb, "  burst p50 / p99 (ms, back to back)", func(f *ShareFigures) string {
			if f.BurstN == 0 {
				return na
			}
			return fmt.Sprintf("%.2f / %.1f", f.BurstP50Ms, f.BurstP99Ms)
		})
		if mb > 0 {
			row(mb, "  periods throttled: warm / burst", func(f *ShareFigures) string { return fmt.Sprintf("%d / %d", f.WarmThrottled, f.BurstThrottled) })
		}
	}
	t.note("%d cold processes per function and size, in rounds over all of them; init is process start to the first GET /next (not limited), the first", lm.Runs)
	t.note("invocation is event handed over to response (limited); warm: %d invocations in one process, %.0f ms idle between them, after its first;", lm.WarmN, lm.PaceMs)
	t.note("burst: as many back to back in another process, as in a flood of submissions, where the share caps throughput.")
	for _, a := range lm.Aims {
		t.note("aim at the template's %d MB: %s: %.2f %s (≤ %g) %s", lm.TemplateMB, a.What, a.Value, a.Unit, a.Limit, a.Result)
	}
	if len(lm.Costs) > 0 {
		t.section("Memory size: a million leads at each size (every function at that size; warm billed ms measured above)")
		t.header("size", "form", "intake billed ms", "notifier billed ms", "Lambda $", "total $", "+1 ms each $")
		for _, c := range lm.Costs {
			t.row(fmt.Sprintf("%d MB", c.MemoryMB), c.Form, fmt.Sprintf("%.2f", c.IntakeBilledMs), fmt.Sprintf("%.2f", c.NotifyBilledMs),
				usd(c.LambdaUSD), usd(c.TotalUSD), usd(c.PerExtraMs))
		}
		t.note("On AWS each DynamoDB or SES call adds a network round trip that is billed too (the stub answers at once): the +1 ms column prices it.")
	}
}
