package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

var t0 = time.Date(2026, 11, 28, 14, 3, 21, 123_000_000, time.UTC)

func sampleConsultation(id string) lead.Lead {
	return lead.Lead{
		ID: id, Kind: lead.KindConsultation, Status: lead.StatusNew, CreatedAt: t0, ExpiresAt: t0.Add(365 * 24 * time.Hour),
		Consultation: &lead.Consultation{
			FirstName: "Sam", LastName: "Rivera", Email: "sam@example.com", Phone: "+14105550188",
			DateOfBirth: "1988-04-12", State: "MD", Concerns: []string{"depression", "anxiety"},
			PreviousTreatments: []string{"ssri"}, CurrentMedications: "Sertraline", MedicalHistory: "none",
			PreferredContact: "phone", PreferredTimes: []string{"morning"}, HearAbout: "search",
			ReferringProvider: "Dr. Lee", Message: "hello\nthere", InCrisis: true,
			ConsentToContact: true, AcknowledgedPrivacy: true, SMSConsent: true,
			Attribution: lead.Attribution{UTMSource: "google", LandingPage: "https://clinic.example/c"},
		},
		Attribution: lead.Attribution{UTMSource: "google", LandingPage: "https://clinic.example/c"},
		Consent: lead.Consent{ConsentToContact: true, AcknowledgedPrivacy: true, SMSConsent: true, At: t0,
			ClientIP: "203.0.113.7", UserAgent: "test-agent", LandingPage: "https://clinic.example/c"},
	}
}

// TestPutNeverOverwrites: a second write with the same id fails and
// leaves the first lead as it was. (TestRoundTripKeepsEveryField covers
// what Put stores.)
func TestPutNeverOverwrites(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	first := sampleConsultation(lead.NewID(t0))
	if err := st.Put(ctx, first); err != nil {
		t.Fatalf("Put: %v", err)
	}
	other := first
	other.Status = lead.StatusSpam
	if err := st.Put(ctx, other); !errors.Is(err, lead.ErrLeadExists) {
		t.Fatalf("second Put error = %v, want ErrLeadExists", err)
	}
	if got, err := st.Get(ctx, first.ID); err != nil || got.Status != lead.StatusNew {
		t.Errorf("after a second Put: status %q, %v; want new (not overwritten)", got.Status, err)
	}
}

func TestClaim(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	first := lead.Claim{Key: "key:contact:abc", LeadID: "L1", BodyHash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(lead.KeyWindow)}

	got, err := st.Claim(ctx, first)
	if err != nil || got.LeadID != "L1" {
		t.Fatalf("first Claim = %+v, %v; want L1", got, err)
	}
	second := first
	second.LeadID, second.BodyHash, second.CreatedAt = "L2", "h2", t0.Add(time.Hour)
	got, err = st.Claim(ctx, second)
	if err != nil || got.LeadID != "L1" || got.BodyHash != "h1" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("second Claim = %+v, %v; want the first claim back", got, err)
	}
	// After the window the key is free again, even before TTL deletes it.
	late := second
	late.CreatedAt = t0.Add(lead.KeyWindow + time.Second)
	got, err = st.Claim(ctx, late)
	if err != nil || got.LeadID != "L2" {
		t.Fatalf("Claim after expiry = %+v, %v; want L2", got, err)
	}
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(tbl.Client, tbl.Name)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := lead.Claim{Key: "auto:same", LeadID: lead.NewID(t0), BodyHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(lead.AutoWindow)}
			got, err := st.Claim(context.Background(), c)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = got.LeadID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("claims returned different lead ids %q and %q", ids[0], id)
		}
	}
	if n := tbl.Count(t, tbl.Name, "claim"); n != 1 {
		t.Errorf("claims stored = %d, want 1", n)
	}
}

func TestMarks(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	l := sampleConsultation(lead.NewID(t0))
	if err := st.Put(ctx, l); err != nil {
		t.Fatal(err)
	}
	if m, err := st.Marks(ctx, l.ID); err != nil || !m.NotifiedAt.IsZero() {
		t.Fatalf("Marks before = %+v, %v; want none", m, err)
	}
	at := t0.Add(time.Minute)
	if err := st.MarkNotified(ctx, l.ID, at); err != nil {
		t.Fatalf("MarkNotified: %v", err)
	}
	if err := st.MarkNotified(ctx, l.ID, at.Add(time.Minute)); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Fatalf("second MarkNotified = %v, want ErrAlreadyMarked", err)
	}
	if err := st.MarkConfirmed(ctx, l.ID, at); err != nil {
		t.Fatalf("MarkConfirmed: %v", err)
	}
	m, err := st.Marks(ctx, l.ID)
	if err != nil || !m.NotifiedAt.Equal(at) || !m.ConfirmedAt.Equal(at) {
		t.Fatalf("Marks after = %+v, %v; want both at %v", m, err, at)
	}
	if err := st.MarkNotified(ctx, "no-such-lead", at); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("MarkNotified(missing) = %v, want ErrNotFound (a mark must never create an item)", err)
	}
	if _, err := st.Marks(ctx, "no-such-lead"); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("Marks(missing) = %v, want ErrNotFound", err)
	}
}
