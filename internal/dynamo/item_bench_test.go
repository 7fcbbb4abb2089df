package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// BenchmarkPut is building the DynamoDB item and PutItem input for the
// sample leads (there is no exported item builder, so Store.Put runs
// against a client that does nothing; the SDK's own serialisation is not
// included).
func BenchmarkPut(b *testing.B) {
	for _, c := range []struct {
		name string
		lead func() (lead.Lead, error)
	}{
		{"contact", benchdata.ContactLead},
		{"consultation", benchdata.ConsultationLead},
	} {
		b.Run(c.name, func(b *testing.B) {
			l, err := c.lead()
			if err != nil {
				b.Fatal(err)
			}
			s := dynamo.New(benchdata.NopDynamo{}, "Leads")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Put(ctx, l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClaim is the idempotency claim's item and conditional PutItem
// input.
func BenchmarkClaim(b *testing.B) {
	s := dynamo.New(benchdata.NopDynamo{}, "Leads")
	ctx := context.Background()
	c := lead.Claim{
		Key:       "key:consultation:0b6f6c1a-8a57-4f61-9d39-4c1f7e2b9a10",
		LeadID:    lead.NewID(benchdata.Now),
		BodyHash:  "3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
		CreatedAt: benchdata.Now,
		ExpiresAt: benchdata.Now.Add(24 * time.Hour),
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Claim(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeadFromImage is the notifier's parse of a stream record's new
// image.
func BenchmarkLeadFromImage(b *testing.B) {
	ev, err := benchdata.Stream(benchdata.StreamEvent)
	if err != nil {
		b.Fatal(err)
	}
	img := ev.Records[0].Change.NewImage
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dynamo.LeadFromImage(img); err != nil {
			b.Fatal(err)
		}
	}
}
