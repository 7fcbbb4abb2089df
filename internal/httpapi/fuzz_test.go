package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/clinicleads/leadpipe/internal/lead"
)

var jsonSeeds = []string{
	``, ` `, `null`, `[]`, `42`, `"x"`, `true`, `{}`,
	`{"name":"Ana","email":"ana@example.com","message":"hi\nthere","smsConsent":true,"cf-turnstile-response":"t"}`,
	`{"firstName":"Ana","concerns":["depression","anxiety"],"inCrisis":false,"preferredTimes":[]}`,
	`{"name":null,"concerns":null}`,
	`{"name":"a"} x`, `{"name":"a"}{"name":"b"}`, "\ufeff{}",
	`{"name":{"a":{"b":[[[[1]]]]}}}`, `{"concerns":[["x"]]}`, `{"concerns":[null]}`,
	`{"name":1}`, `{"smsConsent":"true"}`, `{"concerns":"depression"}`,
	`{"name":"a","name":"b"}`, `{"name":"a","n\u0061me":"b"}`, `{"EMAIL":"x"}`, `{"\u017fmsConsent":true}`,
	"{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"name":"\u0000"}`, `{"message":"\ud83d\ude00"}`,
	`{"name":"<script>\u2028"}`, `{"name":1e999999}`, `{"":1}`, `{"name":"a",}`,
}

var formSeeds = []string{
	``, `name=Ana&email=ana%40example.com&message=hi%0Athere&smsConsent=on&cf-turnstile-response=t`,
	`firstName=Ana&concerns=depression&concerns=anxiety&inCrisis=0`,
	`name=a&name=b`, `smsConsent=on&smsConsent=off`, `name=%zz`, `name=a;email=b`, `name=a%00`, `name=%ff`,
	`name=%EF%BF%BD`, `EMAIL=x`, `=x`, `&&&`, `smsConsent=yes`, `smsConsent=`, `smsConsent=TRUE`,
	strings.Repeat("k=1&", 300), strings.Repeat("concerns=a&", 501), "name=\xff", `name=Jos%C3%A9+%2B`,
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s, false)
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)), true)
	}
	f.Fuzz(func(t *testing.T, body string, isBase64 bool) {
		req := request(ctJSON, body)
		req.IsBase64Encoded = isBase64
		checkDecode(t, req, FormatJSON, &lead.Contact{})
		checkDecode(t, req, FormatJSON, &lead.Consultation{})
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkDecode(t, request(ctForm, body), FormatForm, &lead.Contact{})
		checkDecode(t, request(ctForm, body), FormatForm, &lead.Consultation{})
	})
}

// checkDecode decodes req into form (a pointer to a zero form) and checks
// the contract: an error is a *lead.Error that maps to 4xx; a success
// survives a round trip and agrees with encoding/json.
func checkDecode(t *testing.T, req events.APIGatewayV2HTTPRequest, wantFormat Format, form any) {
	t.Helper()
	format, err := Decode(req, form)
	if format != wantFormat {
		t.Fatalf("format = %v, want %v", format, wantFormat)
	}
	if err != nil {
		if _, ok := err.(*lead.Error); !ok {
			t.Fatalf("error is %T, not *lead.Error: %v", err, err)
		}
		if status := Error(err, "req-1").StatusCode; status < 400 || status > 499 {
			t.Fatalf("error maps to %d, want 4xx: %v", status, err)
		}
		return
	}
	fresh := func() any { return reflect.New(reflect.TypeOf(form).Elem()).Interface() }

	// Anything accepted means the same to encoding/json.
	b, err := json.Marshal(form)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if wantFormat == FormatJSON {
		raw := []byte(req.Body)
		if req.IsBase64Encoded {
			raw, _ = base64.StdEncoding.DecodeString(req.Body)
		}
		std := fresh()
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(std); err != nil {
			t.Fatalf("accepted, but encoding/json refuses it: %v", err)
		}
		if !reflect.DeepEqual(std, form) {
			t.Fatalf("encoding/json reads it differently:\n ours %#v\n std  %#v", form, std)
		}
	}

	// Round trips: as JSON, and as a form post.
	if len(b) <= MaxBodyBytes {
		again := fresh()
		if _, err := Decode(request(ctJSON, string(b)), again); err != nil {
			t.Fatalf("re-encoded JSON %s refused: %v", b, err)
		}
		if !reflect.DeepEqual(again, form) {
			t.Fatalf("JSON round trip differs:\n first %#v\n again %#v", form, again)
		}
	}
	if wantFormat == FormatForm {
		enc := encodeForm(t, form)
		if enc == "" || len(enc) > MaxBodyBytes { // an empty post is refused by design
			return
		}
		again := fresh()
		if _, err := Decode(request(ctForm, enc), again); err != nil {
			t.Fatalf("re-encoded form %q refused: %v", enc, err)
		}
		if !reflect.DeepEqual(again, form) {
			t.Fatalf("form round trip differs:\n first %#v\n again %#v", form, again)
		}
	}
}

// encodeForm writes form as a browser would post it, leaving out what a
// browser leaves out: empty text and unticked boxes.
func encodeForm(t *testing.T, form any) string {
	t.Helper()
	v := reflect.ValueOf(form).Elem()
	s, err := schemaFor(v.Type())
	if err != nil {
		t.Fatal(err)
	}
	values := url.Values{}
	for name, f := range s.fields {
		fv := v.FieldByIndex(f.index)
		switch f.kind {
		case kindString:
			if fv.String() != "" {
				values.Set(name, fv.String())
			}
		case kindBool:
			if fv.Bool() {
				values.Set(name, "on")
			}
		case kindStrings:
			for i := 0; i < fv.Len(); i++ {
				values.Add(name, fv.Index(i).String())
			}
		}
	}
	return values.Encode()
}
