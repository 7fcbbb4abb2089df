package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
)

// Report is everything the bench measured; build/bench.json holds it.
type Report struct {
	GeneratedAt     string             `json:"generatedAt"`
	Seconds         float64            `json:"seconds"`
	GoVersion       string             `json:"goVersion"`
	Machine         Machine            `json:"machine"`
	BuildFlags      string             `json:"buildFlags"`
	Settings        options            `json:"-"`
	Run             Settings           `json:"settings"`
	Stub            string             `json:"awsStub"`
	Functions       []*FunctionReport  `json:"functions"`
	Benchmarks      []GoBench          `json:"benchmarks"`
	StaffList       *StaffList         `json:"staffList,omitempty"`
	Costs           []Cost             `json:"costPerMillionLeads"`
	StoragePerMonth map[string]float64 `json:"dynamoStoragePerMonthPerMillionLeadsUSD"`
	Prices          []string           `json:"prices"`
	Lambda          *LambdaMode        `json:"lambdaLike,omitempty"`
	Levers          *Levers            `json:"levers,omitempty"`
	Notes           []string           `json:"notes"`
}

// Settings are the bench's flags for this run.
type Settings struct {
	ColdRuns      int    `json:"coldRuns"`
	WarmN         int    `json:"warmInvocations"`
	WarmRounds    int    `json:"warmRounds"`
	InitTraceRuns int    `json:"inittraceRuns"`
	BenchTime     string `json:"benchtime"`
	TLS           bool   `json:"tls"`
	Levers        bool   `json:"levers"`
	Before        string `json:"before,omitempty"`
}

// Machine is where the figures were taken.
type Machine struct {
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	CPUs   int    `json:"cpus"`
	CPU    string `json:"cpu"`
}

// FunctionReport is one function's figures.
type FunctionReport struct {
	Name    string          `json:"name"`
	Package string          `json:"package"`
	Size    map[string]Size `json:"size"` // by GOARCH
	Cold    *Cold           `json:"coldStart,omitempty"`
	Warm    *Warm           `json:"warm,omitempty"`
	Init    *Init           `json:"packageInit,omitempty"`
	Error   string          `json:"error,omitempty"`

	target    target
	bin       string // the binary for this machine
	leadItem  map[string]any
	claimItem map[string]any
	update    map[string]any
}

// Size of the stripped bootstrap and of its zip.
type Size struct {
	Binary int64 `json:"binaryBytes"`
	Zip    int64 `json:"zipBytes"`
}

// Cold is process start to the first invocation's response.
type Cold struct {
	Runs        int     `json:"runs"`
	P50Ms       float64 `json:"p50Ms"`
	P90Ms       float64 `json:"p90Ms"`
	ReadyP50Ms  float64 `json:"readyP50Ms"`           // process start to its first GET /next
	FirstInvP50 float64 `json:"firstInvocationP50Ms"` // that first invocation, event handed over to response
	CPUP50Ms    float64 `json:"cpuP50Ms"`             // the process's CPU for all of it
	RSSP50Bytes int64   `json:"maxRssP50Bytes"`
	LogBytesP50 float64 `json:"logBytesP50"`
	Ratio       float64 `json:"ratioToBaseline"`
	Aim         string  `json:"aim"` // PASS: within 2x the baseline

	coldLogBytes []float64
}

// Warm is many invocations in one process.
type Warm struct {
	Invocations  int                `json:"invocations"`
	CPUPerInvUs  float64            `json:"cpuPerInvocationUs"`
	WallP50Us    float64            `json:"wallP50Us"`
	WallP99Us    float64            `json:"wallP99Us"`
	WallMeanUs   float64            `json:"wallMeanUs"`
	BilledMsMean float64            `json:"billedMsMean"`
	PeakRSSBytes int64              `json:"peakRssBytes"`
	LogBytesPer  float64            `json:"logBytesPerInvocation"`
	AWSCalls     map[string]float64 `json:"awsCallsPerInvocation"`
	NewConnsPer  float64            `json:"newConnectionsPerInvocation"` // TCP (and TLS) connections the function opened
	Ratio        float64            `json:"cpuRatioToBaseline"`
	Aim          string             `json:"aim"` // PASS: within 3x the baseline
}

