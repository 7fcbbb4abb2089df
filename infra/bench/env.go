package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
)

// benchEnv is what every function process shares: the AWS stub, the
// template's settings and the sample events.
type benchEnv struct {
	root    string
	stub    *awsStub
	stubEnv []string
	home    string
	events  map[string][]byte
	tmpl    *samtemplate.Template
}

// Settings the notifier needs; the values are the sample clinic's.
var notifyEnv = []string{
	"SENDER_EMAIL=notify@clinic.example",
	"STAFF_EMAILS=frontdesk@clinic.example",
	"CLINIC_NAME=Example Clinic",
	"CLINIC_PHONE=+1 410 555 0100",
	"CLINIC_ADDRESS=1 Harbor St, Baltimore, MD 21202",
	"CALLBACK_PROMISE=within one business day",
	"CLINIC_TIMEZONE=America/New_York",
	"NOTIFY_DETAIL=contact",
	"SEND_CONFIRMATION=false",
}

// staffRecipients is the number of addresses in STAFF_EMAILS above.
const staffRecipients = 1

// Settings the staff function needs: the user pool and app client the
// sample event's token was issued by (events/staff-list.json: its iss and
// client_id), and a cursor key of the length the template generates.
var staffEnv = []string{
	"USER_POOL_ID=us-east-1_Ex4mpLe12",
	"USER_POOL_CLIENT_ID=5f2kq8exampleclient0000000",
	"CURSOR_SECRET=leadpipe-bench-cursor-secret-not-real-0123456789abcdef",
	"CLINIC_TIMEZONE=America/New_York",
}

func newBenchEnv(root, work string, useTLS bool) (*benchEnv, error) {
	stub, stubEnv, err := newAWSStub(useTLS, work)
	if err != nil {
		return nil, err
	}
	home := filepath.Join(work, "home") // no ~/.aws: a Lambda has none
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.LoadFile(filepath.Join(root, samtemplate.DefaultFile))
	if err != nil {
		return nil, err
	}
	e := &benchEnv{root: root, stub: stub, stubEnv: stubEnv, home: home, events: map[string][]byte{}, tmpl: tmpl}
	if stub.queries, err = newQueryAnswers(tmpl); err != nil {
		return nil, fmt.Errorf("the AWS stub's Query answers: %w", err)
	}
	for _, t := range targets {
		if _, ok := e.events[t.Event]; ok {
			continue
		}
		b, err := benchdata.EventBytes(t.Event)
		if err != nil {
			return nil, err
		}
		e.events[t.Event] = b
	}
	return e, nil
}

func (e *benchEnv) close() { e.stub.close() }

// memoryMB is the function's MemorySize in template.yaml (Globals
// included); 128, Lambda's default, when it sets none.
func (e *benchEnv) memoryMB(logical string) int {
	if logical == "" {
		return 128
	}
	for _, v := range []any{
		e.tmpl.Resources[logical].Properties["MemorySize"],
		globalFunction(e.tmpl)["MemorySize"],
	} {
		switch n := v.(type) {
		case int:
			return n
		case float64:
			return int(n)
		case string:
			if i, err := strconv.Atoi(n); err == nil {
				return i
			}
		}
	}
	return 128
}

func globalFunction(t *samtemplate.Template) map[string]any {
	m, _ := t.Globals["Function"].(map[string]any)
	return m
}

// processEnv is the environment Lambda gives the function (the parts the
// functions and the Go runtime read), pointed at the stub.
func (e *benchEnv) processEnv(t target) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"HOME=" + e.home,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDLEADPIPEBENCH00",
		"AWS_SECRET_ACCESS_KEY=leadpipe-bench-secret-key-not-real",
		"AWS_SESSION_TOKEN=leadpipe-bench-session-token-not-real",
		"AWS_LAMBDA_FUNCTION_NAME=leadpipe-" + t.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(e.memoryMB(t.Logical)),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/leadpipe-" + t.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=bench",
		"_HANDLER=bootstrap",
		"AWS_ENDPOINT_URL_DYNAMODB=" + e.stub.url,
		"AWS_ENDPOINT_URL_SESV2=" + e.stub.sesURL,
		"LEADS_TABLE=Leads",
	}
	env = append(env, e.stubEnv...)
	switch t.Kind {
	case "notify":
		env = append(env, notifyEnv...)
	case "staff":
		env = append(env, staffEnv...)
	}
	return env
}

// eventsFor returns n events for t. Intake events each get their own
// Idempotency-Key and request id, so every invocation is a new lead rather
// than a replay that stops at the claim.
func (e *benchEnv) eventsFor(t target, tag string, n int) ([][]byte, error) {
	raw := e.events[t.Event]
	out := make([][]byte, n)
	if t.Kind != "intake" {
		for i := range out {
			out[i] = raw
		}
		return out, nil
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	headers, _ := ev["headers"].(map[string]any)
	rc, _ := ev["requestContext"].(map[string]any)
	if headers == nil || rc == nil {
		return nil, fmt.Errorf("%s: no headers or requestContext", t.Event)
	}
	for i := range out {
		headers["idempotency-key"] = fmt.Sprintf("bench-%s-%s-%06d", t.Name, tag, i)
		rc["requestId"] = fmt.Sprintf("bench-%s-%06d", tag, i)
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// check returns the test of a response that proves the function did its
// work: 201 from intake, no failed records from the notifier, a page with
// leads from the staff list.
func check(t target) func([]byte) error {
	switch t.Kind {
	case "intake":
		return func(b []byte) error {
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(b, &resp); err != nil {
				return fmt.Errorf("response is not an API Gateway response: %s", b)
			}
			if resp.StatusCode != 201 {
				return fmt.Errorf("status %d, want 201: %s", resp.StatusCode, resp.Body)
			}
			return nil
		}
	case "staff":
		return func(b []byte) error {
			_, err := staffPage(b)
			return err
		}
	case "notify":
		return func(b []byte) error {
			var resp struct {
				Failures []any `json:"batchItemFailures"`
			}
			if err := json.Unmarshal(b, &resp); err != nil {
				return fmt.Errorf("response is not a DynamoDBEventResponse: %s", b)
			}
			if len(resp.Failures) > 0 {
				return fmt.Errorf("failed records: %s", b)
			}
			return nil
		}
	}
	return func(b []byte) error {
		if string(b) != `"ok"` {
			return fmt.Errorf("answered %s, want \"ok\"", b)
		}
		return nil
	}
}

// listPage is the body of a staff list answer.
type listPage struct {
	Leads []listRow `json:"leads"`
	Next  string    `json:"next"`
}

type listRow struct {
	ID         string `json:"id"`
	InCrisis   bool   `json:"inCrisis"`
	ReceivedAt string `json:"receivedAt"`
}

// decodeList reads a staff function's answer to a list request: 200 and
// a page, which may be empty (a filtered page can be).
func decodeList(b []byte) (listPage, error) {
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	var page listPage
	if err := json.Unmarshal(b, &resp); err != nil {
		return page, fmt.Errorf("response is not an API Gateway response: %s", b)
	}
	if resp.StatusCode != 200 {
		return page, fmt.Errorf("status %d, want 200: %s", resp.StatusCode, resp.Body)
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
		return page, fmt.Errorf("list body: %w", err)
	}
	return page, nil
}

// staffPage is decodeList for the stub's answer, which always has leads.
func staffPage(b []byte) (listPage, error) {
	page, err := decodeList(b)
	if err == nil && len(page.Leads) == 0 {
		err = fmt.Errorf("a page without leads: %s", b)
	}
	return page, err
}
