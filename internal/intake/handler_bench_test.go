package intake_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// perRequest is one intake request's own work, wired as production wires it
// but with a DynamoDB client that does nothing: the figures leave out the
// SDK's serialisation, signing and the network, and keep everything this
// project's code does.
type perRequest struct {
	name    string
	req     events.APIGatewayV2HTTPRequest
	newForm func() lead.Form
	svc     *lead.Service
	handler *intake.Handler
}

func newPerRequest(tb testing.TB) []perRequest {
	tb.Helper()
	svc := &lead.Service{
		Store:         dynamo.New(benchdata.NopDynamo{}, "Leads"),
		Validator:     lead.NewValidator(func() time.Time { return benchdata.Now }),
		Retention:     365 * 24 * time.Hour,
		SpamRetention: 7 * 24 * time.Hour,
		Now:           func() time.Time { return benchdata.Now },
		NewID:         lead.NewID,
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil)) // info level, as deployed
	var out []perRequest
	for _, c := range []struct {
		name, event string
		newForm     func() lead.Form
	}{
		{"contact", benchdata.ContactEvent, func() lead.Form { return new(lead.Contact) }},
		{"consultation", benchdata.ConsultationEvent, func() lead.Form { return new(lead.Consultation) }},
	} {
		req, err := benchdata.Request(c.event)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, perRequest{
			name: c.name, req: req, newForm: c.newForm, svc: svc,
			handler: &intake.Handler{Service: svc, NewForm: c.newForm, Log: log},
		})
	}
	return out
}

// work is decode, validate and build the items: Decode, then Submit
// (normalise, validate, fingerprint, claim item, lead item).
func (p perRequest) work(tb testing.TB) {
	form := p.newForm()
	if _, err := httpapi.Decode(p.req, form); err != nil {
		tb.Fatal(err)
	}
	if _, err := p.svc.Submit(context.Background(), form, lead.Request{
		IdempotencyKey: httpapi.Header(p.req, "idempotency-key"),
		ClientIP:       p.req.RequestContext.HTTP.SourceIP,
		UserAgent:      p.req.RequestContext.HTTP.UserAgent,
	}); err != nil {
		tb.Fatal(err)
	}
}

// handle is the whole handler: work plus logging and the response.
func (p perRequest) handle(tb testing.TB) {
	resp, err := p.handler.Handle(context.Background(), p.req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		tb.Fatalf("Handle = %d, %v; want 201: %s", resp.StatusCode, err, resp.Body)
	}
}

// BenchmarkRequest is decode + validate + item build per request.
func BenchmarkRequest(b *testing.B) {
	for _, p := range newPerRequest(b) {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.work(b)
			}
		})
	}
}

// BenchmarkHandle is the whole handler per request.
func BenchmarkHandle(b *testing.B) {
	for _, p := range newPerRequest(b) {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.handle(b)
			}
		})
	}
}
