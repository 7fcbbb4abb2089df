// The staff function's binary under the Runtime Interface Emulator, against
// dynalite through the stream proxy (which emulates the transactions its
// changes use).

package functions_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func invokeStaff(t *testing.T, fn *localaws.Emulator, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := fn.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", req.RouteKey, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("invoke %s answered %s, not an API Gateway v2 response", req.RouteKey, out)
	}
	return resp
}

func staffEvent(route string, params map[string]string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	method, path, _ := strings.Cut(route, " ")
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: route, RawPath: path, PathParameters: params,
		Headers: map[string]string{"content-type": "application/json"}}
	req.RequestContext.RequestID = "rie-req"
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.SourceIP = "198.51.100.1"
	req.RequestContext.HTTP.UserAgent = "rie-test"
	if claims != nil {
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return req
}

func TestStaffBinaryUnderRuntimeEmulator(t *testing.T) {
	rieBin := rie(t)
	bin := awstest.Bootstrap(t, "./functions/staff")
	s := newStack(t, func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	})
	now := time.Now().UTC().Truncate(time.Millisecond)
	l := lead.Lead{
		ID: lead.NewID(now), Kind: lead.KindContact, Status: lead.StatusNew, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		Contact: &lead.Contact{Name: "Jordan Avery", Email: "jordan@example.com", Message: "Hello"},
		Consent: lead.Consent{ConsentToContact: true, At: now},
	}
	if err := dynamo.New(s.direct, s.table).Put(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	fn := awstest.RIE(t, localaws.RIEOptions{Binary: bin, RIEPath: rieBin, Env: s.env(
		"AWS_LAMBDA_FUNCTION_TIMEOUT=10", "USER_POOL_ID=local_pool1", "USER_POOL_CLIENT_ID=client1",
		"CURSOR_SECRET="+strings.Repeat("k", 40), "CLINIC_TIMEZONE=America/New_York", "COGNITO_ENDPOINT=http://127.0.0.1:9229",
	)})
	claims := map[string]string{"sub": "s-1", "token_use": "access", "cognito:groups": "[staff]", "username": "staff@clinic.test"}

	if resp := invokeStaff(t, fn, staffEvent("GET /staff", nil, nil)); resp.StatusCode != 200 ||
		!strings.Contains(resp.Headers["Content-Security-Policy"], "connect-src 'self' http://127.0.0.1:9229;") {
		t.Errorf("page: %d %v", resp.StatusCode, resp.Headers)
	}
	if resp := invokeStaff(t, fn, staffEvent("GET /staff/config.json", nil, nil)); resp.StatusCode != 200 ||
		!strings.Contains(resp.Body, `"timeZone":"America/New_York"`) || !strings.Contains(resp.Body, `"userPoolId":"local_pool1"`) {
		t.Errorf("config.json: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invokeStaff(t, fn, staffEvent("GET /staff/leads", nil, nil)); resp.StatusCode != 401 {
		t.Errorf("list without claims: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invokeStaff(t, fn, staffEvent("GET /staff/leads", nil, claims)); resp.StatusCode != 200 || !strings.Contains(resp.Body, l.ID) {
		t.Errorf("list: %d %s", resp.StatusCode, resp.Body)
	}
	id := map[string]string{"id": l.ID}
	if resp := invokeStaff(t, fn, staffEvent("GET /staff/leads/{id}", id, claims)); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"action":"viewed"`) {
		t.Errorf("detail: %d %s", resp.StatusCode, resp.Body)
	}
	patch := staffEvent("PATCH /staff/leads/{id}", id, claims)
	patch.Body = `{"status":"contacted","note":"called","version":1}`
	resp := invokeStaff(t, fn, patch)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"contacted"`) || !strings.Contains(resp.Body, `"version":2`) {
		t.Errorf("change: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invokeStaff(t, fn, patch); resp.StatusCode != 412 || !strings.Contains(resp.Body, `"version":2`) {
		t.Errorf("the same change again: %d %s, want 412 with version 2", resp.StatusCode, resp.Body)
	}
}
