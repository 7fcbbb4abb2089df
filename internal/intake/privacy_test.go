package intake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// markedConsultation fills every field with a value holding a unique
// marker (still valid, so the success path runs too), and returns the
// markers.
func markedConsultation() (map[string]any, []string) {
	var markers []string
	mark := func(field string) string {
		m := "zq" + strings.ToLower(field) + "mk"
		markers = append(markers, m)
		return m
	}
	body := map[string]any{
		"firstName": "Ann " + mark("firstName"), "lastName": "Lee " + mark("lastName"),
		"email": mark("email") + "@example.com", "phone": "(410) 555-0134",
		"dateOfBirth": "1988-04-12", "state": "MD",
		"concerns": []string{"depression"}, "previousTreatments": []string{"ssri"},
		"currentMedications": "med " + mark("currentMedications"), "medicalHistory": "hist " + mark("medicalHistory"),
		"preferredContact": "email", "preferredTimes": []string{"morning"}, "hearAbout": "search",
		"referringProvider": "Dr " + mark("referringProvider"), "message": "msg " + mark("message"),
		"inCrisis": true, "consentToContact": true, "acknowledgedPrivacy": true,
		"utmSource": mark("utmSource"), "utmMedium": mark("utmMedium"), "utmCampaign": mark("utmCampaign"),
		"utmTerm": mark("utmTerm"), "utmContent": mark("utmContent"),
		"landingPage": "https://clinic.example/" + mark("landingPage"), "referrer": "https://ref.example/" + mark("referrer"),
	}
	return body, markers
}

// TestNoSubmittedDataInLogsOrResponses drives success and every failure
// path with marker values and looks for the markers in all log output and
// every response.
func TestNoSubmittedDataInLogsOrResponses(t *testing.T) {
	f := newFixture(t, "")
	base, markers := markedConsultation()
	// Phone, date of birth and the user agent are personal too.
	markers = append(markers, "5550134", "1988-04-12", "zquseragentmk")
	encode := func(mutate func(map[string]any)) string {
		b := map[string]any{}
		for k, v := range base {
			b[k] = v
		}
		if mutate != nil {
			mutate(b)
		}
		out, _ := json.Marshal(b)
		return string(out)
	}

	var seen bytes.Buffer
	send := func(name string, h *Handler, body, contentType, key string, wantStatus int) {
		t.Helper()
		req := loadEvent(t, "consultation-json.json")
		req.Body, req.Headers["content-type"], req.Headers["idempotency-key"] = body, contentType, key
		req.Headers["user-agent"], req.RequestContext.HTTP.UserAgent = "zquseragentmk", "zquseragentmk"
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != wantStatus {
			t.Errorf("%s: got %d %v, want %d", name, resp.StatusCode, err, wantStatus)
		}
		fmt.Fprintf(&seen, "%s %v %s\n", name, resp.Headers, resp.Body)
	}

	send("success", f.consultation, encode(nil), "application/json", "privacy-1", 201)
	send("validation", f.consultation, encode(func(b map[string]any) { b["state"] = "zqbadstatemk"; b["email"] = "zqbademailmk" }), "application/json", "", 422)
	markers = append(markers, "zqbadstatemk", "zqbademailmk")
	send("wrong type", f.consultation, encode(func(b map[string]any) { b["inCrisis"] = "zqwrongtypemk" }), "application/json", "", 400)
	markers = append(markers, "zqwrongtypemk")
	send("malformed", f.consultation, encode(nil)[:200], "application/json", "", 400)
	send("too large", f.consultation, encode(func(b map[string]any) { b["message"] = strings.Repeat("zqbigmk ", 9000) }), "application/json", "", 413)
	send("media type", f.consultation, encode(nil), "text/plain", "", 415)
	// The honeypot filled by autofill: a suspected-spam lead, counted.
	send("honeypot", f.consultation, encode(func(b map[string]any) { b["website"] = "zqwebsitemk" }), "application/json", "", 201)
	markers = append(markers, "zqwebsitemk")
	send("key reused", f.consultation, encode(func(b map[string]any) { b["message"] = "other zqothermk" }), "application/json", "privacy-1", 422)
	markers = append(markers, "zqothermk")

	// The store failing: its error is logged, and must hold nothing submitted.
	cfg := awstest.Config()
	cfg.Retryer = nil
	down := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") })
	broken := *f.consultation
	svc := *broken.Service
	svc.Store = dynamo.New(down, "leads")
	broken.Service = &svc
	send("store down", &broken, encode(func(b map[string]any) { b["message"] = "again zqagainmk" }), "application/json", "", 503)
	markers = append(markers, "zqagainmk")

	all := f.logs.String() + f.metrics.String() + seen.String()
	if !strings.Contains(f.metrics.String(), "IntakeFaults") {
		t.Errorf("the store fault was not counted: %s", f.metrics)
	}
	if !strings.Contains(f.logs.String(), `"leadId"`) || !strings.Contains(f.logs.String(), `"requestId"`) {
		t.Errorf("logs lack request and lead ids:\n%s", f.logs)
	}
	for _, m := range markers {
		if strings.Contains(all, m) {
			t.Errorf("marker %q appears in logs or responses", m)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s\nresponses:\n%s", f.logs, seen.String())
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Errorf("log line is not JSON: %q", l)
		}
	}
}

// TestNoContactDataInLogsOrPages does the same for the contact form posted
// as a plain HTML form: the 303, the error page and the JSON errors.
func TestNoContactDataInLogsOrPages(t *testing.T) {
	f := newFixture(t, "https://www.example-clinic.com/thank-you")
	fields := map[string]string{
		"name": "Ann zqcnamemk", "email": "zqcemailmk@example.com", "phone": "(410) 555-0177",
		"message": "hello zqcmessagemk", "preferredContact": "email",
		"utmSource": "zqcutmmk", "landingPage": "https://clinic.example/zqclandingmk", "referrer": "https://r.example/zqcrefmk",
	}
	markers := []string{"zqcnamemk", "zqcemailmk", "5550177", "zqcmessagemk", "zqcutmmk", "zqclandingmk", "zqcrefmk", "zqcbadmk"}
	encode := func(mutate func(url.Values)) string {
		v := url.Values{}
		for k, x := range fields {
			v.Set(k, x)
		}
		if mutate != nil {
			mutate(v)
		}
		return base64.StdEncoding.EncodeToString([]byte(v.Encode()))
	}
	var seen strings.Builder
	for _, tt := range []struct {
		name, accept string
		mutate       func(url.Values)
		status       int
	}{
		{"success, browser", "text/html", nil, 303},
		{"invalid, browser page", "text/html", func(v url.Values) { v.Set("email", "zqcbadmk") }, 422},
		{"invalid, JSON", "application/json", func(v url.Values) { v.Set("email", "zqcbadmk") }, 422},
		{"wrong boolean, browser page", "text/html", func(v url.Values) { v.Set("smsConsent", "zqcbadmk") }, 400},
		{"duplicate field, JSON", "*/*", func(v url.Values) { v.Add("name", "zqcbadmk") }, 400},
	} {
		req := loadEvent(t, "contact-form.json")
		req.Body, req.IsBase64Encoded, req.Headers["accept"] = encode(tt.mutate), true, tt.accept
		resp := f.do(t, req)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: got %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		fmt.Fprintf(&seen, "%s %v %s\n", tt.name, resp.Headers, resp.Body)
	}
	all := f.logs.String() + f.metrics.String() + seen.String()
	for _, m := range markers {
		if strings.Contains(all, m) {
			t.Errorf("marker %q appears in logs or responses", m)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s\nresponses:\n%s", f.logs, seen.String())
	}
}
