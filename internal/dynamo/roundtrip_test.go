package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// TestRoundTripKeepsEveryField writes a lead of each kind with every field
// filled and reads it back through every path that reads leads: GetItem
// (Store.Get), the status index (Store.Unsent) and the stream image the
// notifier parses. The forms are filled by reflection, so a field added to
// a form and forgotten in the item schema fails here without anyone
// editing this test.
func TestRoundTripKeepsEveryField(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(dynamo.ClientAPI(tbl.Client), tbl.Name)
	st.Now = func() time.Time { return t0 }
	ctx := context.Background()

	written := map[string]lead.Lead{}
	for _, kind := range []lead.Kind{lead.KindContact, lead.KindConsultation} {
		l := filledLead(t, kind)
		if err := st.Put(ctx, l); err != nil {
			t.Fatalf("Put %s: %v", kind, err)
		}
		written[l.ID] = l
	}
	// A claim shares the table; the stream must not take it for a lead.
	claim := lead.Claim{Key: "key:contact:roundtrip", LeadID: "L1", BodyHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(lead.KeyWindow)}
	if _, err := st.Claim(ctx, claim); err != nil {
		t.Fatalf("Claim: %v", err)
	}

	bl, err := st.Unsent(ctx, t0.Add(-time.Minute), t0.Add(time.Minute), true)
	if err != nil || len(bl.Unreadable) != 0 {
		t.Fatalf("Unsent: %+v, %v", bl.Unreadable, err)
	}
	listed := bl.Leads
	byIndex := map[string]lead.Lead{}
	for _, l := range listed {
		byIndex[l.ID] = l
	}
	images, others := storedImages(t, tbl)
	if others != 1 {
		t.Errorf("stream images that are not leads = %d, want 1 (the claim)", others)
	}

	for id, want := range written {
		t.Run(string(want.Kind), func(t *testing.T) {
			got, err := st.Get(ctx, id)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			assertSameLead(t, "Get", got, want)

			if got, ok := byIndex[id]; !ok {
				t.Errorf("Unsent did not list the lead (%d listed)", len(listed))
			} else {
				assertSameLead(t, "Unsent", got, want)
			}

			img, ok := images[id]
			if !ok {
				t.Fatal("no stream image of the lead")
			}
			got, err = dynamo.LeadFromImage(img)
			if err != nil {
				t.Fatalf("LeadFromImage: %v", err)
			}
			assertSameLead(t, "stream image", got, want)
		})
	}
}

// storedImages returns the stream image of every lead in the table by its
// id, as the notifier receives it: the stored item as DynamoDB Streams
// writes it (dynamo.StreamImage) and through the JSON of a Lambda event.
// others counts the images IsLeadImage refuses.
func storedImages(t *testing.T, tbl *dynamotest.Table) (leads map[string]map[string]events.DynamoDBAttributeValue, others int) {
	t.Helper()
	out, err := tbl.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: &tbl.Name})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	leads = map[string]map[string]events.DynamoDBAttributeValue{}
	for _, item := range out.Items {
		img, err := dynamo.StreamImage(item)
		if err != nil {
			t.Fatalf("StreamImage: %v", err)
		}
		b, err := json.Marshal(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
			EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: img},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		img = ev.Records[0].Change.NewImage
		if !dynamo.IsLeadImage(img) {
			others++
			continue
		}
		l, err := dynamo.LeadFromImage(img)
		if err != nil {
			t.Fatalf("LeadFromImage: %v", err)
		}
		leads[l.ID] = img
	}
	return leads, others
}

// assertSameLead compares whole leads, and names every field that differs.
func assertSameLead(t *testing.T, path string, got, want lead.Lead) {
	t.Helper()
	// Staff work (Version, History, Notes) is not part of a submission:
	// Put does not write it, the staff writes do and are tested with it.
	got.Version, got.History, got.Notes = 0, nil, nil
	want.Version, want.History, want.Notes = 0, nil, nil
	if reflect.DeepEqual(got, want) {
		return
	}
	d := diffs("Lead", reflect.ValueOf(got), reflect.ValueOf(want))
	if len(d) == 0 {
		d = []string{fmt.Sprintf("got %+v\nwant %+v", got, want)}
	}
	t.Errorf("%s: the lead read back differs from the one written:\n%s", path, strings.Join(d, "\n"))
}

var timeType = reflect.TypeFor[time.Time]()

// diffs lists the fields, by path, where got and want differ.
func diffs(path string, got, want reflect.Value) []string {
	switch {
	case got.Kind() == reflect.Pointer && !got.IsNil() && !want.IsNil():
		return diffs(path, got.Elem(), want.Elem())
	case got.Kind() == reflect.Struct && got.Type() != timeType:
		var out []string
		for i := range got.NumField() {
			out = append(out, diffs(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))...)
		}
		return out
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		return []string{fmt.Sprintf("%s = %#v, want %#v", path, got.Interface(), want.Interface())}
	}
	return nil
}

