package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// measureLambdaLevers takes the cold-start levers under the Lambda-like
// mode: each against production at the template's memory size and at
// 128 MB, in the same interleaved rounds.
func measureLambdaLevers(b *builder, env *benchEnv, lim *cpuLimiter, l *Levers, fns []*FunctionReport, work string, o options) error {
	dir := filepath.Join(work, "lambda-levers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byName := map[string]*FunctionReport{}
	for _, f := range fns {
		if f.bin != "" && f.Error == "" {
			byName[f.Name] = f
		}
	}
	tmplMB := env.memoryMB("ContactFunction")
	sizes := []int{tmplMB}
	if tmplMB != 128 {
		sizes = append(sizes, 128)
	}
	runs := max(10, o.lambdaRuns)
	want := func(letter string) bool {
		return o.lambdaLevers == "all" || slices.Contains(strings.Split(o.lambdaLevers, ","), letter)
	}
	warmN := max(60, o.lambdaWarm)

	// variant builds f with the overlay edits (nil: production's binary).
	variant := func(f *FunctionReport, name string, editors ...func(string) (edit, error)) (string, error) {
		var edits []edit
		for _, ed := range editors {
			e, err := ed(b.root)
			if err != nil {
				return "", err
			}
			edits = append(edits, e)
		}
		ov, err := writeOverlay(b.root, dir, f.Name+"-"+name, edits...)
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, f.Name+"-"+name, "bootstrap")
		if err := b.run(buildSpec{pkg: f.Package, goarch: runtimeArch(), extra: []string{"-overlay", ov}, out: out}); err != nil {
			return "", fmt.Errorf("%s: %v", name, firstLine(err.Error()))
		}
		return out, nil
	}

	// compare measures production and each variant of f at every size and
	// adds the rows; cold and/or warm figures.
	type alt struct {
		is  string
		bin string
		env []string
	}
	compare := func(lever string, f *FunctionReport, alts []alt, cold, warm bool, pace bool) error {
		var cases []shareCase
		for _, mb := range sizes {
			cases = append(cases, shareCase{t: f.target, bin: f.bin, memoryMB: mb})
			for _, a := range alts {
				cases = append(cases, shareCase{t: f.target, bin: a.bin, env: a.env, memoryMB: mb})
			}
		}
		var n shareRuns
		if cold {
			n.cold = runs
		}
		if warm && pace {
			n.warm, n.pace = warmN, o.lambdaPace
		}
		if warm && !pace {
			n.burst = warmN
		}
		figs, err := measureShares(env, lim, cases, n)
		if err != nil {
			return err
		}
		per := len(alts) + 1
		for si, mb := range sizes {
			prod := figs[si*per]
			for ai, a := range alts {
				v := figs[si*per+1+ai]
				at := fmt.Sprintf("%s %d MB", f.Name, mb)
				if cold {
					l.add(lever, at+": init p50", "ms", a.is, prod.InitP50Ms, v.InitP50Ms)
					l.add(lever, at+": first p50", "ms", a.is, prod.FirstP50Ms, v.FirstP50Ms)
					l.add(lever, at+": first p90", "ms", a.is, prod.FirstP90Ms, v.FirstP90Ms)
					l.add(lever, at+": init p50 + first p90", "ms", a.is, prod.InitP50Ms+prod.FirstP90Ms, v.InitP50Ms+v.FirstP90Ms)
					l.add(lever, at+": first CPU p50", "ms", a.is, prod.FirstCPUP50Ms, v.FirstCPUP50Ms)
					l.add(lever, at+": firsts throttled", "runs", a.is, float64(prod.FirstThrottled), float64(v.FirstThrottled))
				}
				if warm && pace {
					l.add(lever, at+": warm p50 (paced)", "ms", a.is, prod.WarmP50Ms, v.WarmP50Ms)
					l.add(lever, at+": warm p99 (paced)", "ms", a.is, prod.WarmP99Ms, v.WarmP99Ms)
					l.add(lever, at+": warm max (paced)", "ms", a.is, prod.WarmMaxMs, v.WarmMaxMs)
					l.add(lever, at+": warm periods throttled (paced)", "periods", a.is, float64(prod.WarmThrottled), float64(v.WarmThrottled))
				}
				if warm && !pace {
					l.add(lever, at+": burst p50", "ms", a.is, prod.BurstP50Ms, v.BurstP50Ms)
					l.add(lever, at+": burst p99", "ms", a.is, prod.BurstP99Ms, v.BurstP99Ms)
					l.add(lever, at+": burst CPU per invocation", "µs", a.is, prod.BurstCPUUs, v.BurstCPUUs)
					l.add(lever, at+": burst periods throttled", "periods", a.is, float64(prod.BurstThrottled), float64(v.BurstThrottled))
				}
			}
		}
		return nil
	}

	// (h) The connection warm-up at init.
	if want("h") {
		progress("lambda levers: connection warm-up at init (%v MB)", sizes)
		for _, name := range []string{"contact", "notify", "staff"} {
			f := byName[name]
			if f == nil {
				continue
			}
			bin, err := variant(f, "nowarmup", editNoWarmUp)
			if err != nil {
				l.note("(h) warm-up: %s not measured: %v", name, err)
				continue
			}
			alts := []alt{{is: "no warm-up: the first call connects", bin: bin}}
			if pre, err := variant(f, "preload", editPreloadRoots); err != nil {
				l.note("(h) warm-up: %s with the roots preloaded not measured: %v", name, err)
			} else {
				alts = append(alts, alt{is: "warm-up, and the roots loaded by a goroutine from awsconf's package init", bin: pre})
			}
			if gc, err := variant(f, "gc", editGCAfterWarmUp); err != nil {
				l.note("(h) warm-up: %s with a collection after it not measured: %v", name, err)
			} else {
				alts = append(alts, alt{is: "warm-up, then runtime.GC(): init's garbage collected and swept at init", bin: gc})
			}
			if err := compare("(h) warm-up", f, alts, true, false, false); err != nil {
				return err
			}
		}
	}

	// (i) Other one-time work the first call does, moved to init.
	if want("i") {
		progress("lambda levers: other first-call work at init")
		if f := byName["contact"]; f != nil {
			if bin, err := variant(f, "validator", editWarmValidator); err != nil {
				l.note("(i) validator: not measured: %v", err)
			} else if err := compare("(i) first-call work", f, []alt{{is: "also validate an empty form at init (fills the validator's struct cache)", bin: bin}}, true, false, false); err != nil {
				return err
			}
		}
		if f := byName["notify"]; f != nil {
			if bin, err := variant(f, "templates", editWarmTemplates); err != nil {
				l.note("(i) templates: not measured: %v", err)
			} else if err := compare("(i) first-call work", f, []alt{{is: "also render a staff email at init (html/template escapes on first use)", bin: bin}}, true, false, false); err != nil {
				return err
			}
		}
	}

	// (f) The trusted roots, under the mode: with the warm-up they are
	// loaded at init anyway.
	if f := byName["contact"]; f != nil && want("f") {
		if bundle := envValue(env.stubEnv, "SSL_CERT_FILE"); bundle != "" {
			small := filepath.Join(dir, "stub-only.pem")
			if err := writeLastCert(bundle, small); err != nil {
				return err
			}
			progress("lambda levers: trusted roots")
			if err := compare("(f) TLS roots", f, []alt{{is: "only the roots the endpoint needs (not taken: unproven on Lambda)", bin: f.bin, env: []string{"SSL_CERT_FILE=" + small}}}, true, false, false); err != nil {
				return err
			}
		}
	}

	// (j) The garbage collector under a small share: warm p99.
	if want("j") {
		progress("lambda levers: GOGC / GOMEMLIMIT")
		for _, name := range []string{"contact", "notify"} {
			f := byName[name]
			if f == nil {
				continue
			}
			alts := []alt{
				{is: "GOGC=400", bin: f.bin, env: []string{"GOGC=400"}},
				{is: "GOGC=off GOMEMLIMIT=64MiB", bin: f.bin, env: []string{"GOGC=off", "GOMEMLIMIT=64MiB"}},
			}
			for _, pace := range []bool{true, false} {
				if err := compare("(j) GC", f, alts, false, true, pace); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// editNoWarmUp turns awsconf.WarmUp into a no-op: the functions as they
// were before the warm-up.
func editNoWarmUp(root string) (edit, error) {
	const sig = "func WarmUp(client aws.HTTPClient, log *slog.Logger, calls ...WarmUpCall) {\n"
	return rewrite(root, filepath.Join("internal", "awsconf", "warmup.go"), sig, sig+"\tif len(calls) >= 0 {\n\t\treturn\n\t}\n")
}

// editPreloadRoots makes awsconf start loading the system's trusted roots
// from its package init, in a goroutine, so that the load overlaps the
// rest of the process's init.
func editPreloadRoots(root string) (edit, error) {
	e, err := rewrite(root, filepath.Join("internal", "awsconf", "warmup.go"), "import (\n", "import (\n\t\"crypto/x509\"\n")
	if err != nil {
		return e, err
	}
	e.content += "\nfunc init() { go x509.SystemCertPool() }\n"
	return e, nil
}

// editGCAfterWarmUp makes awsconf.WarmUp end with a full collection, so
// that marking and sweeping what init allocated is done at init.
func editGCAfterWarmUp(root string) (edit, error) {
	return rewrite(root, filepath.Join("internal", "awsconf", "warmup.go"),
		"import (\n", "import (\n\t\"runtime\"\n",
		"\twg.Wait()\n", "\twg.Wait()\n\truntime.GC()\n")
}

// editWarmValidator makes intake validate an empty form at init.
func editWarmValidator(root string) (edit, error) {
	const anchor = "\tawsconf.WarmUp(awsCfg.HTTPClient, log, awsconf.DynamoDBWarmUp(db, cfg.Table))\n"
	return rewrite(root, filepath.Join("internal", "intake", "run.go"), anchor, anchor+"\t_ = svc.Validator.Validate(newForm())\n")
}

// editWarmTemplates makes the notifier render a staff email at init.
func editWarmTemplates(root string) (edit, error) {
	const anchor = "\tlog := logging.New(cfg.LogLevel)\n"
	return rewrite(root, filepath.Join("internal", "notify", "new.go"), anchor, anchor+
		"\t_, _ = emails.BuildStaff(lead.Lead{ID: \"warm-up\", Kind: lead.KindContact, Contact: &lead.Contact{Name: \"W\", Email: \"w@example.invalid\"}}, []string{\"w@example.invalid\"})\n")
}
