// The tests in this file run the three Lambda functions as they are
// deployed: the bootstrap binaries built by the Makefile's build-* targets
// (the targets sam build runs), each under the official AWS Lambda Runtime
// Interface Emulator, against dynalite and aws-ses-v2-local, with the
// stream emulator of package localstream delivering new leads to the
// notify binary through its RIE.
//
// The RIE comes from LEADPIPE_RIE (make test sets bin/aws-lambda-rie).
// Without it the tests skip, unless LEADPIPE_REQUIRE_EMULATORS=1, which
// makes them fail.

package functions_test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The Makefile target that builds each function, as sam build calls it.
var buildTargets = map[string]string{
	"contact":      "build-ContactFunction",
	"consultation": "build-ConsultationFunction",
	"notify":       "build-NotifyFunction",
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// rie returns the RIE binary from LEADPIPE_RIE, or skips (fails with
// LEADPIPE_REQUIRE_EMULATORS=1) when it is not set.
func rie(t *testing.T) string {
	t.Helper()
	p := os.Getenv("LEADPIPE_RIE")
	if p == "" {
		msg := "LEADPIPE_RIE is not set: run `make test`, or `make bin/aws-lambda-rie` and LEADPIPE_RIE=$PWD/bin/aws-lambda-rie"
		if os.Getenv(awstest.RequireEnv) == "1" {
			t.Fatalf("%s (%s=1: emulators are required)", msg, awstest.RequireEnv)
		}
		t.Skip("skipped: " + msg)
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		t.Fatalf("LEADPIPE_RIE=%s is not a file: %v", p, err)
	}
	return p
}

// bootstraps builds the three functions once, in parallel, each with
// `make build-<Function> ARTIFACTS_DIR=...` for this machine's
// architecture (the deployed arm64 build could not run here), and returns
// their paths by function name.
func bootstraps(t *testing.T) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := localaws.ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "leadpipe-bootstrap-"); err != nil {
			buildErr = err
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 0, len(buildTargets))
		var mu sync.Mutex
		for fn, target := range buildTargets {
			wg.Go(func() {
				cmd := exec.Command("make", "--no-print-directory", target,
					"ARTIFACTS_DIR="+filepath.Join(buildDir, fn), "LAMBDA_GOARCH="+runtime.GOARCH)
				cmd.Dir = root
				// A make that runs this test must not lend its jobserver.
				cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
					return strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=")
				})
				if out, err := cmd.CombinedOutput(); err != nil {
					mu.Lock()
					errs = append(errs, errors.New("make "+target+": "+err.Error()+"\n"+string(out)))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		buildErr = errors.Join(errs...)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	paths := map[string]string{}
	for fn := range buildTargets {
		paths[fn] = filepath.Join(buildDir, fn, "bootstrap")
	}
	return paths
}

// The binaries are what sam build makes: static, stripped, linux, with the
// lambda.norpc tag and -trimpath.
func TestBootstrapsBuiltAsDeployed(t *testing.T) {
	rie(t) // building needs no RIE, but the binaries are only used with it
	for fn, path := range bootstraps(t) {
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked; want CGO_ENABLED=0", fn)
			}
		}
		if f.Section(".symtab") != nil {
			t.Errorf("%s has a symbol table; want it stripped (-ldflags -s)", fn)
		}
		for _, sec := range f.Sections {
			if strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
				t.Errorf("%s has DWARF section %s; want none (-ldflags -w)", fn, sec.Name)
				break
			}
		}
		f.Close()
		// With -trimpath the build information leaves -ldflags out; the
		// sections above show its effect.
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if settings["GOOS"] != "linux" || settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" ||
			settings["-tags"] != "lambda.norpc" || settings["GOARCH"] != runtime.GOARCH {
			t.Errorf("%s build settings = %v", fn, settings)
		}
		if info.GoVersion != "go1.26.10" {
			t.Errorf("%s built with %s, want the patched go1.26.10", fn, info.GoVersion)
		}
	}
}

// stack is dynalite with the leads table, the stream proxy in front of it
// and aws-ses-v2-local.
type stack struct {
	dynamo *localaws.Emulator
	ses    *localaws.Emulator
	stream *localstream.Stream
	direct *dynamodb.Client
	table  string
}

