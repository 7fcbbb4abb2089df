package samtemplate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

const leadFilter = `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"type":{"S":["lead"]},"status":{"S":["new"]}}}}`

func TestStreamEvent(t *testing.T) {
	ev, err := mustLoad(t).StreamEvent(NotifyFunction)
	if err != nil {
		t.Fatalf("StreamEvent() error = %v", err)
	}
	want := StreamEvent{
		Name:                       "NewLead",
		Patterns:                   []string{leadFilter},
		BatchSize:                  10,
		MaximumRetryAttempts:       5,
		MaximumRecordAgeInSeconds:  3600,
		BisectBatchOnFunctionError: true,
		ReportBatchItemFailures:    true,
	}
	if got := js(ev); got != js(want) {
		t.Errorf("got %s, want %s", got, js(want))
	}
}

// record marshals a stream record the way the notify function receives it.
func record(t *testing.T, eventName string, image map[string]events.DynamoDBAttributeValue) []byte {
	t.Helper()
	rec := events.DynamoDBEventRecord{EventName: eventName, EventSource: "aws:dynamodb"}
	rec.Change.NewImage = image
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStreamFilterSelectsNewLeads checks what the template's filter means,
// not only how it is spelled: staff hear of new leads, and of nothing else.
// The images are the items the store writes (dynamo's schema), so the
// filter is tested against what is really stored.
func TestStreamFilterSelectsNewLeads(t *testing.T) {
	ev, err := mustLoad(t).StreamEvent(NotifyFunction)
	if err != nil {
		t.Fatalf("StreamEvent() error = %v", err)
	}
	at := time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC)
	leadImage := func(kind lead.Kind, status lead.Status) map[string]events.DynamoDBAttributeValue {
		l := lead.Lead{ID: lead.NewID(at), Kind: kind, Status: status, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
		if kind == lead.KindContact {
			l.Contact = &lead.Contact{Name: "Pat", Email: "pat@example.com", Message: "hello"}
		} else {
			l.Consultation = &lead.Consultation{FirstName: "Pat", LastName: "Doe", Email: "pat@example.com"}
		}
		img, err := dynamo.LeadImage(l)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	claim, err := dynamo.ClaimImage(lead.Claim{Key: "key:contact:abc", LeadID: lead.NewID(at), BodyHash: "h", CreatedAt: at, ExpiresAt: at.Add(lead.KeyWindow)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		eventName string
		image     map[string]events.DynamoDBAttributeValue
		want      bool
	}{
		{"new contact lead inserted", "INSERT", leadImage(lead.KindContact, lead.StatusNew), true},
		{"new consultation lead inserted", "INSERT", leadImage(lead.KindConsultation, lead.StatusNew), true},
		{"spam inserted", "INSERT", leadImage(lead.KindContact, lead.StatusSpam), false},
		{"new lead modified (the notifier's marks)", "MODIFY", leadImage(lead.KindContact, lead.StatusNew), false},
		{"lead moved on by staff", "MODIFY", leadImage(lead.KindConsultation, lead.StatusContacted), false},
		{"lead removed by TTL", "REMOVE", nil, false},
		{"idempotency claim inserted", "INSERT", claim, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ev.Match(record(t, tt.eventName, tt.image))
			if err != nil {
				t.Fatalf("Match() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Match() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		record   string
		want     bool
		wantErr  string
	}{
		{"no patterns deliver everything", nil, `{"a":1}`, true, ""},
		{"number literal", []string{`{"a":[1,2]}`}, `{"a":2}`, true, ""},
		{"record array matches any element", []string{`{"a":["x"]}`}, `{"a":["y","x"]}`, true, ""},
		{"missing key", []string{`{"a":["x"]}`}, `{"b":"x"}`, false, ""},
		{"object where value expected", []string{`{"a":{"b":["x"]}}`}, `{"a":"x"}`, false, ""},
		{"second pattern matches", []string{`{"a":["x"]}`, `{"a":["y"]}`}, `{"a":"y"}`, true, ""},
		{"prefix operator", []string{`{"a":[{"prefix":"x"}]}`}, `{"a":"xy"}`, false, "operators are not supported"},
		{"operator reported on mismatch too", []string{`{"b":["z"],"a":[{"exists":true}]}`}, `{"b":"q"}`, false, "operators are not supported"},
		{"scalar pattern value", []string{`{"a":"x"}`}, `{"a":"x"}`, false, "must be objects or arrays"},
		{"record not JSON", []string{`{"a":["x"]}`}, `nope`, false, "match record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StreamEvent{Patterns: tt.patterns}.Match([]byte(tt.record))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Match() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Match() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Match() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStreamEventErrors(t *testing.T) {
	parsed, err := Parse([]byte(`
Parameters:
  Batch: {Type: Number, Default: 25}
Resources:
  Defaults:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        S: {Type: DynamoDB, Properties: {Stream: x, BatchSize: !Ref Batch}}
  None:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Api: {Type: HttpApi}
  Two:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        A: {Type: DynamoDB, Properties: {}}
        B: {Type: DynamoDB, Properties: {}}
  BadPattern:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        S:
          Type: DynamoDB
          Properties:
            FilterCriteria: {Filters: [{Pattern: '{"eventName":["INSERT"]'}]}
`))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}

	t.Run("Lambda defaults and parameter defaults", func(t *testing.T) {
		ev, err := parsed.StreamEvent("Defaults")
		if err != nil {
			t.Fatalf("StreamEvent() error = %v", err)
		}
		want := StreamEvent{Name: "S", BatchSize: 25, MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1}
		if js(ev) != js(want) {
			t.Errorf("got %s, want %s", js(ev), js(want))
		}
	})
	for _, tt := range []struct{ id, want string }{
		{"None", "want exactly one"},
		{"Two", `["A" "B"]`},
		{"BadPattern", "filter 0"},
		{"Missing", "no AWS::Serverless::Function Missing"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			_, err := parsed.StreamEvent(tt.id)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("StreamEvent(%s) error = %v, want one containing %q", tt.id, err, tt.want)
			}
		})
	}
}
