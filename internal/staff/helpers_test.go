package staff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/staff"
)

var t0 = time.Date(2026, 11, 28, 14, 3, 21, 123_000_000, time.UTC)

const secret = "0123456789abcdef0123456789abcdef-test-secret"

func testConfig() staff.Config {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return staff.Config{
		Table: "unused", UserPoolID: "us-east-1_Pool123", ClientID: "client123",
		CursorSecret: []byte(secret), TimeZone: ny, Retention: 365 * 24 * time.Hour,
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond) // every call a new instant
	return c.now
}

// fixture is the staff handler on a real leads table in dynalite, through
// the transaction shim, with every DynamoDB call counted.
type fixture struct {
	tbl   *dynamotest.Table
	calls *dynamotest.Counter
	staff *dynamo.Staff
	leads *dynamo.Store
	h     *staff.Handler
	logs  *awstest.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tbl := dynamotest.New(t)
	f := &fixture{tbl: tbl, calls: &dynamotest.Counter{API: dynamo.StaffClientAPI(tbl.Transactional(t))}, logs: &awstest.Buffer{}}
	f.staff = dynamo.NewStaff(f.calls, tbl.Name)
	f.leads = dynamo.New(f.calls, tbl.Name)
	f.h = f.handler(f.staff)
	return f
}

// handler is a Handler on st with the fixture's logs.
func (f *fixture) handler(st staff.Store) *staff.Handler {
	cfg := testConfig()
	cfg.Table = f.tbl.Name
	return staff.NewWithStore(cfg, "us-east-1", st, (&clock{now: t0.Add(time.Hour)}).Now,
		slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

func (f *fixture) put(t *testing.T, l lead.Lead) lead.Lead {
	t.Helper()
	if err := f.leads.Put(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l
}

var staffClaims = map[string]string{
	"sub": "11111111-2222-3333-4444-555555555555", "token_use": "access", "cognito:groups": "[staff]",
	"username": "staff@clinic.test", "client_id": "client123",
}

// request is a v2 event for route as API Gateway sends it to the
// function, with claims from the JWT authorizer (nil: no authorizer).
func request(route string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	method, path, _ := strings.Cut(route, " ")
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path,
		Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, SourceIP: "198.51.100.23", UserAgent: "Mozilla/5.0 (test)",
			},
		},
	}
	if claims != nil {
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return req
}

func listReq(query map[string]string) events.APIGatewayV2HTTPRequest {
	req := request("GET /staff/leads", staffClaims)
	req.QueryStringParameters = query
	return req
}

func showReq(id string) events.APIGatewayV2HTTPRequest {
	req := request("GET /staff/leads/{id}", staffClaims)
	req.PathParameters = map[string]string{"id": id}
	req.RawPath = "/staff/leads/" + id
	return req
}

func patchReq(id, body string) events.APIGatewayV2HTTPRequest {
	req := request("PATCH /staff/leads/{id}", staffClaims)
	req.PathParameters = map[string]string{"id": id}
	req.RawPath = "/staff/leads/" + id
	req.Headers["content-type"] = "application/json"
	req.Body = body
	return req
}

func (f *fixture) do(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := f.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned error %v", err)
	}
	if resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", req.RouteKey, resp.Headers["Cache-Control"])
	}
	return resp
}

func decode[T any](t testing.TB, resp events.APIGatewayV2HTTPResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return v
}

// Client-side views of the JSON, so the tests read the contract's names.
type (
	listJSON struct {
		Leads []struct {
			ID, ShortID, Kind, KindLabel, Status, StatusLabel, ReceivedAt, ReceivedLocal, DisplayName string
			InCrisis, Notified                                                                        bool
		}
		Next *string
	}
	auditJSON struct {
		At                                    string
		Actor                                 struct{ Sub, Email string }
		Action, From, To, SourceIP, UserAgent string
	}
	detailJSON struct {
		ID, ShortID, Kind, KindLabel, Status, StatusLabel string
		Version                                           int
		ReceivedAt, ReceivedLocal, DisplayName            string
		InCrisis                                          bool
		NotifiedAt, ConfirmedAt                           *string
		Sections                                          []struct {
			Title string
			Rows  []struct{ Key, Label, Value string }
		}
		Consent struct {
			ConsentToContact, AcknowledgedPrivacy, SMSConsent bool
			At, ClientIP, UserAgent, LandingPage              string
		}
		Attribution     map[string]string
		History         []struct{ At, By, From, To string }
		Notes           []struct{ At, By, Text string }
		Audit           []auditJSON
		AllowedStatuses []string
	}
	errorJSON struct {
		Error, Message, Field string
		Fields                []lead.FieldError
		Version               int
	}
)

func consultation(at time.Time, status lead.Status, crisis bool) lead.Lead {
	l := lead.Lead{
		ID: lead.NewID(at), Kind: lead.KindConsultation, Status: status, CreatedAt: at, ExpiresAt: at.Add(365 * 24 * time.Hour),
		Consultation: &lead.Consultation{
			FirstName: "Sam", LastName: "Rivera", Email: "sam@example.com", Phone: "+14105550188",
			DateOfBirth: "1988-04-12", State: "MD", Concerns: []string{"depression", "ptsd"},
			PreviousTreatments: []string{"ssri", "tms"}, CurrentMedications: "Sertraline 50mg", MedicalHistory: "Hypertension",
			PreferredContact: "text", PreferredTimes: []string{"morning", "evening"}, HearAbout: "referral_provider",
			ReferringProvider: "Dr. Lee", Message: "Looking forward", InCrisis: crisis,
			ConsentToContact: true, AcknowledgedPrivacy: true, SMSConsent: true,
		},
		Attribution: lead.Attribution{UTMSource: "google", UTMCampaign: "fall", LandingPage: "https://clinic.example/c", Referrer: "https://search.example/"},
		Consent: lead.Consent{ConsentToContact: true, AcknowledgedPrivacy: true, SMSConsent: true, At: at,
			ClientIP: "203.0.113.7", UserAgent: "form-agent", LandingPage: "https://clinic.example/c"},
	}
	l.Consultation.Attribution = l.Attribution
	return l
}

func contact(at time.Time, status lead.Status) lead.Lead {
	return lead.Lead{
		ID: lead.NewID(at), Kind: lead.KindContact, Status: status, CreatedAt: at, ExpiresAt: at.Add(365 * 24 * time.Hour),
		Contact: &lead.Contact{Name: "Jordan Avery", Email: "jordan@example.com", Phone: "+14105550100",
			Message: "Do you take my insurance?", PreferredContact: "phone"},
		Consent: lead.Consent{ConsentToContact: true, At: at, ClientIP: "203.0.113.9", UserAgent: "form-agent"},
	}
}

func body(status string, version int, note *string) string {
	m := map[string]any{"version": version}
	if status != "" {
		m["status"] = status
	}
	if note != nil {
		m["note"] = *note
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func actions(trail []auditJSON) string {
	var out []string
	for _, e := range trail {
		out = append(out, e.Action)
	}
	return fmt.Sprint(out)
}