// Init is GODEBUG=inittrace=1 summed over packages (median of the runs).
type Init struct {
	Runs     int       `json:"runs"`
	Packages int       `json:"packages"`
	ClockMs  float64   `json:"clockMs"`
	Bytes    int64     `json:"bytes"`
	Allocs   int64     `json:"allocs"`
	Slowest  []PkgInit `json:"slowest"`
}

// costs prices a million leads of each form.
func costs(env *benchEnv, fns []*FunctionReport) ([]Cost, map[string]float64) {
	byName := map[string]*FunctionReport{}
	for _, f := range fns {
		byName[f.Name] = f
	}
	notify := byName["notify"]
	gsis := leadIndexes(env)
	var out []Cost
	storage := map[string]float64{}
	for _, form := range []string{"contact", "consultation"} {
		f := byName[form]
		if f == nil || f.Warm == nil || f.leadItem == nil {
			continue
		}
		in := CostInput{
			Form:              form,
			IntakeMemoryMB:    env.memoryMB(f.target.Logical),
			NotifyMemoryMB:    env.memoryMB("NotifyFunction"),
			IntakeBilledMs:    f.Warm.BilledMsMean,
			LeadItemBytes:     itemSize(f.leadItem),
			ClaimItemBytes:    itemSize(f.claimItem),
			EmailsPerLead:     staffRecipients,
			LogBytesPerLead:   f.Warm.LogBytesPer,
			NotifyReadsPerRec: 1,
		}
		in.MarkedItemBytes = in.LeadItemBytes
		for _, g := range gsis {
			if hasAll(f.leadItem, g.keys) {
				in.LeadGSIs++
			}
			if hasAll(f.claimItem, g.keys) {
				in.ClaimGSIs++
			}
		}
		if notify != nil && notify.Warm != nil {
			in.NotifyMeasured = true
			in.NotifyBilledMs = notify.Warm.BilledMsMean
			in.LogBytesPerLead += notify.Warm.LogBytesPer
			in.NotifyReadsPerRec = int(math.Round(notify.Warm.AWSCalls["DynamoDB.GetItem"]))
			marked := f.leadItem
			for name, v := range setAttrs(notify.update) {
				in.MarkedItemBytes = sizeAfterSet(marked, name, v)
				for _, g := range gsis {
					if g.projectsAll && hasAll(f.leadItem, g.keys) {
						in.MarkUpdatesGSIs = true
					}
				}
			}
		}
		c := estimate(in)
		out = append(out, c)
		storage[form] = storagePerMonth(in)
	}
	return out, storage
}

type gsi struct {
	name        string
	keys        []string
	projectsAll bool
}

