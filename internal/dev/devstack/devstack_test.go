package devstack_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/devstack"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// testLog sends the stack's log to the test log, and fails the test for
// a line that is not a JSON record naming its component: the console shows
// one format (logs.go), the emulators' output included.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.t.Log(line)
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil || rec["component"] == nil {
			l.t.Errorf("stack log line is not a JSON record with time, level, msg and component: %q", line)
		}
	}
	return len(p), nil
}

// startStack runs the stack in process on free ports until the test ends,
// then checks that it stopped and left nothing listening. It returns the
// stack's addresses and what it printed.
func startStack(t *testing.T, tune func(*devstack.Config)) (devstack.Endpoints, string) {
	t.Helper()
	cfg, err := devstack.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIPort, cfg.DynamoPort, cfg.SESPort, cfg.StreamPort, cfg.CognitoPort = 0, 0, 0, 0, 0
	out := &bytes.Buffer{}
	cfg.Out, cfg.Log = out, testLog{t}
	ready := make(chan devstack.Endpoints, 1)
	cfg.Ready = func(e devstack.Endpoints) { ready <- e }
	if tune != nil {
		tune(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- devstack.Run(ctx, cfg) }()
	var ep devstack.Endpoints
	select {
	case ep = <-ready:
	case err := <-done:
		cancel()
		awstest.Check(t, err) // skips, or fails, when an emulator is not installed
		t.Fatal("Run returned before the stack was ready")
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("stack not ready after 2 minutes")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return 30 s after its context ended")
		}
		for _, u := range []string{ep.API, ep.SES, ep.Dynamo, ep.Stream, ep.Cognito} {
			if c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "http://"), time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after the stack stopped", u)
			}
		}
	})
	if !strings.HasSuffix(strings.TrimSpace(out.String()), devstack.ReadyLine) {
		t.Errorf("output does not end with %q:\n%s", devstack.ReadyLine, out)
	}
	for _, u := range []string{ep.API, ep.SES, ep.Dynamo, ep.Cognito} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.Contains(out.String(), u) {
			t.Errorf("endpoint %q is not on 127.0.0.1 or not printed:\n%s", u, out)
		}
	}
	// Where the inbox is and how to sign in, once the template has it.
	if strings.Contains(out.String(), "GET "+ep.API+"/staff  (") &&
		(!strings.Contains(out.String(), ep.API+"/staff/\n") || !strings.Contains(out.String(), devstack.StaffUser)) {
		t.Errorf("the template has the inbox page, but the output does not say where it is and how to sign in:\n%s", out)
	}
	return ep, out.String()
}

// eventBody is the body of a sample event in events/, decoded.
func eventBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	return ev.Body
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

