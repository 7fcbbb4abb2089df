package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// defaultConfigModule is the config module the LoadDefaultConfig variant is
// built with (through a temporary -modfile: the module itself does not
// require it). Pinned, so the figure is reproducible.
const defaultConfigModule = "github.com/aws/aws-sdk-go-v2/config@v1.33.18"

// Levers are the before/after measurements of what keeps the functions near
// the floor. "Production" is the function as the repository builds it;
// "variant" is the change.
type Levers struct {
	Rows  []LeverRow `json:"rows"`
	DCE   []DCE      `json:"deadCodeElimination"`
	Notes []string   `json:"notes"`
}

// LeverRow is one figure of one lever.
type LeverRow struct {
	Lever      string  `json:"lever"`
	Metric     string  `json:"metric"`
	Production float64 `json:"production"`
	Variant    float64 `json:"variant"`
	Unit       string  `json:"unit"`
	VariantIs  string  `json:"variantIs"`
}

// DCE is what defeats the linker's dead-code elimination in a function.
type DCE struct {
	Function string `json:"function"`
	// ReflectMethodCallers are the functions that look methods up by a name
	// known only at run time; any one of them makes the linker keep every
	// exported method of every type converted to an interface.
	ReflectMethodCallers []string `json:"reflectMethodCallers"`
	// ClientsInInterfaces are SDK clients converted to an interface value,
	// whose every operation is therefore kept.
	ClientsInInterfaces []string `json:"clientsInInterfaces"`
}

func (l *Levers) add(lever, metric, unit, variantIs string, production, variant float64) {
	l.Rows = append(l.Rows, LeverRow{Lever: lever, Metric: metric, Production: production, Variant: variant, Unit: unit, VariantIs: variantIs})
}

func (l *Levers) note(format string, args ...any) {
	l.Notes = append(l.Notes, fmt.Sprintf(format, args...))
	progress("levers: "+format, args...)
}

// beforeValidator is the validator release with the run-time
// MethodByName (its validateFn tag) that defeated dead-code elimination;
// the project moved to v10.26.0 to avoid it.
const beforeValidator = "github.com/go-playground/validator/v10@v10.30.6"

