package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/export"
	"github.com/clinicleads/leadpipe/internal/dev/devstack"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// One `make dev` stack, in process on free ports, serves every test of
// the package; each test that writes leads makes a table of its own in
// the stack's dynalite and names it with LEADPIPE_TABLE.
var dev struct {
	once sync.Once
	ep   devstack.Endpoints
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dev.stop != nil {
		dev.stop()
	}
	os.Exit(code)
}

func devStack(t *testing.T) devstack.Endpoints {
	t.Helper()
	dev.once.Do(func() {
		cfg, err := devstack.ConfigFromEnv(func(string) string { return "" })
		if err != nil {
			dev.err = err
			return
		}
		cfg.APIPort, cfg.DynamoPort, cfg.SESPort, cfg.StreamPort, cfg.CognitoPort = 0, 0, 0, 0, 0
		ready := make(chan devstack.Endpoints, 1)
		cfg.Ready = func(e devstack.Endpoints) { ready <- e }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- devstack.Run(ctx, cfg) }()
		select {
		case dev.ep = <-ready:
			dev.stop = func() {
				cancel()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
				}
			}
		case dev.err = <-done:
			cancel()
		case <-time.After(2 * time.Minute):
			cancel()
			dev.err = fmt.Errorf("dev stack not ready after 2 minutes")
		}
	})
	awstest.Check(t, dev.err)
	return dev.ep
}

func port(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Port()
}

// local is leadctl's environment for the test's dev stack and table.
func local(t *testing.T, ep devstack.Endpoints, table string) map[string]string {
	t.Helper()
	return map[string]string{
		"LEADPIPE_API_PORT": port(t, ep.API), "LEADPIPE_STREAM_PORT": port(t, ep.Stream), "LEADPIPE_DYNAMO_PORT": port(t, ep.Dynamo),
		"LEADPIPE_SES_PORT": port(t, ep.SES), "LEADPIPE_COGNITO_PORT": port(t, ep.Cognito), "LEADPIPE_TABLE": table,
	}
}

// result is one run of leadctl.
type result struct {
	code           int
	stdout, stderr string
}

func runCtl(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errw bytes.Buffer
	a := &app{in: strings.NewReader(stdin), out: &out, errw: &errw, getenv: func(k string) string { return env[k] },
		now: time.Now, dir: t.TempDir()}
	code := a.run(context.Background(), args)
	return result{code, out.String(), errw.String()}
}

var (
	tableSeq int
	tableMu  sync.Mutex
)

// newTable makes a leads table as template.yaml's in the stack's dynalite,
// plus the indexes given, and returns its name and a store on it.
func newTable(t *testing.T, ep devstack.Endpoints, extra ...types.GlobalSecondaryIndex) (string, *dynamodb.Client) {
	t.Helper()
	tableMu.Lock()
	tableSeq++
	name := fmt.Sprintf("leadctl-test-%d", tableSeq)
	tableMu.Unlock()
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, name)
	if err != nil {
		t.Fatal(err)
	}
	in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, extra...)
	db := awstest.DynamoClient(t, ep.Stream) // through the proxy, as leadctl
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	// dynalite can answer CreateTable a moment before the table is active.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return name, db
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not active after 10 s (%v)", name, err)
		}
	}
}