func do(t *testing.T, method, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestDevStack(t *testing.T) {
	ep, _ := startStack(t, nil)
	origin := ep.API // the example site's own origin, allowed by default

	var consultationID string
	t.Run("JSON consultation", func(t *testing.T) {
		hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json", "Origin": origin,
			"Idempotency-Key": "7d0c4a52-0d5e-4f0e-9a51-2f1f3c1d7e01"}
		resp, body := do(t, "POST", ep.API+"/consultations", eventBody(t, "consultation-json.json"), hdr)
		var got struct{ ID, Status string }
		if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 201 || got.Status != "received" || got.ID == "" {
			t.Fatalf("got %d %s, want 201 received with an id", resp.StatusCode, body)
		}
		if h := resp.Header.Get("Access-Control-Allow-Origin"); h != origin {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", h, origin)
		}
		if resp.Header.Get("Apigw-Requestid") == "" {
			t.Error("no Apigw-Requestid header")
		}
		consultationID = got.ID
		// A retry with the same Idempotency-Key is the same lead.
		_, again := do(t, "POST", ep.API+"/consultations", eventBody(t, "consultation-json.json"), hdr)
		if !strings.Contains(again, consultationID) {
			t.Errorf("retry answered %s, want lead %s again", again, consultationID)
		}
	})

	t.Run("plain form contact", func(t *testing.T) {
		resp, _ := do(t, "POST", ep.API+"/contact", eventBody(t, "contact-form.json"),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": origin,
				"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
		if want := ep.API + "/thank-you.html"; resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Fatalf("got %d Location %q, want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})

	t.Run("invalid consultation", func(t *testing.T) {
		resp, body := do(t, "POST", ep.API+"/consultations", eventBody(t, "consultation-invalid.json"),
			map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode != 422 || !strings.Contains(body, `"validation_failed"`) || !strings.Contains(body, `"dateOfBirth"`) {
			t.Fatalf("got %d %s, want 422 validation_failed with field errors", resp.StatusCode, body)
		}
	})

	t.Run("CORS", func(t *testing.T) {
		preflight := func(origin, method string) *http.Response {
			resp, _ := do(t, "OPTIONS", ep.API+"/consultations", "", map[string]string{"Origin": origin,
				"Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type,idempotency-key"})
			return resp
		}
		resp := preflight(origin, "POST")
		want := map[string]string{
			"Access-Control-Allow-Origin":  origin,
			"Access-Control-Allow-Methods": "POST,OPTIONS",
			"Access-Control-Allow-Headers": "content-type,idempotency-key",
			"Access-Control-Max-Age":       "600",
		}
		if resp.StatusCode != 204 {
			t.Errorf("preflight status = %d, want 204", resp.StatusCode)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("preflight %s = %q, want %q", k, got, v)
			}
		}
		localhost := "http://localhost:" + ep.API[strings.LastIndex(ep.API, ":")+1:]
		if got := preflight(localhost, "POST").Header.Get("Access-Control-Allow-Origin"); got != localhost {
			t.Errorf("preflight from %s: allow origin %q", localhost, got)
		}
		for _, tt := range []struct{ origin, method string }{{"https://evil.example", "POST"}, {origin, "PUT"}} {
			resp := preflight(tt.origin, tt.method)
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("preflight %s from %s got %s; want no CORS headers", tt.method, tt.origin, k)
				}
			}
		}
		// A request from another origin is still passed on (API Gateway does
		// not block it; the browser withholds the answer) but gets no CORS headers.
		resp, _ = do(t, "POST", ep.API+"/contact", `{}`, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"})
		if resp.StatusCode != 422 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("POST from another origin: %d, allow origin %q; want 422 without CORS headers", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("undefined routes", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", "/nope"}, {"PUT", "/contact"}, {"DELETE", "/consultations"}, {"POST", "/leads"}, {"POST", "/"}, {"GET", "/contact"},
		} {
			resp, body := do(t, r.method, ep.API+r.path, "", nil)
			if resp.StatusCode != 404 || body != `{"message":"Not Found"}` || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s = %d %q (%s), want API Gateway's 404", r.method, r.path, resp.StatusCode, body, resp.Header.Get("Content-Type"))
			}
		}
	})

	t.Run("website", func(t *testing.T) {
		resp, body := do(t, "GET", ep.API+"/", "", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<form") && !strings.Contains(body, "leadpipe dev stack") {
			t.Errorf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp, _ := do(t, "GET", ep.API+"/../go.mod", "", nil); resp.StatusCode != 404 {
			t.Errorf("GET /../go.mod = %d, want 404", resp.StatusCode)
		}
	})

	t.Run("leads in DynamoDB", func(t *testing.T) {
		db := awstest.DynamoClient(t, ep.Dynamo)
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(ep.Table),
			FilterExpression: aws.String("#t = :lead"), ExpressionAttributeNames: map[string]string{"#t": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":lead": &types.AttributeValueMemberS{Value: "lead"}}})
		if err != nil {
			t.Fatal(err)
		}
		// The consultation (once, despite its retry), the form contact.
		if len(out.Items) != 2 {
			t.Errorf("leads stored = %d, want 2", len(out.Items))
		}
		if consultationID == "" {
			t.Skip("no consultation was stored")
		}
		l, err := dynamo.New(db, ep.Table).Get(context.Background(), consultationID)
		if err != nil || l.Email() != "sam.rivera@example.com" || l.Consent.ClientIP != "127.0.0.1" {
			t.Errorf("stored consultation: %v %q from %q", err, l.Email(), l.Consent.ClientIP)
		}
	})

	t.Run("staff email", func(t *testing.T) {
		if consultationID == "" {
			t.Skip("no consultation was stored")
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			var staff []awstest.SentEmail
			for _, m := range awstest.SESStore(t, ep.SES) {
				if len(m.Destination.To) > 0 && m.Destination.To[0] == "staff@example.com" {
					staff = append(staff, m)
				}
			}
			if len(staff) == 2 {
				var subjects []string
				for _, m := range staff {
					subjects = append(subjects, m.Subject)
					if strings.Contains(m.Subject, "Sam") || strings.Contains(m.Subject, "Jordan") {
						t.Errorf("subject %q holds a name", m.Subject)
					}
				}
				want := "New consultation request " + consultationID[len(consultationID)-8:]
				if !slices.Contains(subjects, want) {
					t.Errorf("staff subjects %q, want one %q", subjects, want)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("staff emails = %d after 30 s, want 2", len(staff))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func TestPortInUseIsNamed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	for _, tt := range []struct {
		env string
		set func(*devstack.Config)
	}{
		{"LEADPIPE_DYNAMO_PORT", func(c *devstack.Config) { c.DynamoPort = port }},
		{"LEADPIPE_SES_PORT", func(c *devstack.Config) { c.SESPort = port }},
		{"LEADPIPE_STREAM_PORT", func(c *devstack.Config) { c.StreamPort = port }},
		{"LEADPIPE_API_PORT", func(c *devstack.Config) { c.APIPort = port }},
		{"LEADPIPE_COGNITO_PORT", func(c *devstack.Config) { c.CognitoPort = port }},
	} {
		t.Run(tt.env, func(t *testing.T) {
			cfg := devstack.Config{Table: "leads"}
			tt.set(&cfg)
			err := devstack.Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.env) || !strings.Contains(err.Error(), strconv.Itoa(port)) {
				t.Fatalf("Run = %v, want an error naming port %d and %s", err, port, tt.env)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := devstack.ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIPort != 3000 || c.DynamoPort != 8000 || c.StreamPort != 8001 || c.SESPort != 8005 || c.Table != "leads" || c.AllowedOrigins != nil {
		t.Errorf("defaults = %+v", c)
	}
	for k, v := range map[string]string{"SENDER_EMAIL": "clinic@example.com", "STAFF_EMAILS": "staff@example.com",
		"NOTIFY_DETAIL": "contact", "SEND_CONFIRMATION": "true", "CLINIC_NAME": devstack.ExampleClinicName} {
		if c.Env[k] != v {
			t.Errorf("default %s = %q, want %q", k, c.Env[k], v)
		}
	}
	if _, set := c.Env["THANK_YOU_URL"]; set {
		t.Error("THANK_YOU_URL has a default before the API port is known")
	}
	if c.SweepInterval != devstack.DefaultSweepInterval || devstack.DefaultSweepInterval != 30*time.Second {
		t.Errorf("sweep interval %v, want the default 30s", c.SweepInterval)
	}
	if c.Env["DIGEST_TIME"] != "off" {
		t.Errorf("DIGEST_TIME = %q, want the digest off locally unless asked for", c.Env["DIGEST_TIME"])
	}
	// The service-level settings pass through to the functions, like the others.
	levels := map[string]string{"CRISIS_SLA": "1m", "LEAD_SLA": "2h", "BUSINESS_HOURS": "Mon-Sat 08:00-20:00", "CLOSED_DATES": "2026-12-25",
		"ESCALATION_EMAILS": "manager@example.com", "ONCALL_EMAIL": "oncall@example.com", "DIGEST_TIME": "07:00", "DIGEST_EMAILS": "owner@example.com",
		"LEADPIPE_SWEEP_INTERVAL": "10s"}
	c, err = devstack.ConfigFromEnv(env(levels))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range levels {
		if k != "LEADPIPE_SWEEP_INTERVAL" && c.Env[k] != v {
			t.Errorf("%s = %q, want %q passed through", k, c.Env[k], v)
		}
	}
	if c.SweepInterval != 10*time.Second {
		t.Errorf("LEADPIPE_SWEEP_INTERVAL=10s gave %v", c.SweepInterval)
	}
	if c, err := devstack.ConfigFromEnv(env(map[string]string{"LEADPIPE_SWEEP_INTERVAL": "off"})); err != nil || c.SweepInterval != 0 {
		t.Errorf("LEADPIPE_SWEEP_INTERVAL=off gave %v, %v", c.SweepInterval, err)
	}

	c, err = devstack.ConfigFromEnv(env(map[string]string{"LEADPIPE_API_PORT": "3100", "LEADPIPE_TABLE": "leads-dev",
		"LEADPIPE_ALLOWED_ORIGINS": "http://localhost:5173, https://clinic.example", "NOTIFY_DETAIL": "minimal", "THANK_YOU_URL": "https://clinic.example/thanks"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIPort != 3100 || c.Table != "leads-dev" || strings.Join(c.AllowedOrigins, " ") != "http://localhost:5173 https://clinic.example" ||
		c.Env["NOTIFY_DETAIL"] != "minimal" || c.Env["THANK_YOU_URL"] != "https://clinic.example/thanks" {
		t.Errorf("overrides = %+v", c)
	}

	for _, tt := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"LEADPIPE_SES_PORT": "eighty"}, "LEADPIPE_SES_PORT"},
		{map[string]string{"LEADPIPE_API_PORT": "70000"}, "LEADPIPE_API_PORT"},
		{map[string]string{"LEADPIPE_STREAM_PORT": "8000"}, "LEADPIPE_STREAM_PORT"},
		{map[string]string{"LEADPIPE_ALLOWED_ORIGINS": "*"}, "LEADPIPE_ALLOWED_ORIGINS"},
		{map[string]string{"LEADPIPE_ALLOWED_ORIGINS": "http://localhost:3000/path"}, "LEADPIPE_ALLOWED_ORIGINS"},
		{map[string]string{"LEADPIPE_SWEEP_INTERVAL": "often"}, "LEADPIPE_SWEEP_INTERVAL"},
		{map[string]string{"LEADPIPE_SWEEP_INTERVAL": "-1m"}, "LEADPIPE_SWEEP_INTERVAL"},
		{map[string]string{"LEADPIPE_SWEEP_INTERVAL": "10ms"}, "LEADPIPE_SWEEP_INTERVAL must be at least 1s"},
	} {
		if _, err := devstack.ConfigFromEnv(env(tt.kv)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one naming %s", tt.kv, err, tt.want)
		}
	}
}

// clinicName finds the clinic's name on an example page and in the
// example deploy configuration.
var clinicName = regexp.MustCompile(`class="clinic-name">([^<]+)<|"ClinicName=\\"([^"\\]+)\\""`)

// TestOneExampleClinicName: the example website, the dev stack's emails
// and samconfig.example.toml name the same placeholder clinic (issue 11,
// newcomer 5).
func TestOneExampleClinicName(t *testing.T) {
	c, err := devstack.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	root, err := samtemplate.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"examples/website/index.html", "examples/website/thank-you.html", "samconfig.example.toml"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		found := clinicName.FindAllSubmatch(data, -1)
		if len(found) == 0 {
			t.Errorf("%s: no clinic name found; is the pattern out of date?", f)
		}
		for _, m := range found {
			if name := string(m[1]) + string(m[2]); name != c.Env["CLINIC_NAME"] {
				t.Errorf("%s names the clinic %q, the dev stack's emails %q", f, name, c.Env["CLINIC_NAME"])
			}
		}
	}
}

// TestScheduledEscalation: the stack runs the notify function's schedule
// every LEADPIPE_SWEEP_INTERVAL with the service levels from the
// environment, so a crisis request submitted with a short CRISIS_SLA is
// escalated in the local SES inbox moments later, once per level.
func TestScheduledEscalation(t *testing.T) {
	ep, out := startStack(t, func(c *devstack.Config) {
		c.SweepInterval = time.Second
		c.Env["CRISIS_SLA"] = "2s"
		c.Env["ONCALL_EMAIL"] = "oncall@example.com"
		c.Env["DIGEST_TIME"] = "off"
	})
	if !strings.Contains(out, "scheduled run     every 1s (LEADPIPE_SWEEP_INTERVAL)") {
		t.Errorf("output does not say the schedule runs:\n%s", out)
	}
	crisisBody := strings.Replace(eventBody(t, "consultation-json.json"), `"inCrisis": false`, `"inCrisis": true`, 1)
	resp, body := do(t, "POST", ep.API+"/consultations", crisisBody, map[string]string{"Content-Type": "application/json", "Origin": ep.API})
	var got struct{ ID string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 201 || got.ID == "" {
		t.Fatalf("submit: %d %s", resp.StatusCode, body)
	}
	short := got.ID[len(got.ID)-8:]
	first := "URGENT (in crisis): OVERDUE: New consultation request " + short
	second := "URGENT (in crisis): OVERDUE, 2nd alert: New consultation request " + short
	var subjects []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		subjects = subjects[:0]
		for _, m := range awstest.SESStore(t, ep.SES) {
			subjects = append(subjects, strings.Join(m.Destination.To, ",")+" "+m.Subject)
		}
		if countPrefix(subjects, "staff@example.com,oncall@example.com "+second) > 0 {
			break
		}
	}
	time.Sleep(2 * time.Second) // two more runs: nothing more may come
	subjects = subjects[:0]
	for _, m := range awstest.SESStore(t, ep.SES) {
		subjects = append(subjects, strings.Join(m.Destination.To, ",")+" "+m.Subject)
	}
	if countPrefix(subjects, "staff@example.com "+first) != 1 || countPrefix(subjects, "staff@example.com,oncall@example.com "+second) != 1 {
		t.Errorf("emails %q, want one escalation to staff and one second level to staff and on-call", subjects)
	}
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}