func measureLevers(b *builder, env *benchEnv, fns []*FunctionReport, work string, o options) (*Levers, error) {
	l := &Levers{}
	byName := map[string]*FunctionReport{}
	for _, f := range fns {
		byName[f.Name] = f
	}
	cons, notify := byName["consultation"], byName["notify"]
	if cons == nil || cons.bin == "" || cons.Cold == nil || cons.Warm == nil {
		return nil, errors.New("levers need the consultation function measured")
	}
	dir := filepath.Join(work, "levers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	runs := max(10, o.coldRuns*2/3)
	nWarm := min(o.warmN, 1000)
	bin := func(name, arch string) string { return filepath.Join(dir, name+"-"+arch, "bootstrap") }
	size := func(s buildSpec) (Size, error) {
		if err := b.run(s); err != nil {
			return Size{}, err
		}
		n, err := fileSize(s.out)
		if err != nil {
			return Size{}, err
		}
		z, err := zipSize(s.out)
		return Size{Binary: n, Zip: z}, err
	}
	// sizeWith builds pkg for arm64 with source edits, or notes why not.
	sizeWith := func(lever, name, pkg, is string, prod Size, editors ...func(string) (edit, error)) {
		var edits []edit
		for _, ed := range editors {
			e, err := ed(b.root)
			if err != nil {
				l.note("%s: %s not measured: %v", lever, is, err)
				return
			}
			edits = append(edits, e)
		}
		ov, err := writeOverlay(b.root, dir, name, edits...)
		if err == nil {
			var s Size
			if s, err = size(buildSpec{pkg: pkg, goarch: "arm64", extra: []string{"-overlay", ov}, out: bin(name, "arm64")}); err == nil {
				l.add(lever, filepath.Base(pkg)+" arm64 binary", "MiB", is, mibf(prod.Binary), mibf(s.Binary))
				return
			}
		}
		l.note("%s: %s did not build: %v", lever, is, firstLine(err.Error()))
	}
	prodSize := cons.Size["arm64"]

	// (d) Build flags.
	progress("levers: build flags")
	ldflags := ""
	for _, f := range b.build.Flags {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok {
			ldflags = v
		}
	}
	without := func(drop ...string) []string {
		out := []string{}
		for i := 0; i < len(b.build.Flags); i++ {
			f := b.build.Flags[i]
			switch {
			case slices.Contains(drop, "-tags") && f == "-tags":
				i++ // and its value
			case slices.Contains(drop, "-s -w") && strings.HasPrefix(f, "-ldflags="):
				out = append(out, "-ldflags=-buildid=")
			case slices.Contains(drop, f):
			default:
				out = append(out, f)
			}
		}
		return out
	}
	for _, v := range []struct {
		name, is string
		flags    []string
	}{
		{"flags-plain", "plain go build (no -trimpath, -ldflags or tags)", []string{}},
		{"flags-nostrip", "without -ldflags '-s -w'", without("-s -w")},
		{"flags-notrimpath", "without -trimpath", without("-trimpath")},
		{"flags-rpc", "without -tags lambda.norpc", without("-tags")},
	} {
		s, err := size(buildSpec{pkg: cons.Package, goarch: "arm64", flags: v.flags, out: bin(v.name, "arm64")})
		if err != nil {
			return nil, err
		}
		l.add("(d) build flags", "consultation arm64 binary", "MiB", v.is, mibf(prodSize.Binary), mibf(s.Binary))
		l.add("(d) build flags", "consultation arm64 zip", "MiB", v.is, mibf(prodSize.Zip), mibf(s.Zip))
	}

	// (e) Dead-code elimination: what defeats it now, what it cost before
	// the levers were taken, and what is left to take.
	progress("levers: dead-code elimination")
	for _, f := range fns {
		if f.target.Kind == "baseline" || f.bin == "" {
			continue
		}
		d, err := dumpDep(b, f.target.Pkg, ldflags, bin("dumpdep-"+f.Name, "arm64"))
		if err != nil {
			return nil, err
		}
		d.Function = f.Name
		l.DCE = append(l.DCE, d)
	}
	const e = "(e) dead code"
	iface, err := size(buildSpec{pkg: "./infra/bench/testdata/variants/iface", goarch: "arm64", out: bin("iface", "arm64")})
	if err != nil {
		return nil, err
	}
	l.add(e, "consultation arm64 binary", "MiB", "DynamoDB client stored in the interface (before dynamo.ClientAPI)", mibf(prodSize.Binary), mibf(iface.Binary))
	if mf, err := tempModfile(b, dir, "modfile-validator", beforeValidator); err != nil {
		l.note("%s: %s not measured: %v", e, beforeValidator, err)
	} else {
		for _, v := range []struct{ name, pkg, is string }{
			{"validator-before", cons.Package, "validator v10.30.6 (run-time MethodByName)"},
			{"validator-before-iface", "./infra/bench/testdata/variants/iface", "validator v10.30.6 and the client in the interface"},
		} {
			s, err := size(buildSpec{pkg: v.pkg, goarch: "arm64", extra: []string{"-modfile", mf}, out: bin(v.name, "arm64")})
			if err != nil {
				return nil, err
			}
			l.add(e, "consultation arm64 binary", "MiB", v.is, mibf(prodSize.Binary), mibf(s.Binary))
		}
	}
	sizeWith(e, "consultation-novalidator", cons.Package, "no go-playground/validator (size probe: a stand-in validator)", prodSize, editNoValidator)
	if notify != nil && notify.bin != "" {
		ns := notify.Size["arm64"]
		sizeWith(e, "notify-iface", notify.Package, "SDK clients stored in interfaces (before ClientAPI, SendEmailFunc)", ns, editNotifyClientsInInterfaces)
		sizeWith(e, "notify-notemplates", notify.Package, "emails without html/template, text/template (size probe)", ns, editNoEmailTemplates)
		sizeWith(e, "notify-novalidator", notify.Package, "validator not linked (size probe: lead without it)", ns, editNoValidator)
		sizeWith(e, "notify-notzdata", notify.Package, "without the embedded time/tzdata", ns, editNoTZData)
		sizeWith(e, "notify-novalidator-notzdata", notify.Package, "validator not linked, no time/tzdata", ns, editNoValidator, editNoTZData)
	}
	probe := map[string]Size{}
	for _, p := range []string{"ddb", "ddbreflect", "ddbvalidator", "ddbtemplate"} {
		s, err := size(buildSpec{pkg: "./infra/bench/testdata/probes/" + p, goarch: "arm64", out: bin("probe-"+p, "arm64")})
		if err != nil {
			return nil, err
		}
		probe[p] = s
	}
	base := mibf(probe["ddb"].Binary)
	const pm = "probe: lambda + DynamoDB PutItem, arm64"
	l.add(e, pm, "MiB", "plus one reflect MethodByName(name known at run time)", base, mibf(probe["ddbreflect"].Binary))
	l.add(e, pm, "MiB", "plus the validator (as in go.mod), used once", base, mibf(probe["ddbvalidator"].Binary))
	l.add(e, pm, "MiB", "plus html/template, used once", base, mibf(probe["ddbtemplate"].Binary))

	// (a) aws.Config by hand against config.LoadDefaultConfig, in one
	// module graph: both built with the same temporary -modfile.
	progress("levers: aws.Config (%s)", defaultConfigModule)
	if mf, err := tempModfile(b, dir, "modfile-config", defaultConfigModule); err != nil {
		l.note("(a) LoadDefaultConfig not measured (the module proxy is needed for %s): %v", defaultConfigModule, err)
	} else {
		spec := func(pkg, name, arch string) buildSpec {
			return buildSpec{pkg: pkg, goarch: arch, extra: []string{"-modfile", mf}, out: bin(name, arch)}
		}
		hand, err := size(spec("./infra/bench/testdata/variants/consultation", "handbuilt", "arm64"))
		if err != nil {
			return nil, err
		}
		def, err := size(spec("./infra/bench/testdata/variants/defaultconfig", "defaultconfig", "arm64"))
		if err != nil {
			return nil, err
		}
		for _, n := range []string{"handbuilt", "defaultconfig"} {
			pkg := "./infra/bench/testdata/variants/consultation"
			if n == "defaultconfig" {
				pkg = "./infra/bench/testdata/variants/defaultconfig"
			}
			if err := b.run(spec(pkg, n, runtimeArch())); err != nil {
				return nil, err
			}
		}
		is := "config.LoadDefaultConfig"
		l.add("(a) aws.Config", "consultation arm64 binary", "MiB", is, mibf(hand.Binary), mibf(def.Binary))
		l.add("(a) aws.Config", "consultation arm64 zip", "MiB", is, mibf(hand.Zip), mibf(def.Zip))
		cold, err := coldCompare(env, cons.target, runs, []coldVariant{
			{bin: bin("handbuilt", runtimeArch())},
			{bin: bin("defaultconfig", runtimeArch())},
		})
		if err != nil {
			return nil, err
		}
		addCold(l, "(a) aws.Config", is, cold[0], cold[1])
	}

	// (b) One-time work at init rather than on the first request.
	progress("levers: one-time work at init")
	l.add("(b) init work", "consultation invocation wall time", "ms", "the first invocation of a process, against warm p50", cons.Warm.WallP50Us/1000, cons.Cold.FirstInvP50)
	if err := b.run(buildSpec{pkg: "./infra/bench/testdata/variants/consultation", goarch: runtimeArch(), out: bin("variant", runtimeArch())}); err != nil {
		return nil, err
	}
	vbin := bin("variant", runtimeArch())
	cold, err := coldCompare(env, cons.target, runs, []coldVariant{
		{bin: vbin, env: []string{"LEADPIPE_BENCH_VARIANT=eager"}},
		{bin: vbin, env: []string{"LEADPIPE_BENCH_VARIANT=lazy"}},
		{bin: vbin, env: []string{"LEADPIPE_BENCH_VARIANT=prewarm"}},
	})
	if err != nil {
		return nil, err
	}
	addCold(l, "(b) init work", "clients, validator built on the first request (lazy)", cold[0], cold[1])
	addCold(l, "(b) init work", "also warm the validator and open the DynamoDB connection at init", cold[0], cold[2])

	// (f) The CA bundle: Go reads the system's on the first TLS connection.
	progress("levers: TLS roots")
	if bundle := envValue(env.stubEnv, "SSL_CERT_FILE"); bundle != "" {
		small := filepath.Join(dir, "stub-only.pem")
		if err := writeLastCert(bundle, small); err != nil {
			return nil, err
		}
		cold, err := coldCompare(env, cons.target, runs, []coldVariant{
			{bin: cons.bin},
			{bin: cons.bin, env: []string{"SSL_CERT_FILE=" + small}},
		})
		if err != nil {
			return nil, err
		}
		addCold(l, "(f) TLS roots", "only the roots the endpoints need, not the system bundle", cold[0], cold[1])
	}

	// (c) One shared HTTP client with keep-alive, and whether the SDK
	// actually reuses its connections.
	progress("levers: keep-alive and connection reuse")
	ka, err := warmCompare(env, cons, nWarm, o.warmTime, []warmVariant{
		{bin: cons.bin},
		{bin: cons.bin, setup: func() { env.stub.setKeepAlive(false) }},
	})
	if err != nil {
		return nil, err
	}
	addWarm(l, "(c) keep-alive", "consultation", "no connection reuse (the server closes every connection)", ka[0], ka[1])
	if ed, err := editBodyWrapper(b.root); err != nil {
		l.note("(c) request-body wrapper not measured: %v", err)
	} else if ov, err := writeOverlay(b.root, dir, "awsconf-bodywrapper", ed); err != nil {
		return nil, err
	} else {
		for _, f := range []*FunctionReport{cons, notify} {
			if f == nil || f.bin == "" || f.Warm == nil {
				continue
			}
			wbin := bin(f.Name+"-bodywrapper", runtimeArch())
			if err := b.run(buildSpec{pkg: f.Package, goarch: runtimeArch(), extra: []string{"-overlay", ov}, out: wbin}); err != nil {
				l.note("(c) %s with the request-body wrapper did not build: %v", f.Name, firstLine(err.Error()))
				continue
			}
			ws, err := warmCompare(env, f, nWarm, o.warmTime, []warmVariant{{bin: f.bin}, {bin: wbin}})
			if err != nil {
				return nil, err
			}
			addWarm(l, "(c) connection reuse", f.Name, "awsconf.HTTPClient hides the request body's WriteTo", ws[0], ws[1])
		}
	}

	// (g) Index projection: what the writes would cost with KEYS_ONLY
	// indexes, priced from the measured items.
	cs, _ := costs(env, fns)
	for _, c := range cs {
		keysOnly := c.Input
		keysOnly.LeadGSIs, keysOnly.MarkUpdatesGSIs = 0, false
		extra := float64(c.Input.LeadGSIs) // one small index entry per index
		l.add("(g) index projection", c.Input.Form+" WRU per lead (intake + notifier's mark)", "WRU",
			"indexes with KEYS_ONLY (or INCLUDE without the marks)", wruPerLead(c.Input), wruPerLead(keysOnly)+extra)
	}

	// Before and after: the functions as they were at another revision.
	if o.before != "" {
		if err := compareBefore(b, env, l, fns, dir, o.before, runs, nWarm, o.warmTime); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// compareBefore builds the functions as they were at rev (git archive into
// a temporary directory, built with today's flags) and measures them
// against today's, interleaved.
func compareBefore(b *builder, env *benchEnv, l *Levers, fns []*FunctionReport, dir, rev string, runs, nWarm int, warmTime time.Duration) error {
	progress("levers: the functions at %s", rev)
	src := filepath.Join(dir, "before")
	if err := gitArchive(b.root, rev, src); err != nil {
		return err
	}
	old := &builder{root: src, build: b.build, env: b.env}
	lever := "(before) " + rev
	is := "the function at " + rev
	for _, f := range fns {
		if f.target.Kind == "baseline" || f.bin == "" || f.Cold == nil || f.Warm == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(src, f.Package)); err != nil {
			l.note("%s: %s did not exist", lever, f.Package)
			continue
		}
		arm := filepath.Join(dir, "before-"+f.Name+"-arm64", "bootstrap")
		host := filepath.Join(dir, "before-"+f.Name+"-"+runtimeArch(), "bootstrap")
		if err := old.run(buildSpec{pkg: f.Package, goarch: "arm64", out: arm}); err != nil {
			l.note("%s: %s did not build: %v", lever, f.Name, firstLine(err.Error()))
			continue
		}
		if err := old.run(buildSpec{pkg: f.Package, goarch: runtimeArch(), out: host}); err != nil {
			return err
		}
		n, _ := fileSize(arm)
		l.add(lever, f.Name+" arm64 binary", "MiB", is, mibf(f.Size["arm64"].Binary), mibf(n))
		cold, err := coldCompare(env, f.target, runs, []coldVariant{{bin: f.bin}, {bin: host}})
		if err != nil {
			return err
		}
		l.add(lever, f.Name+" cold start p50", "ms", is, cold[0].P50Ms, cold[1].P50Ms)
		l.add(lever, f.Name+"   start to ready p50", "ms", is, cold[0].ReadyP50Ms, cold[1].ReadyP50Ms)
		l.add(lever, f.Name+"   first invocation p50", "ms", is, cold[0].FirstInvP50, cold[1].FirstInvP50)
		l.add(lever, f.Name+" peak RSS after first response p50", "MiB", is, mibf(cold[0].RSSP50Bytes), mibf(cold[1].RSSP50Bytes))
		ws, err := warmCompare(env, f, nWarm, warmTime, []warmVariant{{bin: f.bin}, {bin: host}})
		if err != nil {
			return err
		}
		l.add(lever, f.Name+" warm CPU per invocation", "µs", is, ws[0].CPUPerInvUs, ws[1].CPUPerInvUs)
		l.add(lever, f.Name+" warm wall p50", "µs", is, ws[0].WallP50Us, ws[1].WallP50Us)
	}
	return nil
}

// runtimeArch is the architecture the processes run on: this machine's.
func runtimeArch() string { return runtime.GOARCH }

// wruPerLead is the write units one lead costs: claim, lead and index
// entries, and the notifier's mark.
func wruPerLead(in CostInput) float64 {
	c := estimate(in)
	var n float64
	for _, l := range c.Lines {
		if l.Unit == "WRU" {
			n += l.Quantity
		}
	}
	return n / leadsInCostEstimate
}

func addWarm(l *Levers, lever, fn, is string, prod, v *Warm) {
	l.add(lever, fn+" CPU per invocation", "µs", is, prod.CPUPerInvUs, v.CPUPerInvUs)
	l.add(lever, fn+" wall p50", "µs", is, prod.WallP50Us, v.WallP50Us)
	l.add(lever, fn+" wall p99", "µs", is, prod.WallP99Us, v.WallP99Us)
	l.add(lever, fn+" new connections per invocation", "conns", is, prod.NewConnsPer, v.NewConnsPer)
}

func addCold(l *Levers, lever, is string, prod, v *Cold) {
	l.add(lever, "consultation cold start p50", "ms", is, prod.P50Ms, v.P50Ms)
	l.add(lever, "  start to ready (init) p50", "ms", is, prod.ReadyP50Ms, v.ReadyP50Ms)
	l.add(lever, "  first invocation p50", "ms", is, prod.FirstInvP50, v.FirstInvP50)
	l.add(lever, "  CPU to first response p50", "ms", is, prod.CPUP50Ms, v.CPUP50Ms)
	l.add(lever, "  peak RSS p50", "MiB", is, mibf(prod.RSSP50Bytes), mibf(v.RSSP50Bytes))
}

type coldVariant struct {
	bin string
	env []string // added to the function's environment
}

// coldCompare runs fresh processes of each variant in turn, round after
// round, so that the machine's slow spells hit all of them alike.
func coldCompare(env *benchEnv, t target, runs int, vs []coldVariant) ([]*Cold, error) {
	out := make([][]*procRun, len(vs))
	for r := -1; r < runs; r++ {
		for i, v := range vs {
			evs, err := env.eventsFor(t, fmt.Sprintf("lever%d-%d", i, r), 1)
			if err != nil {
				return nil, err
			}
			p, err := runProcess(v.bin, runOpts{
				env: append(env.processEnv(t), v.env...), n: 1, timeout: invokeTimeout,
				events: func(int) []byte { return evs[0] }, check: check(t),
			})
			if err != nil {
				return nil, fmt.Errorf("%s %v: %w", v.bin, v.env, err)
			}
			if r >= 0 {
				out[i] = append(out[i], p)
			}
		}
	}
	res := make([]*Cold, len(vs))
	for i := range vs {
		res[i] = summarizeCold(out[i])
	}
	return res, nil
}

type warmVariant struct {
	bin   string
	setup func() // before each of its rounds; nil: nothing
}

// warmCompare measures f warm as each variant, in alternating rounds.
func warmCompare(env *benchEnv, f *FunctionReport, n int, maxTime time.Duration, vs []warmVariant) ([]*Warm, error) {
	const rounds = 2
	runs := make([][]*warmRound, len(vs))
	defer env.stub.setKeepAlive(true)
	for r := 0; r < rounds; r++ {
		for i, v := range vs {
			env.stub.setKeepAlive(true)
			if v.setup != nil {
				v.setup()
			}
			w, err := measureWarm(env, f, v.bin, n/rounds+1, maxTime/rounds)
			if err != nil {
				return nil, err
			}
			runs[i] = append(runs[i], w)
		}
	}
	out := make([]*Warm, len(vs))
	for i := range runs {
		out[i] = summarizeWarm(runs[i])
	}
	return out, nil
}

// table adds the levers to the bench's table.
func (l *Levers) table(t *table) {
	t.section("Levers: production against a variant, same run (go run ./infra/bench -levers)")
	t.headerTail("variant is", "lever / metric", "production", "variant", "change")
	last := ""
	for _, r := range l.Rows {
		label := r.Lever + ": " + r.Metric
		if r.Lever == last {
			label = strings.Repeat(" ", len([]rune(r.Lever))) + "  " + r.Metric
		}
		last = r.Lever
		change := "—"
		if r.Production != 0 && !math.IsNaN(r.Variant) {
			change = fmt.Sprintf("%+.1f%%", (r.Variant-r.Production)/r.Production*100)
		}
		t.rowTail(r.VariantIs, label, fmtUnit(r.Production, r.Unit), fmtUnit(r.Variant, r.Unit), change)
	}
	for _, d := range l.DCE {
		t.note("(e) %s: reflect method lookups by run-time name in %s; SDK clients converted to interfaces: %s",
			d.Function, listOrNone(d.ReflectMethodCallers), listOrNone(d.ClientsInInterfaces))
	}
	for _, n := range l.Notes {
		t.note("%s", n)
	}
}

func fmtUnit(v float64, unit string) string {
	switch unit {
	case "MiB":
		return fmt.Sprintf("%.2f MiB", v)
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "µs":
		return fmt.Sprintf("%.0f µs", v)
	case "conns":
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