// leadIndexes reads the table's global secondary indexes from the template.
func leadIndexes(env *benchEnv) []gsi {
	in, err := env.tmpl.CreateTableInput("LeadsTable", "Leads")
	if err != nil {
		return nil
	}
	var out []gsi
	for _, g := range in.GlobalSecondaryIndexes {
		x := gsi{name: deref(g.IndexName)}
		for _, k := range g.KeySchema {
			x.keys = append(x.keys, deref(k.AttributeName))
		}
		if g.Projection != nil {
			x.projectsAll = string(g.Projection.ProjectionType) == "ALL"
		}
		out = append(out, x)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func hasAll(item map[string]any, keys []string) bool {
	if item == nil {
		return false
	}
	for _, k := range keys {
		if _, ok := item[k]; !ok {
			return false
		}
	}
	return true
}

// table lays the report out as the one table the bench prints.
func (r *Report) table() *table {
	t := &table{}
	fns := r.Functions
	names := []string{""}
	for _, f := range fns {
		names = append(names, f.Name)
	}
	perFn := func(label string, cell func(f *FunctionReport) string) {
		row := []string{label}
		for _, f := range fns {
			row = append(row, cell(f))
		}
		t.row(row...)
	}
	na := "—"

	t.section(fmt.Sprintf("leadpipe bench · %s · %s, %d CPUs · %s", r.GeneratedAt, r.Machine.CPU, r.Machine.CPUs, r.GoVersion))
	t.note("build: %s", r.BuildFlags)
	for _, f := range fns {
		if f.Error != "" {
			t.note("%s: %s", f.Name, f.Error)
		}
	}

	t.section("Size: stripped bootstrap; zip as sam build packages it")
	t.header(names...)
	for _, arch := range []string{"arm64", "amd64"} {
		perFn("linux/"+arch+" binary (MiB)", func(f *FunctionReport) string {
			if s, ok := f.Size[arch]; ok {
				return fmt.Sprintf("%.2f", mibf(s.Binary))
			}
			return na
		})
		perFn("linux/"+arch+" zip (MiB)", func(f *FunctionReport) string {
			if s, ok := f.Size[arch]; ok {
				return fmt.Sprintf("%.2f", mibf(s.Zip))
			}
			return na
		})
	}
	perFn("arm64 budget (functions/size_test.go)", func(f *FunctionReport) string {
		s, ok := f.Size["arm64"]
		limit := benchdata.SizeBudget(f.Name)
		switch {
		case !ok:
			return na
		case f.target.Kind == "baseline":
			return "floor"
		case s.Binary <= limit:
			return fmt.Sprintf("within %.1f", mibf(limit))
		}
		return fmt.Sprintf("OVER %.1f by %.2f", mibf(limit), mibf(s.Binary-limit))
	})

	t.section(fmt.Sprintf("Cold start: process start to first response, %d fresh processes each (%s, fake Runtime API, AWS stub over %s)", r.Settings.coldRuns, r.Machine.GOARCH, scheme(r.Stub)))
	t.header(names...)
	cold := func(label string, v func(c *Cold) string) {
		perFn(label, func(f *FunctionReport) string {
			if f.Cold == nil {
				return na
			}
			return v(f.Cold)
		})
	}
	cold("to first response p50 (ms)", func(c *Cold) string { return fmt.Sprintf("%.1f", c.P50Ms) })
	cold("to first response p90 (ms)", func(c *Cold) string { return fmt.Sprintf("%.1f", c.P90Ms) })
	cold("aim ≤2× baseline (ratio of p50)", func(c *Cold) string { return ratioCell(c.Ratio, c.Aim) })
	cold("  start to ready, first GET /next (ms, p50)", func(c *Cold) string { return fmt.Sprintf("%.1f", c.ReadyP50Ms) })
	cold("  first invocation itself (ms, p50)", func(c *Cold) string { return fmt.Sprintf("%.2f", c.FirstInvP50) })
	cold("CPU, start to first response (ms, p50)", func(c *Cold) string { return fmt.Sprintf("%.1f", c.CPUP50Ms) })
	cold("max RSS after first response (MiB, p50)", func(c *Cold) string { return fmt.Sprintf("%.1f", mibf(c.RSSP50Bytes)) })
	perFn("package init, inittrace sum (ms, median)", func(f *FunctionReport) string {
		if f.Init == nil {
			return na
		}
		return fmt.Sprintf("%.2f", f.Init.ClockMs)
	})
	perFn("package init allocations (KiB)", func(f *FunctionReport) string {
		if f.Init == nil {
			return na
		}
		return fmt.Sprintf("%.0f", float64(f.Init.Bytes)/1024)
	})
	perFn("slowest package init", func(f *FunctionReport) string {
		if f.Init == nil || len(f.Init.Slowest) == 0 {
			return na
		}
		s := f.Init.Slowest[0]
		return fmt.Sprintf("%s %.2f", lastTwo(s.Package), s.ClockMs)
	})

	t.section(fmt.Sprintf("Warm: up to %d invocations in one process (intake: each a new lead; staff: the sample list request)", r.Settings.warmN))
	t.header(names...)
	warm := func(label string, v func(w *Warm) string) {
		perFn(label, func(f *FunctionReport) string {
			if f.Warm == nil {
				return na
			}
			return v(f.Warm)
		})
	}
	warm("invocations measured", func(w *Warm) string { return fmt.Sprint(w.Invocations) })
	warm("CPU per invocation (µs)", func(w *Warm) string { return fmt.Sprintf("%.0f", w.CPUPerInvUs) })
	warm("aim ≤3× baseline (ratio)", func(w *Warm) string { return ratioCell(w.Ratio, w.Aim) })
	warm("wall p50 (µs)", func(w *Warm) string { return fmt.Sprintf("%.0f", w.WallP50Us) })
	warm("wall p99 (µs)", func(w *Warm) string { return fmt.Sprintf("%.0f", w.WallP99Us) })
	warm("billed per invocation (ms, mean)", func(w *Warm) string { return fmt.Sprintf("%.2f", w.BilledMsMean) })
	warm("peak RSS (MiB)", func(w *Warm) string { return fmt.Sprintf("%.1f", mibf(w.PeakRSSBytes)) })
	warm("log bytes per invocation", func(w *Warm) string { return fmt.Sprintf("%.0f", w.LogBytesPer) })
	warm("AWS calls per invocation", func(w *Warm) string { return callsCell(w.AWSCalls) })
	warm("new connections to AWS per invocation", func(w *Warm) string { return fmt.Sprintf("%.3f", w.NewConnsPer) })

	if len(r.Benchmarks) > 0 {
		t.section("Per-request work: go test -bench -benchmem on this machine (no network, no SDK serialisation)")
		t.header("benchmark", "time/op", "bytes/op", "allocs/op")
		for _, b := range r.Benchmarks {
			t.row(shortPkg(b.Package)+" "+b.Name, fmtNs(b.NsPerOp), fmt.Sprint(b.BytesPerOp), fmt.Sprint(b.AllocsPerOp))
		}
	}

	if sl := r.StaffList; sl != nil {
		t.section(fmt.Sprintf("Staff list: GET /staff/leads over %d leads in dynalite, every page by its cursor (staff binary, one warm process)", sl.Leads))
		hdr := []string{""}
		for _, w := range sl.Walks {
			hdr = append(hdr, w.Name)
		}
		t.header(hdr...)
		walk := func(label string, cell func(w ListWalk) string) {
			row := []string{label}
			for _, w := range sl.Walks {
				row = append(row, cell(w))
			}
			t.row(row...)
		}
		walk("pages", func(w ListWalk) string {
			if !w.Complete {
				return fmt.Sprintf("%d, stopped", w.Pages)
			}
			return fmt.Sprint(w.Pages)
		})
		walk("rows (distinct leads)", func(w ListWalk) string { return fmt.Sprintf("%d (%d)", w.Rows, w.Distinct) })
		walk("DynamoDB calls per page (counted)", func(w ListWalk) string { return callsCell(prefixed(w.CallsPerPage)) })
		walk("  most calls on one page", func(w ListWalk) string { return fmt.Sprint(w.MaxCalls) })
		walk("per page p50 (ms)", func(w ListWalk) string { return fmt.Sprintf("%.2f", w.P50Ms) })
		walk("per page p90 (ms)", func(w ListWalk) string { return fmt.Sprintf("%.2f", w.P90Ms) })
		walk("per page max (ms)", func(w ListWalk) string { return fmt.Sprintf("%.2f", w.MaxMs) })
		walk("first page, fresh process (ms; not above)", func(w ListWalk) string { return fmt.Sprintf("%.1f", w.FirstMs) })
		for _, w := range sl.Walks {
			t.note("%s: ?%s", w.Name, w.Query)
		}
		t.note("seeded with BatchWriteItem in %.1f s; every 20th lead in crisis (pinned first), every other a contact", sl.SeedSeconds)
		for _, w := range sl.Walks {
			for _, p := range w.Problems {
				t.note("PROBLEM %s: %s", w.Name, p)
			}
		}
	}

	if len(r.Costs) > 0 {
		t.section(fmt.Sprintf("Cost of 1,000,000 leads on AWS, USD (public prices: %s)", PricesAsOf))
		hdr := []string{"item"}
		for _, c := range r.Costs {
			hdr = append(hdr, c.Input.Form)
		}
		t.headerTail("per lead", hdr...)
		for i, l := range r.Costs[0].Lines {
			row := []string{l.Item}
			for _, c := range r.Costs {
				row = append(row, usd(c.Lines[i].USD))
			}
			t.rowTail(perLead(r.Costs, i), row...)
		}
		row := []string{"total"}
		for _, c := range r.Costs {
			row = append(row, usd(c.Total))
		}
		t.row(row...)
		row = []string{"each extra billed ms per invocation adds"}
		for _, c := range r.Costs {
			row = append(row, usd(c.PerExtraMs))
		}
		t.row(row...)
		row = []string{"storage while kept, per month"}
		for _, c := range r.Costs {
			row = append(row, usd(r.StoragePerMonth[c.Input.Form]))
		}
		t.rowTail("table + indexes", row...)
		for _, c := range r.Costs {
			in := c.Input
			t.note("%s: lead item %d B, claim %d B, lead after the notifier's mark %d B; the lead is in %d indexes (projection ALL), the claim in %d;",
				in.Form, in.LeadItemBytes, in.ClaimItemBytes, in.MarkedItemBytes, in.LeadGSIs, in.ClaimGSIs)
			t.note("  intake %d MB billed %.2f ms, notifier %d MB billed %.2f ms; %d email(s) per lead", in.IntakeMemoryMB, in.IntakeBilledMs, in.NotifyMemoryMB, in.NotifyBilledMs, in.EmailsPerLead)
			if !in.NotifyMeasured {
				t.note("  the notifier was not measured: its duration and its mark are missing from this total")
			}
		}
		for _, p := range priceList() {
			t.note("price: %s", p)
		}
		t.note("Durations are this machine's against a loopback stub: on Lambda every DynamoDB or SES call adds a network round trip")
		t.note("(milliseconds) and a 256 MB function has a fraction of a vCPU, so billed ms there are higher: see the extra-ms row.")
		t.note("The notifier is priced at one invocation per lead (stream batch size 1); larger batches cost less.")
	}

	if r.Lambda != nil {
		r.Lambda.table(t)
	}
	if r.Levers != nil {
		r.Levers.table(t)
	}
	return t
}

func scheme(url string) string {
	if strings.HasPrefix(url, "https") {
		return "TLS"
	}
	return "plain HTTP"
}

func ratioCell(ratio float64, aim string) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) || aim == "" {
		return "—"
	}
	return fmt.Sprintf("%.2f %s", ratio, aim)
}

func callsCell(calls map[string]float64) string {
	if len(calls) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		_, op, _ := strings.Cut(k, ".")
		parts = append(parts, fmt.Sprintf("%s×%g", op, math.Round(calls[k]*100)/100))
	}
	return strings.Join(parts, " ")
}

// prefixed names operations as the warm figures do ("DynamoDB.Query"),
// for callsCell.
func prefixed(calls map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(calls))
	for op, n := range calls {
		out["DynamoDB."+op] = n
	}
	return out
}

func perLead(cs []Cost, i int) string {
	var qs []string
	for _, c := range cs {
		l := c.Lines[i]
		q := l.Quantity / leadsInCostEstimate
		s := fmt.Sprintf("%.4g %s", q, l.Unit)
		if !slices.Contains(qs, s) {
			qs = append(qs, s)
		}
	}
	return strings.Join(qs, " / ")
}

func usd(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v != 0 && v < 0.1:
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func mibf(n int64) float64 { return float64(n) / (1 << 20) }

func shortPkg(p string) string {
	p = strings.TrimPrefix(p, "github.com/clinicleads/leadpipe/")
	p = strings.TrimPrefix(p, "github.com/")
	return p
}

// lastTwo shortens an import path to its last two elements.
func lastTwo(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}