// fixtureChoices are the fields answered from a fixed list: the fixture
// takes their values from the list, so they stay valid.
var fixtureChoices = map[string]lead.ChoiceList{
	"preferredContact":   lead.ContactMethods,
	"hearAbout":          lead.HearAbout,
	"concerns":           lead.Concerns,
	"previousTreatments": lead.Treatments,
	"preferredTimes":     lead.PreferredTimes,
}

// fixtureFormats are valid values of the fields with a format. Any other
// text field gets its kind and name, which is valid plain text.
var fixtureFormats = map[string]string{
	"email":       "pat.doe@patient.example",
	"phone":       "+14105550188",
	"dateOfBirth": "1988-04-12",
	"state":       "MD",
	"ClientIP":    "203.0.113.7", // Consent's fields have no JSON names
}

// filledLead returns a lead of kind whose every stored field holds a
// distinct valid value: every string, every bool true, every list two
// answers. The form's Controls stay empty (they are never stored).
func filledLead(t *testing.T, kind lead.Kind) lead.Lead {
	t.Helper()
	l := lead.Lead{
		ID: lead.NewID(t0), Kind: kind, Status: lead.StatusNew, CreatedAt: t0,
		ExpiresAt:     t0.Truncate(time.Second).Add(365 * 24 * time.Hour), // stored in whole seconds
		SuspectedSpam: true,
	}
	f := &filler{t: t, prefix: string(kind), seen: map[string]string{}}
	var form any
	switch kind {
	case lead.KindContact:
		l.Contact = &lead.Contact{}
		f.fill(reflect.ValueOf(l.Contact).Elem())
		l.Attribution, form = l.Contact.Attribution, l.Contact
	case lead.KindConsultation:
		l.Consultation = &lead.Consultation{}
		f.fill(reflect.ValueOf(l.Consultation).Elem())
		l.Attribution, form = l.Consultation.Attribution, l.Consultation
	}
	if err := lead.NewValidator(func() time.Time { return t0 }).Validate(form); err != nil {
		t.Fatalf("the %s fixture is not a valid form (give the field a value in fixtureFormats or fixtureChoices): %v", kind, err)
	}
	f.prefix += "-consent"
	f.fill(reflect.ValueOf(&l.Consent).Elem())

	// Every other field of the lead must be set here too, so a new one
	// cannot slip past the comparison as a zero read back as a zero.
	v := reflect.ValueOf(l)
	for i := range v.NumField() {
		switch name := v.Type().Field(i).Name; name {
		case "Contact", "Consultation": // one of them, filled above
		case "Version", "History", "Notes": // staff work: see assertSameLead
		default:
			if v.Field(i).IsZero() {
				t.Fatalf("filledLead leaves Lead.%s empty: set it, so its storage is tested", name)
			}
		}
	}
	return l
}

// filler sets every field of a struct by reflection.
type filler struct {
	t      *testing.T
	prefix string
	seen   map[string]string // value -> field, to keep values distinct
}

var controlsType = reflect.TypeFor[lead.Controls]()

func (f *filler) fill(v reflect.Value) {
	f.t.Helper()
	for i := range v.NumField() {
		field, dst := v.Type().Field(i), v.Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name == "" {
			name = field.Name
		}
		switch {
		case field.Type == controlsType:
			// Never stored: left empty.
		case field.Type == timeType:
			dst.Set(reflect.ValueOf(t0.Add(time.Duration(i+1) * time.Second)))
		case dst.Kind() == reflect.Struct:
			f.fill(dst)
		case dst.Kind() == reflect.Bool:
			dst.SetBool(true)
		case dst.Kind() == reflect.String:
			s := fixtureFormats[name]
			if choices, ok := fixtureChoices[name]; ok {
				s = choices[len(choices)-1].Value
			} else if s == "" {
				s = f.prefix + " " + name
			}
			f.distinct(name, s)
			dst.SetString(s)
		case dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.String:
			choices, ok := fixtureChoices[name]
			if !ok || len(choices) < 2 {
				f.t.Fatalf("list field %s has no choice list in fixtureChoices", name)
			}
			list := []string{choices[0].Value, choices[1].Value}
			for _, s := range list {
				f.distinct(name, s)
			}
			dst.Set(reflect.ValueOf(list))
		default:
			f.t.Fatalf("field %s of type %s: teach the filler to fill it", name, field.Type)
		}
	}
}

// distinct fails the test when two fields would hold the same value: a
// schema that swapped them would go unseen.
func (f *filler) distinct(field, value string) {
	f.t.Helper()
	if other, ok := f.seen[value]; ok {
		f.t.Fatalf("fields %s and %s would both hold %q", other, field, value)
	}
	f.seen[value] = field
}