var claimsIndex = types.GlobalSecondaryIndex{
	IndexName: aws.String("ClaimsByLead"),
	KeySchema: []types.KeySchemaElement{
		{AttributeName: aws.String("leadId"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("createdAt"), KeyType: types.KeyTypeRange},
	},
	Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func contactLead(at time.Time, status lead.Status, email, message string) lead.Lead {
	return lead.Lead{ID: lead.NewID(at), Kind: lead.KindContact, Status: status, CreatedAt: at, ExpiresAt: at.Add(365 * 24 * time.Hour),
		Contact: &lead.Contact{Name: "Jordan Avery", Email: email, Phone: "+14105550134", Message: message, PreferredContact: "email"},
		Consent: lead.Consent{ConsentToContact: true, At: at}}
}

func consultationLead(at time.Time, status lead.Status, email, meds string) lead.Lead {
	return lead.Lead{ID: lead.NewID(at), Kind: lead.KindConsultation, Status: status, CreatedAt: at, ExpiresAt: at.Add(365 * 24 * time.Hour),
		Consultation: &lead.Consultation{FirstName: "Sam", LastName: "Rivera", Email: email, Phone: "+14105550188", DateOfBirth: "1988-04-12",
			State: "MD", Concerns: []string{"depression"}, CurrentMedications: meds, InCrisis: true, ConsentToContact: true, AcknowledgedPrivacy: true},
		Consent: lead.Consent{ConsentToContact: true, AcknowledgedPrivacy: true, At: at}}
}

func put(t *testing.T, st *dynamo.Store, leads ...lead.Lead) {
	t.Helper()
	for _, l := range leads {
		if err := st.Put(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExportLocal(t *testing.T) {
	ep := devStack(t)
	table, db := newTable(t, ep)
	st := dynamo.New(db, table)
	c1 := contactLead(t0, lead.StatusNew, "a@example.com", "MARKER-MSG-1")
	c2 := contactLead(t0.Add(24*time.Hour), "contacted", "b@example.com", "MARKER-MSG-2")
	k1 := consultationLead(t0.Add(time.Hour), lead.StatusNew, "c@example.com", "MARKER-MEDS-1")
	k2 := consultationLead(t0.Add(48*time.Hour), lead.StatusSpam, "d@example.com", "MARKER-MEDS-2")
	late := contactLead(t0.Add(15*24*time.Hour), lead.StatusNew, "e@example.com", "late")
	put(t, st, c1, c2, k1, k2, late)
	env := local(t, ep, table)
	dir := t.TempDir()

	ids := func(t *testing.T, file, format string) []string {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		if format == export.CSV {
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows[1:] {
				out = append(out, r[0])
			}
			return out
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			out = append(out, m["id"].(string))
		}
		return out
	}

	n := 0
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"a range, both kinds", []string{"--since", "2026-11-20", "--until", "2026-11-22"}, []string{c1.ID, c2.ID, k1.ID, k2.ID}},
		{"until a day is inclusive", []string{"--since", "2026-11-20", "--until", "2026-11-21"}, []string{c1.ID, c2.ID, k1.ID}},
		{"a time range", []string{"--since", "2026-11-20T10:30:00Z", "--until", "2026-11-21T10:00:00Z"}, []string{k1.ID}},
		{"kind", []string{"--since", "2026-11-01", "--until", "2026-11-30", "--kind", "consultation"}, []string{k1.ID, k2.ID}},
		{"status", []string{"--since", "2026-11-01", "--until", "2026-11-30", "--status", "new"}, []string{c1.ID, k1.ID}},
		{"kind and status", []string{"--since", "2026-11-01", "--until", "2026-11-30", "--kind", "contact", "--status", "contacted"}, []string{c2.ID}},
		{"nothing", []string{"--since", "2026-10-01", "--until", "2026-10-31"}, nil},
	} {
		for _, format := range []string{export.CSV, export.JSONL} {
			t.Run(tt.name+" "+format, func(t *testing.T) {
				n++
				file := filepath.Join(dir, fmt.Sprintf("export-%d.%s", n, format))
				args := append([]string{"export", "--local", "--format", format, "--out", file, "--output", "json"}, tt.args...)
				r := runCtl(t, env, "", args...)
				if r.code != 0 {
					t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
				}
				if got := ids(t, file, format); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ids = %v, want %v", got, tt.want)
				}
				var sum struct {
					Leads int    `json:"leads"`
					Audit string `json:"audit"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Leads != len(tt.want) || !strings.HasPrefix(sum.Audit, "AUDIT#export#") {
					t.Errorf("summary %q (%v)", r.stdout, err)
				}
				if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("file mode = %v, %v; want 0600", fi.Mode(), err)
				}
			})
		}
	}

	t.Run("health answers only with the flag", func(t *testing.T) {
		for _, health := range []bool{false, true} {
			for _, format := range []string{export.CSV, export.JSONL} {
				args := []string{"export", "--local", "--since", "2026-11-01", "--until", "2026-11-30", "--format", format}
				if health {
					args = append(args, "--include-health")
				}
				r := runCtl(t, env, "", args...)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				for _, m := range []string{"MARKER-MSG-1", "MARKER-MEDS-1", "1988-04-12", "depression"} {
					if strings.Contains(r.stdout, m) != health {
						t.Errorf("%s, include-health %v: %q present = %v", format, health, m, !health)
					}
				}
				if !strings.Contains(r.stdout, "c@example.com") || !strings.Contains(r.stderr, "4 leads") {
					t.Errorf("%s: contact details or summary missing:\n%s\n%s", format, r.stdout, r.stderr)
				}
			}
		}
	})

	t.Run("every export is audited with who and what", func(t *testing.T) {
		recs, err := dynamo.NewOps(db, table).Exports(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != n+4 {
			t.Errorf("%d export records, want %d", len(recs), n+4)
		}
		newest := recs[0]
		if newest.Actor.Subject != LocalActor || !newest.IncludeHealth || newest.Format != export.JSONL || newest.Query.Since != time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) {
			t.Errorf("newest record = %+v", newest)
		}
	})

	t.Run("never overwrites a file", func(t *testing.T) {
		file := filepath.Join(dir, "existing.csv")
		if err := os.WriteFile(file, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCtl(t, env, "", "export", "--local", "--since", "2026-11-01", "--out", file)
		if b, _ := os.ReadFile(file); r.code != 1 || string(b) != "keep" || !strings.Contains(r.stderr, "exists") {
			t.Errorf("exit %d, file %q, stderr %s", r.code, b, r.stderr)
		}
	})

	t.Run("usage mistakes", func(t *testing.T) {
		for _, args := range [][]string{
			{"export", "--local"},
			{"export", "--local", "--since", "yesterday"},
			{"export", "--local", "--since", "2026-11-02", "--until", "2026-11-01"},
			{"export", "--local", "--since", "2026-11-01", "--kind", "letter"},
			{"export", "--local", "--since", "2026-11-01", "--status", "lost"},
			{"export", "--local", "--since", "2026-11-01", "--format", "xlsx"},
			{"export", "--local", "--since", "2026-11-01", "--output", "json"},
			{"export", "--local", "--stack", "x", "--since", "2026-11-01"},
			{"export", "--local", "--since", "2026-11-01", "extra"},
		} {
			if r := runCtl(t, env, "", args...); r.code != exitUsage || r.stderr == "" {
				t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
			}
		}
	})
}

func TestEraseLocal(t *testing.T) {
	ep := devStack(t)
	ctx := context.Background()
	for _, withIndex := range []bool{true, false} {
		t.Run(fmt.Sprintf("claims index %v", withIndex), func(t *testing.T) {
			var extra []types.GlobalSecondaryIndex
			if withIndex {
				extra = append(extra, claimsIndex)
			}
			table, db := newTable(t, ep, extra...)
			st := dynamo.New(db, table)
			mine := []lead.Lead{
				contactLead(t0, lead.StatusNew, "Pat.Doe@example.com", "first"),
				consultationLead(t0.Add(time.Hour), "contacted", "pat.doe@example.com", "meds"),
				contactLead(t0.Add(2*time.Hour), lead.StatusSpam, "PAT.DOE@example.com", "third"),
			}
			others := []lead.Lead{
				contactLead(t0.Add(3*time.Hour), lead.StatusNew, "pat.doe@example.org", "other domain"),
				consultationLead(t0.Add(4*time.Hour), lead.StatusNew, "someone@example.com", "someone else"),
			}
			put(t, st, append(mine, others...)...)
			for i, l := range append(mine, others...) {
				c := lead.Claim{Key: fmt.Sprintf("key:%s:k%d", l.Kind, i), LeadID: l.ID, BodyHash: "h", CreatedAt: l.CreatedAt, ExpiresAt: l.CreatedAt.Add(lead.KeyWindow)}
				if _, err := st.Claim(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			env := local(t, ep, table)
			count := func(itemType string) int {
				t.Helper()
				tbl := &dynamotest.Table{Client: db, Name: table}
				return tbl.Count(t, table, itemType)
			}

			// A dry run, then a refused confirmation: nothing goes.
			r := runCtl(t, env, "", "erase", "--local", "--email", "pat.doe@EXAMPLE.com", "--reason", "ticket 7", "--output", "json")
			var plan struct {
				Leads []struct {
					ID     string `json:"id"`
					Claims int    `json:"claims"`
				} `json:"leads"`
				ClaimsSearched bool `json:"claimsSearched"`
				DryRun         bool `json:"dryRun"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &plan); r.code != 0 || err != nil {
				t.Fatalf("dry run: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
			}
			if !plan.DryRun || len(plan.Leads) != 3 || plan.ClaimsSearched != withIndex || (withIndex && plan.Leads[0].Claims != 1) {
				t.Errorf("plan = %+v", plan)
			}
			r = runCtl(t, env, "no\n", "erase", "--local", "--email", "pat.doe@example.com")
			if r.code != 0 || !strings.Contains(r.stdout, "Dry run") || count("lead") != 5 {
				t.Fatalf("refused: exit %d, %d leads\n%s", r.code, count("lead"), r.stdout)
			}
			for _, l := range mine {
				if !strings.Contains(r.stdout, l.ID) {
					t.Errorf("the plan does not show %s:\n%s", l.ID, r.stdout)
				}
			}
			for _, private := range []string{"meds", "first", "Pat", "Jordan", "Sam"} {
				if strings.Contains(r.stdout+r.stderr, private) {
					t.Errorf("the plan shows %q:\n%s", private, r.stdout)
				}
			}

			r = runCtl(t, env, "erase\n", "erase", "--local", "--email", "pat.doe@example.com", "--reason", "ticket 7")
			if r.code != 0 {
				t.Fatalf("erase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, l := range mine {
				if got, err := st.Get(ctx, l.ID); err == nil {
					t.Errorf("lead %s still there: %+v", l.ID, got.ID)
				}
			}
			for _, l := range others {
				if _, err := st.Get(ctx, l.ID); err != nil {
					t.Errorf("someone else's lead %s: %v", l.ID, err)
				}
			}
			wantClaims := 5
			if withIndex {
				wantClaims = 2 // the others' claims only
			}
			if n := count("claim"); n != wantClaims {
				t.Errorf("%d claims left, want %d", n, wantClaims)
			}
			ops := dynamo.NewOps(db, table)
			for _, l := range mine {
				ts, err := ops.Tombstones(ctx, l.ID)
				if err != nil || len(ts) != 1 || ts[0].Reason != "ticket 7" || ts[0].Actor.Subject != LocalActor {
					t.Errorf("tombstone of %s = %+v, %v", l.ID, ts, err)
				}
			}
			if n := count("audit"); n != 3 {
				t.Errorf("%d audit items, want the 3 tombstones", n)
			}

			// Again: nothing found, nothing written.
			r = runCtl(t, env, "", "erase", "--local", "--email", "pat.doe@example.com", "--yes")
			if r.code != 0 || !strings.Contains(r.stdout, "No lead found") || count("audit") != 3 {
				t.Errorf("second erase: exit %d, %d audit items\n%s", r.code, count("audit"), r.stdout)
			}
		})
	}

	t.Run("by id, with --yes", func(t *testing.T) {
		table, db := newTable(t, ep)
		st := dynamo.New(db, table)
		a, b := contactLead(t0, lead.StatusNew, "x@example.com", "a"), contactLead(t0, lead.StatusNew, "x@example.com", "b")
		put(t, st, a, b)
		r := runCtl(t, local(t, ep, table), "", "erase", "--local", "--id", a.ID, "--yes")
		if r.code != 0 || !strings.Contains(r.stdout, a.ID+"  erased") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if _, err := st.Get(ctx, a.ID); err == nil {
			t.Error("lead still there")
		}
		if _, err := st.Get(ctx, b.ID); err != nil {
			t.Errorf("the person's other lead was erased by --id: %v", err)
		}
	})

	t.Run("usage mistakes", func(t *testing.T) {
		env := local(t, ep, "leads")
		for _, args := range [][]string{
			{"erase", "--local"},
			{"erase", "--local", "--email", "a@example.com", "--id", lead.NewID(t0)},
			{"erase", "--local", "--id", "LEAD#x"},
			{"erase", "--local", "--email", "not-an-address"},
			{"erase", "--local", "--email", "pat.doe@example.com", "--reason", "asked by pat.doe on the phone"},
			{"erase", "--local", "--email", "a@example.com", "--reason", "mail from a@example.com"},
			{"erase", "--local", "--email", "a@example.com", "--reason", "two\nlines"},
			{"erase", "--local", "--email", "a@example.com", "--reason", ""},
		} {
			if r := runCtl(t, env, "", args...); r.code != exitUsage {
				t.Errorf("%q: exit %d (%s), want 2", args, r.code, r.stderr)
			}
		}
	})
}

func TestResendLocal(t *testing.T) {
	ep := devStack(t)
	ctx := context.Background()
	table, db := newTable(t, ep)
	st := dynamo.New(db, table)
	l := contactLead(time.Now().UTC().Truncate(time.Millisecond), lead.StatusNew, "jordan@example.com", "please call")
	put(t, st, l)
	first := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	if err := st.MarkNotified(ctx, l.ID, first); err != nil {
		t.Fatal(err)
	}
	env := local(t, ep, table)
	before := len(awstest.SESStore(t, ep.SES))

	r := runCtl(t, env, "", "resend", "--local", "--id", l.ID)
	if r.code != 0 || !strings.Contains(r.stdout, "Sent the staff email of lead "+l.ID+" again") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mails := awstest.SESStore(t, ep.SES)[before:]
	if len(mails) != 1 || !slices.Contains(mails[0].Destination.To, "staff@example.com") {
		t.Fatalf("sent %+v, want one staff email", mails)
	}
	if m, _ := st.Marks(ctx, l.ID); !m.NotifiedAt.After(first) {
		t.Errorf("notifiedAt = %v, want the resend's time", m.NotifiedAt)
	}

	r = runCtl(t, env, "", "resend", "--local", "--id", l.ID, "--confirmation", "--output", "json")
	var res struct {
		Outcome string   `json:"outcome"`
		Sent    []string `json:"sent"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); r.code != 0 || err != nil || res.Outcome != "sent" || !reflect.DeepEqual(res.Sent, []string{"confirmation"}) {
		t.Fatalf("confirmation: exit %d, %+v, %v\n%s", r.code, res, err, r.stderr)
	}
	mails = awstest.SESStore(t, ep.SES)[before:]
	if len(mails) != 2 || !slices.Contains(mails[1].Destination.To, "jordan@example.com") {
		t.Errorf("sent %+v, want the confirmation second", mails)
	}

	r = runCtl(t, env, "", "resend", "--local", "--id", lead.NewID(time.Now()))
	if r.code != exitFail || !strings.Contains(r.stderr, "not_found") {
		t.Errorf("unknown id: exit %d, %s", r.code, r.stderr)
	}
	if r := runCtl(t, env, "", "resend", "--local", "--id", "x"); r.code != exitUsage {
		t.Errorf("bad id: exit %d", r.code)
	}
}

func TestSmokeLocal(t *testing.T) {
	ep := devStack(t)
	env := local(t, ep, "leads") // the stack's own table: the lead goes through its API and stream
	before := len(awstest.SESStore(t, ep.SES))
	r := runCtl(t, env, "", "smoke", "--local", "--output", "json")
	var out struct {
		Lead  string `json:"lead"`
		Steps []struct {
			Step string `json:"step"`
			OK   bool   `json:"ok"`
		} `json:"steps"`
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || !out.OK || len(out.Steps) != 3 {
		t.Fatalf("exit %d, %+v, %v\n%s%s", r.code, out, err, r.stdout, r.stderr)
	}
	db := awstest.DynamoClient(t, ep.Stream)
	if _, err := dynamo.New(db, "leads").Get(context.Background(), out.Lead); err == nil {
		t.Error("the smoke lead was not erased")
	}
	ts, err := dynamo.NewOps(db, "leads").Tombstones(context.Background(), out.Lead)
	if err != nil || len(ts) != 1 || ts[0].Reason != smokeReason {
		t.Errorf("tombstone = %+v, %v", ts, err)
	}
	var staff int
	for _, m := range awstest.SESStore(t, ep.SES)[before:] {
		if slices.Contains(m.Destination.To, "staff@example.com") && strings.Contains(m.Body.Text, smokeName) {
			staff++
		}
	}
	if staff != 1 {
		t.Errorf("%d staff emails about the smoke lead, want 1", staff)
	}
}

func TestDoctorLocal(t *testing.T) {
	ep := devStack(t)
	r := runCtl(t, local(t, ep, "leads"), "", "doctor", "--local")
	if r.code != 0 || !strings.Contains(r.stdout, "PASS  api.cors."+ep.API) || !strings.Contains(r.stdout, "PASS  dynamodb.table") ||
		!strings.Contains(r.stdout, "SKIP  ses.sending") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An origin the local API does not allow fails the check and the run.
	env := local(t, ep, "leads")
	env["LEADPIPE_ALLOWED_ORIGINS"] = "https://www.myclinic.org"
	r = runCtl(t, env, "", "doctor", "--local", "--output", "json")
	var out struct {
		Failed bool `json:"failed"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != exitFail || !out.Failed {
		t.Errorf("exit %d, %+v, %v\n%s", r.code, out, err, r.stdout)
	}
}

func TestDLQLocalIsRefused(t *testing.T) {
	r := runCtl(t, map[string]string{}, "", "dlq", "replay", "--local")
	if r.code != exitUsage || !strings.Contains(r.stderr, "no dead-letter queue") {
		t.Errorf("exit %d, %s", r.code, r.stderr)
	}
}

func TestLocalStackNotRunning(t *testing.T) {
	// Ports nothing listens on (a stopped stack).
	env := map[string]string{"LEADPIPE_STREAM_PORT": "1", "LEADPIPE_API_PORT": "2", "LEADPIPE_DYNAMO_PORT": "3", "LEADPIPE_SES_PORT": "4", "LEADPIPE_COGNITO_PORT": "5"}
	r := runCtl(t, env, "", "export", "--local", "--since", "2026-11-01")
	if r.code != exitFail || !strings.Contains(r.stderr, "make dev") || !strings.Contains(r.stderr, "LEADPIPE_STREAM_PORT") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

func TestCommandLine(t *testing.T) {
	for _, c := range commands {
		r := runCtl(t, nil, "", c.name, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "Usage: leadctl "+c.name) || !strings.Contains(r.stderr, "-output") {
			t.Errorf("%s --help: exit %d\n%s", c.name, r.code, r.stderr)
		}
	}
	if r := runCtl(t, nil, "", "--help"); r.code != 0 || !strings.Contains(r.stdout, "erase") {
		t.Errorf("--help: exit %d %s", r.code, r.stdout)
	}
	if r := runCtl(t, nil, ""); r.code != exitUsage {
		t.Errorf("no command: exit %d", r.code)
	}
	if r := runCtl(t, nil, "", "purge"); r.code != exitUsage || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown command: exit %d %s", r.code, r.stderr)
	}
	// Without --stack or samconfig.toml, leadctl asks which stack before
	// it touches AWS.
	if r := runCtl(t, map[string]string{}, "", "doctor"); r.code != exitUsage || !strings.Contains(r.stderr, "which stack?") {
		t.Errorf("no stack: exit %d %s", r.code, r.stderr)
	}
	if r := runCtl(t, nil, "", "dlq", "flush"); r.code != exitUsage {
		t.Errorf("dlq flush: exit %d", r.code)
	}
}
