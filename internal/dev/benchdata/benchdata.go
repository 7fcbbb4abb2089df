// Package benchdata holds the fixtures the benchmarks, the allocation
// budgets and the bench command share: the sample events under events/, the
// forms and leads they carry, and no-op AWS clients, so that every figure is
// measured on the same inputs. It is for tests and tools only; no function
// imports it.
package benchdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The sample events every figure is measured on.
const (
	ContactEvent      = "contact-json.json"
	ConsultationEvent = "consultation-json.json"
	ContactForm       = "contact-form.json"
	ConsultationForm  = "consultation-form.json"
	StreamEvent       = "stream-insert-consultation.json"
)

// Now is the fixed clock of the fixtures: the moment the sample events were
// sent, so age checks and ids do not drift with the calendar.
var Now = time.Date(2026, time.November, 28, 14, 3, 21, 0, time.UTC)

// Root returns the module root: the nearest directory at or above the
// working directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// EventBytes returns the raw sample event events/<name>.
func EventBytes(name string) ([]byte, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(root, "events", name))
}

// Request returns the API Gateway v2 sample event events/<name>.
func Request(name string) (events.APIGatewayV2HTTPRequest, error) {
	var req events.APIGatewayV2HTTPRequest
	b, err := EventBytes(name)
	if err != nil {
		return req, err
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return req, fmt.Errorf("event %s: %w", name, err)
	}
	return req, nil
}

// Stream returns the DynamoDB stream sample event events/<name>.
func Stream(name string) (events.DynamoDBEvent, error) {
	var ev events.DynamoDBEvent
	b, err := EventBytes(name)
	if err != nil {
		return ev, err
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("event %s: %w", name, err)
	}
	return ev, nil
}

// Contact returns the form in the contact sample event, normalised as
// intake normalises it before validation.
func Contact() (*lead.Contact, error) {
	f := new(lead.Contact)
	if err := formFromEvent(ContactEvent, f); err != nil {
		return nil, err
	}
	f.Normalize()
	return f, nil
}

// Consultation returns the form in the consultation sample event,
// normalised.
func Consultation() (*lead.Consultation, error) {
	f := new(lead.Consultation)
	if err := formFromEvent(ConsultationEvent, f); err != nil {
		return nil, err
	}
	f.Normalize()
	return f, nil
}

func formFromEvent(name string, form any) error {
	req, err := Request(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(req.Body), form); err != nil {
		return fmt.Errorf("event %s body: %w", name, err)
	}
	return nil
}

// ContactLead and ConsultationLead return the leads intake stores for the
// sample events, as lead.Service builds them (status new, a year's
// retention, consent recorded from the request).
func ContactLead() (lead.Lead, error) {
	f, err := Contact()
	if err != nil {
		return lead.Lead{}, err
	}
	form := *f
	form.Controls = lead.Controls{}
	l := newLead(lead.KindContact, form.Attribution)
	l.Contact = &form
	l.Consent.ConsentToContact = true
	l.Consent.SMSConsent = form.SMSConsent
	return l, nil
}

// ConsultationLead: see ContactLead.
func ConsultationLead() (lead.Lead, error) {
	f, err := Consultation()
	if err != nil {
		return lead.Lead{}, err
	}
	form := *f
	form.Controls = lead.Controls{}
	l := newLead(lead.KindConsultation, form.Attribution)
	l.Consultation = &form
	l.Consent.ConsentToContact = form.ConsentToContact
	l.Consent.AcknowledgedPrivacy = form.AcknowledgedPrivacy
	l.Consent.SMSConsent = form.SMSConsent
	return l, nil
}

func newLead(kind lead.Kind, a lead.Attribution) lead.Lead {
	created := Now.Truncate(time.Millisecond)
	return lead.Lead{
		ID:          lead.NewID(created),
		Kind:        kind,
		Status:      lead.StatusNew,
		CreatedAt:   created,
		ExpiresAt:   created.Add(365 * 24 * time.Hour),
		Attribution: a,
		Consent: lead.Consent{
			At:          created,
			ClientIP:    "203.0.113.7",
			UserAgent:   "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			LandingPage: a.LandingPage,
		},
	}
}

// NopDynamo answers every call with an empty output and no error, as
// DynamoDB answers a write that succeeded. It has the methods of
// dynamo.API, so the store's own work (building items and inputs) is
// measured without the SDK's serialisation and the network.
type NopDynamo struct{}

// PutItem succeeds.
func (NopDynamo) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

// GetItem finds nothing.
func (NopDynamo) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

// UpdateItem succeeds.
func (NopDynamo) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}

// NopSES accepts every email, like sesmail.API.
type NopSES struct{}

// SendEmail succeeds.
func (NopSES) SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	id := "bench"
	return &sesv2.SendEmailOutput{MessageId: &id}, nil
}

// Query answers with no items.
func (NopDynamo) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

// StaffListEvent is the sample GET /staff/leads request, with the claims
// API Gateway's JWT authorizer passes for a staff member's access token.
const StaffListEvent = "staff-list.json"

// InboxLeads returns n new leads for listing figures: lead i arrives i
// seconds after Now; every other one is the contact sample, the rest the
// consultation sample, and every 20th (a consultation) is in crisis, so
// the inbox's pinned crisis leads are part of every walk through the
// list. Each lead has its own id and its own form struct (whose slices
// it shares with the others: read them, do not change them).
func InboxLeads(n int) ([]lead.Lead, error) {
	consultation, err := ConsultationLead()
	if err != nil {
		return nil, err
	}
	contact, err := ContactLead()
	if err != nil {
		return nil, err
	}
	out := make([]lead.Lead, n)
	for i := range out {
		var l lead.Lead
		if i%2 == 1 {
			l = contact
			form := *contact.Contact
			l.Contact = &form
		} else {
			l = consultation
			form := *consultation.Consultation
			form.InCrisis = i%20 == 0
			l.Consultation = &form
		}
		at := Now.Add(time.Duration(i) * time.Second).Truncate(time.Millisecond)
		l.ID, l.CreatedAt, l.ExpiresAt = lead.NewID(at), at, at.Add(365*24*time.Hour)
		l.Consent.At = at
		out[i] = l
	}
	return out, nil
}
