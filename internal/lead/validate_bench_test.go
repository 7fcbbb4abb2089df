package lead_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// BenchmarkValidate is validation of the sample events' forms, already
// normalised, with a validator built once as intake builds it at start-up.
func BenchmarkValidate(b *testing.B) {
	v := lead.NewValidator(func() time.Time { return benchdata.Now })
	for _, c := range []struct {
		name string
		form func() (lead.Form, error)
	}{
		{"contact", func() (lead.Form, error) { return benchdata.Contact() }},
		{"consultation", func() (lead.Form, error) { return benchdata.Consultation() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			form, err := c.form()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Validate(form); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNormalize is the clean-up before validation (NFC, trimming,
// E.164 phone numbers).
func BenchmarkNormalize(b *testing.B) {
	c, err := benchdata.Consultation()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f := *c
		f.Normalize()
	}
}

// BenchmarkSubmit is the whole domain step of a submission against a store
// that does nothing: normalise, validate, fingerprint, new id, claim, build
// the lead. Decoding and DynamoDB item building are measured in their own
// packages.
func BenchmarkSubmit(b *testing.B) {
	svc := &lead.Service{
		Store:         nopStore{},
		Validator:     lead.NewValidator(func() time.Time { return benchdata.Now }),
		Retention:     365 * 24 * time.Hour,
		SpamRetention: 7 * 24 * time.Hour,
		Now:           func() time.Time { return benchdata.Now },
		NewID:         lead.NewID,
	}
	req := lead.Request{IdempotencyKey: "0b6f6c1a-8a57-4f61-9d39-4c1f7e2b9a10", ClientIP: "203.0.113.7", UserAgent: "bench"}
	c, err := benchdata.Consultation()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f := *c
		if _, err := svc.Submit(context.Background(), &f, req); err != nil {
			b.Fatal(err)
		}
	}
}

type nopStore struct{}

func (nopStore) Claim(_ context.Context, c lead.Claim) (lead.Claim, error) { return c, nil }
func (nopStore) Put(context.Context, lead.Lead) error                      { return nil }
func (nopStore) HeldClaim(context.Context, string, time.Time) (lead.Claim, bool, error) {
	return lead.Claim{}, false, nil
}
