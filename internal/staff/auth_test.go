package staff_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/staff"
)

// untouchable is a store that fails the test when anything reaches it.
type untouchable struct{ t *testing.T }

func (u untouchable) fail(op string) { u.t.Errorf("%s reached the store before authorization", op) }

func (u untouchable) ListLeads(context.Context, lead.Status, lead.Kind, int, *dynamo.ListKey) (dynamo.Page, error) {
	u.fail("ListLeads")
	return dynamo.Page{}, nil
}

func (u untouchable) LeadForStaff(context.Context, string) (lead.Lead, dynamo.Marks, error) {
	u.fail("LeadForStaff")
	return lead.Lead{}, dynamo.Marks{}, dynamo.ErrNotFound
}

func (u untouchable) Audit(context.Context, string) ([]lead.AuditEntry, error) {
	u.fail("Audit")
	return nil, nil
}

func (u untouchable) RecordView(context.Context, lead.AuditEntry) error {
	u.fail("RecordView")
	return nil
}

func (u untouchable) Change(context.Context, dynamo.Change) (int, error) {
	u.fail("Change")
	return 0, nil
}

func with(claims map[string]string, k, v string) map[string]string {
	c := maps.Clone(claims)
	if v == "" {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

func TestAuthorization(t *testing.T) {
	h := staff.NewWithStore(testConfig(), "us-east-1", untouchable{t}, time.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	id := lead.NewID(time.Now())
	routes := []func(map[string]string) events.APIGatewayV2HTTPRequest{
		func(c map[string]string) events.APIGatewayV2HTTPRequest {
			r := listReq(map[string]string{"status": "new"})
			r.RequestContext.Authorizer = nil
			return withClaims(r, c)
		},
		func(c map[string]string) events.APIGatewayV2HTTPRequest { return withClaims(showReq(id), c) },
		func(c map[string]string) events.APIGatewayV2HTTPRequest {
			return withClaims(patchReq(id, `{"status":"contacted","version":1}`), c)
		},
	}
	for _, tt := range []struct {
		name   string
		claims map[string]string
		status int
		code   string
	}{
		{"no authorizer", nil, 401, "unauthorized"},
		{"empty claims", map[string]string{}, 401, "unauthorized"},
		{"no subject", with(staffClaims, "sub", ""), 401, "unauthorized"},
		{"no groups", with(staffClaims, "cognito:groups", ""), 403, "forbidden"},
		{"another group", with(staffClaims, "cognito:groups", "[billing]"), 403, "forbidden"},
		{"a group that merely contains the word", with(staffClaims, "cognito:groups", "[staffing]"), 403, "forbidden"},
		{"an ID token", with(staffClaims, "token_use", "id"), 403, "forbidden"},
		{"no token_use", with(staffClaims, "token_use", ""), 403, "forbidden"},
	} {
		for i, route := range routes {
			req := route(tt.claims)
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, `"error":"`+tt.code+`"`) {
				t.Errorf("%s, route %d (%s): %d %s, want %d %s", tt.name, i, req.RouteKey, resp.StatusCode, resp.Body, tt.status, tt.code)
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("%s: Cache-Control = %q", tt.name, resp.Headers["Cache-Control"])
			}
		}
	}
}

func withClaims(req events.APIGatewayV2HTTPRequest, claims map[string]string) events.APIGatewayV2HTTPRequest {
	req.RequestContext.Authorizer = nil
	if claims != nil {
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return req
}

// Groups arrive as API Gateway flattens them; admins count as staff; the
// actor's email is the email claim, else the username (staff usernames are
// their addresses).
func TestAllowedClaims(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, contact(t0, lead.StatusNew))
	for _, tt := range []struct {
		name   string
		claims map[string]string
		email  string
	}{
		{"staff", staffClaims, "staff@clinic.test"},
		{"admin among others", with(staffClaims, "cognito:groups", "[billing admin]"), "staff@clinic.test"},
		{"JSON array", with(staffClaims, "cognito:groups", `["staff"]`), "staff@clinic.test"},
		{"bare", with(staffClaims, "cognito:groups", "staff"), "staff@clinic.test"},
		{"email claim", with(staffClaims, "email", "boss@clinic.test"), "boss@clinic.test"},
	} {
		resp := f.do(t, withClaims(showReq(l.ID), tt.claims))
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, resp.Body)
			continue
		}
		d := decode[detailJSON](t, resp)
		if d.Audit[0].Actor.Email != tt.email || d.Audit[0].Actor.Sub != staffClaims["sub"] {
			t.Errorf("%s: actor = %+v, want %s", tt.name, d.Audit[0].Actor, tt.email)
		}
	}
}