func newStack(t *testing.T, deliver localstream.Deliver) *stack {
	t.Helper()
	s := &stack{dynamo: awstest.Dynamo(t), ses: awstest.SES(t), table: "leads-rie"}
	s.direct = awstest.DynamoClient(t, s.dynamo.Endpoint)
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, s.table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.direct.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	// dynalite answers CreateTable before the table takes writes.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, err := s.direct.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not ACTIVE after 10 s: %v", s.table, err)
		}
	}
	cfg, err := localstream.ConfigFromTemplate(tmpl, samtemplate.LeadsTable, samtemplate.NotifyFunction, s.table)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target, cfg.Deliver = s.dynamo.Endpoint, deliver
	cfg.Backoff, cfg.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	if s.stream, err = localstream.Start(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stream.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// env is what Lambda and the template give a function here: region, dummy
// credentials, the emulators' endpoints, the table. Nothing from the
// developer's environment reaches the function (StartRIE passes PATH only).
func (s *stack) env(extra ...string) []string {
	return append([]string{
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL_DYNAMODB=" + s.stream.Endpoint(),
		"AWS_ENDPOINT_URL_SESV2=" + s.ses.Endpoint,
		"LEADS_TABLE=" + s.table,
	}, extra...)
}

const thankYouURL = "https://www.example-clinic.com/thank-you"

var notifyEnv = []string{
	"AWS_LAMBDA_FUNCTION_TIMEOUT=60", // the template's Timeout
	"SENDER_EMAIL=leads@example-clinic.com",
	"STAFF_EMAILS=frontdesk@example-clinic.com",
	"NOTIFY_DETAIL=contact",
	"SEND_CONFIRMATION=true",
	"CLINIC_NAME=Example Ketamine Therapy Clinic",
	"CLINIC_PHONE=(410) 555-0100",
	"CLINIC_ADDRESS=100 Example Street, Baltimore, MD 21201",
	"CALLBACK_PROMISE=within one business day",
}

func loadEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invokeHTTP invokes an intake function with a sample API Gateway v2 event.
func invokeHTTP(t *testing.T, fn *localaws.Emulator, event string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := fn.Invoke(ctx, loadEvent(t, event))
	if err != nil {
		t.Fatalf("invoke with %s: %v", event, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("invoke with %s answered %s, not an API Gateway v2 response", event, out)
	}
	return resp
}

func TestBinariesUnderRuntimeEmulator(t *testing.T) {
	rieBin := rie(t)
	bins := bootstraps(t)

	// The notify RIE needs the stream's address, and the stream the notify
	// RIE: the stream is started first and invokes notify once it exists.
	var notify *localaws.Emulator
	s := newStack(t, localstream.ViaInvoke(func(ctx context.Context, payload []byte) ([]byte, error) {
		return notify.Invoke(ctx, payload)
	}))
	intakeEnv := s.env("AWS_LAMBDA_FUNCTION_TIMEOUT=10", "THANK_YOU_URL="+thankYouURL)
	contact := awstest.RIE(t, localaws.RIEOptions{Binary: bins["contact"], RIEPath: rieBin, Env: intakeEnv})
	consultation := awstest.RIE(t, localaws.RIEOptions{Binary: bins["consultation"], RIEPath: rieBin, Env: intakeEnv})
	notify = awstest.RIE(t, localaws.RIEOptions{Binary: bins["notify"], RIEPath: rieBin, Env: s.env(notifyEnv...)})

	var consultationID string
	t.Run("JSON consultation", func(t *testing.T) {
		resp := invokeHTTP(t, consultation, "consultation-json.json")
		var body struct{ ID, Status string }
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 201 || body.Status != "received" || body.ID == "" {
			t.Fatalf("got %d %s, want 201 received with an id", resp.StatusCode, resp.Body)
		}
		consultationID = body.ID
	})
	t.Run("plain form contact", func(t *testing.T) {
		resp := invokeHTTP(t, contact, "contact-form.json")
		if resp.StatusCode != 303 || resp.Headers["Location"] != thankYouURL {
			t.Fatalf("got %d Location %q, want 303 to %s", resp.StatusCode, resp.Headers["Location"], thankYouURL)
		}
	})
	t.Run("invalid consultation", func(t *testing.T) {
		resp := invokeHTTP(t, consultation, "consultation-invalid.json")
		var body struct {
			Error  string `json:"error"`
			Fields []struct {
				Field string `json:"field"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("body %s: %v", resp.Body, err)
		}
		var fields []string
		for _, f := range body.Fields {
			fields = append(fields, f.Field)
		}
		want := "lastName,email,phone,dateOfBirth,state,concerns,consentToContact,acknowledgedPrivacy"
		if resp.StatusCode != 422 || body.Error != "validation_failed" || strings.Join(fields, ",") != want {
			t.Fatalf("got %d %s fields %v, want 422 validation_failed %s", resp.StatusCode, body.Error, fields, want)
		}
	})
	if consultationID == "" {
		t.Fatal("no consultation stored; nothing more to check")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.stream.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if dl := s.stream.DeadLetters(); len(dl) != 0 {
		t.Fatalf("%d stream records dead-lettered; want every lead notified", len(dl))
	}

	// The leads are in dynalite, marked as notified by the notify binary.
	store := dynamo.New(s.direct, s.table)
	leads := scanLeads(t, s)
	if len(leads) != 2 {
		t.Fatalf("leads stored = %d, want 2 (the invalid request stores nothing)", len(leads))
	}
	var contactLead, consultationLead lead.Lead
	for _, l := range leads {
		switch l.Kind {
		case lead.KindContact:
			contactLead = l
		case lead.KindConsultation:
			consultationLead = l
		}
	}
	if consultationLead.ID != consultationID || consultationLead.Email() != "sam.rivera@example.com" || consultationLead.Status != lead.StatusNew {
		t.Errorf("stored consultation %s %s %s, want %s", consultationLead.ID, consultationLead.Email(), consultationLead.Status, consultationID)
	}
	if contactLead.Email() != "jordan.avery@example.com" {
		t.Errorf("stored contact email = %q", contactLead.Email())
	}
	for _, l := range leads {
		m, err := store.Marks(context.Background(), l.ID)
		if err != nil || m.NotifiedAt.IsZero() || m.ConfirmedAt.IsZero() {
			t.Errorf("lead %s marks = %+v (%v), want notified and confirmed", l.ID, m, err)
		}
	}

	// The staff emails are in the SES emulator: subject with the kind and
	// the short id only, replies going to the person who wrote.
	mails := awstest.SESStore(t, s.ses.Endpoint)
	for _, tt := range []struct {
		l       lead.Lead
		subject string
	}{
		{consultationLead, "New consultation request " + lead.ShortID(consultationLead.ID)},
		{contactLead, "New contact message " + lead.ShortID(contactLead.ID)},
	} {
		var staff []awstest.SentEmail
		for _, m := range mails {
			if slices.Equal(m.Destination.To, []string{"frontdesk@example-clinic.com"}) && m.Subject == tt.subject {
				staff = append(staff, m)
			}
		}
		if len(staff) != 1 {
			t.Errorf("staff emails with subject %q = %d, want 1 (all mail: %v)", tt.subject, len(staff), subjects(mails))
			continue
		}
		m := staff[0]
		if !slices.Equal(m.ReplyTo, []string{tt.l.Email()}) || !strings.Contains(m.From, "leads@example-clinic.com") {
			t.Errorf("staff email from %q reply-to %v, want reply-to %s", m.From, m.ReplyTo, tt.l.Email())
		}
	}
	for _, email := range []string{"sam.rivera@example.com", "jordan.avery@example.com"} {
		n := 0
		for _, m := range mails {
			if slices.Equal(m.Destination.To, []string{email}) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("confirmations to %s = %d, want 1", email, n)
		}
	}
	if len(mails) != 4 {
		t.Errorf("emails sent = %d %v, want 2 staff emails and 2 confirmations", len(mails), subjects(mails))
	}
}

func subjects(mails []awstest.SentEmail) []string {
	var out []string
	for _, m := range mails {
		out = append(out, m.Subject)
	}
	return out
}

func scanLeads(t *testing.T, s *stack) []lead.Lead {
	t.Helper()
	out, err := s.direct.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("#t = :lead"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":lead": &types.AttributeValueMemberS{Value: "lead"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(s.direct, s.table)
	var leads []lead.Lead
	for _, item := range out.Items {
		id, _ := item["id"].(*types.AttributeValueMemberS)
		if id == nil {
			t.Fatalf("lead item without id")
		}
		l, err := store.Get(context.Background(), id.Value)
		if err != nil {
			t.Fatal(err)
		}
		leads = append(leads, l)
	}
	return leads
}

// A function deployed without LEADS_TABLE fails at its first start, with a
// log line that names the variable, instead of failing each request.
func TestMissingLeadsTableFailsAtStart(t *testing.T) {
	rieBin := rie(t)
	bins := bootstraps(t)
	env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_LAMBDA_FUNCTION_TIMEOUT=10"}
	for _, fn := range []string{"contact", "consultation", "notify"} {
		t.Run(fn, func(t *testing.T) {
			e := env
			if fn == "notify" {
				e = append(slices.Clone(env), notifyEnv...)
			}
			logs := &awstest.Buffer{}
			emu := awstest.RIE(t, localaws.RIEOptions{Binary: bins[fn], RIEPath: rieBin, Env: e, Log: logs})
			event := "contact-json.json"
			if fn == "notify" {
				event = "stream-insert-contact.json"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := emu.Invoke(ctx, loadEvent(t, event))
			if err == nil && !bytes.Contains(out, []byte(`"errorType"`)) {
				t.Errorf("invocation answered %s, want a failed start", out)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(logs.String(), "LEADS_TABLE") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := logs.String(); !strings.Contains(got, "start-up failed") || !strings.Contains(got, "LEADS_TABLE") {
				t.Errorf("function output does not name LEADS_TABLE:\n%s", got)
			}
		})
	}
}
