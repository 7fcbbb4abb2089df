package httpapi

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/lead"
)

func TestDecodeJSONContact(t *testing.T) {
	tests := []struct {
		name string
		body string
		want lead.Contact
	}{
		{
			name: "all kinds of field",
			body: `{"name":"Ana Lee","email":"ana@example.com","message":"Hello,\nI would like to talk.","smsConsent":true,
				"utmSource":"news","landingPage":"https://clinic.example/","cf-turnstile-response":"tok","submissionId":"id-1"}`,
			want: lead.Contact{Name: "Ana Lee", Email: "ana@example.com", Message: "Hello,\nI would like to talk.", SMSConsent: true,
				Attribution: lead.Attribution{UTMSource: "news", LandingPage: "https://clinic.example/"},
				Controls:    lead.Controls{TurnstileToken: "tok", SubmissionID: "id-1"}},
		},
		{name: "empty object", body: `{}`},
		{name: "whitespace around", body: " \n\t{ \"name\" : \"Ana\" } \r\n", want: lead.Contact{Name: "Ana"}},
		{name: "null is absent", body: `{"name":null,"smsConsent":null,"email":"a@b.co"}`, want: lead.Contact{Email: "a@b.co"}},
		{name: "escaped key is the same key", body: `{"em\u0061il":"a@b.co"}`, want: lead.Contact{Email: "a@b.co"}},
		{name: "surrogate pair", body: `{"message":"\ud83d\ude00 ok"}`, want: lead.Contact{Message: "😀 ok"}},
		{name: "non-ASCII text", body: `{"name":"José Ñúñez"}`, want: lead.Contact{Name: "José Ñúñez"}},
		{name: "false", body: `{"smsConsent":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got lead.Contact
			format, err := Decode(request(ctJSON, tt.body), &got)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if format != FormatJSON {
				t.Errorf("format = %v, want json", format)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeJSONConsultationLists(t *testing.T) {
	tests := []struct {
		name string
		body string
		want lead.Consultation
	}{
		{
			name: "lists and booleans",
			body: `{"firstName":"Ana","concerns":["depression","anxiety"],"preferredTimes":["morning"],"inCrisis":false,"consentToContact":true}`,
			want: lead.Consultation{FirstName: "Ana", Concerns: []string{"depression", "anxiety"}, PreferredTimes: []string{"morning"}, ConsentToContact: true},
		},
		{name: "empty list stays empty", body: `{"concerns":[]}`, want: lead.Consultation{Concerns: []string{}}},
		{name: "null list is absent", body: `{"concerns":null}`},
		{name: "longest list", body: `{"concerns":[` + strings.Repeat(`"a",`, maxFormValues-1) + `"a"]}`,
			want: lead.Consultation{Concerns: slices.Repeat([]string{"a"}, maxFormValues)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got lead.Consultation
			if _, err := Decode(request(ctJSON, tt.body), &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeJSONRefused(t *testing.T) {
	malformed := mapped{400, "malformed_body", ""}
	unknown := func(field string) mapped { return mapped{400, "unknown_field", field} }
	deep := `{"name":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	tests := []struct {
		name string
		body string
		want mapped
		msg  string // a part of the message, where it matters
	}{
		{name: "empty body", body: ``, want: malformed},
		{name: "only whitespace", body: " \n ", want: malformed},
		{name: "null", body: `null`, want: malformed},
		{name: "array", body: `[]`, want: malformed},
		{name: "array of object", body: `[{"name":"a"}]`, want: malformed},
		{name: "number", body: `42`, want: malformed},
		{name: "string", body: `"x"`, want: malformed},
		{name: "true", body: `true`, want: malformed},
		{name: "trailing data", body: `{"name":"a"} x`, want: malformed},
		{name: "trailing comma", body: `{"name":"a"},`, want: malformed},
		{name: "two objects", body: `{"name":"a"}{"name":"b"}`, want: malformed},
		{name: "two objects with space", body: `{"name":"a"} {"name":"b"}`, want: malformed},
		{name: "byte order mark", body: "\ufeff" + `{"name":"a"}`, want: malformed, msg: "byte order mark"},
		{name: "unterminated object", body: `{"name":"a"`, want: malformed},
		{name: "unterminated string", body: `{"name":"a`, want: malformed},
		{name: "missing value", body: `{"name":}`, want: malformed},
		{name: "trailing comma in object", body: `{"name":"a",}`, want: malformed},
		{name: "number key", body: `{1:"a"}`, want: malformed},
		{name: "single quotes", body: `{'name':'a'}`, want: malformed},
		{name: "raw control character in string", body: "{\"name\":\"a\x01\"}", want: malformed},
		{name: "invalid UTF-8", body: "{\"name\":\"\xff\"}", want: malformed, msg: "UTF-8"},
		{name: "overlong UTF-8", body: "{\"name\":\"\xc0\xaf\"}", want: malformed},
		{name: "lone high surrogate", body: `{"name":"\ud800"}`, want: malformed, msg: "name contains"},
		{name: "lone low surrogate", body: `{"name":"a\udc00b"}`, want: malformed},
		{name: "reversed surrogates", body: `{"name":"\ude00\ud83d"}`, want: malformed},
		{name: "escaped NUL", body: `{"name":"a\u0000"}`, want: malformed},
		{name: "escaped NUL after a good field", body: `{"utmSource":"x","message":"\u0000"}`, want: malformed, msg: "message contains"},
		{name: "literal replacement character", body: `{"name":"a` + "\uFFFD" + `"}`, want: malformed},
		{name: "duplicate key", body: `{"name":"a","name":"b"}`, want: malformed, msg: "appears twice"},
		{name: "duplicate key after null", body: `{"name":null,"name":"b"}`, want: malformed, msg: "appears twice"},
		{name: "duplicate key by escape", body: `{"name":"a","n\u0061me":"b"}`, want: malformed, msg: "appears twice"},
		{name: "upper-case key", body: `{"EMAIL":"a@b.co"}`, want: unknown("EMAIL")},
		{name: "title-case key", body: `{"Email":"a@b.co"}`, want: unknown("Email")},
		{name: "Go field name", body: `{"SMSConsent":true}`, want: unknown("SMSConsent")},
		{name: "embedded struct name", body: `{"Attribution":{}}`, want: unknown("Attribution")},
		{name: "unknown key", body: `{"name":"a","notes":"b"}`, want: unknown("notes")},
		{name: "unknown key with markup", body: `{"<b>x</b>":1}`, want: unknown("(unnamed)")},
		{name: "unknown key too long", body: `{"` + strings.Repeat("a", 65) + `":1}`, want: unknown("(unnamed)")},
		{name: "unknown key of 64 bytes", body: `{"` + strings.Repeat("a", 64) + `":1}`, want: unknown(strings.Repeat("a", 64))},
		{name: "unknown empty key", body: `{"":1}`, want: unknown("(unnamed)")},
		{name: "long s key, which encoding/json folds to s", body: `{"\u017fmsConsent":true}`, want: unknown("(unnamed)")},
		{name: "string given number", body: `{"name":42}`, want: malformed, msg: "name must be text"},
		{name: "string given bool", body: `{"name":true}`, want: malformed, msg: "name must be text"},
		{name: "string given object", body: `{"name":{"first":"a"}}`, want: malformed, msg: "name must be text"},
		{name: "string given list", body: `{"name":["a"]}`, want: malformed, msg: "name must be text"},
		{name: "bool given string", body: `{"smsConsent":"true"}`, want: malformed, msg: "smsConsent must be true or false"},
		{name: "bool given number", body: `{"smsConsent":1}`, want: malformed, msg: "smsConsent must be true or false"},
		{name: "huge number", body: `{"name":1e99999999}`, want: malformed},
		{name: "deep nesting in a string field", body: deep, want: malformed},
		{name: "deep nesting under unknown key", body: `{"x":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat("}", 5000) + `}`, want: unknown("x")},
		{name: "deep nesting of objects", body: `{"name":{"a":{"b":{"c":{"d":{}}}}}}`, want: malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := lead.Contact{Name: "before"}
			format, err := Decode(request(ctJSON, tt.body), &form)
			if err == nil {
				t.Fatalf("Decode succeeded with %+v", form)
			}
			if got := mapErr(t, err); got != tt.want {
				t.Errorf("got %+v, want %+v (err %v)", got, tt.want, err)
			}
			if !strings.Contains(err.(*lead.Error).Message, tt.msg) {
				t.Errorf("message %q does not say %q", err.(*lead.Error).Message, tt.msg)
			}
			if format != FormatJSON {
				t.Errorf("format = %v, want json: the content type was understood", format)
			}
			if form.Name != "before" {
				t.Errorf("form was changed by a failed decode: %+v", form)
			}
		})
	}
}

func TestDecodeJSONConsultationRefused(t *testing.T) {
	tests := []struct {
		name string
		body string
		msg  string
	}{
		{name: "list given string", body: `{"concerns":"depression"}`, msg: "concerns must be a list"},
		{name: "list given object", body: `{"concerns":{"a":"depression"}}`, msg: "concerns must be a list"},
		{name: "nested list", body: `{"concerns":[["depression"]]}`, msg: "concerns must be a list"},
		{name: "deeply nested list", body: `{"concerns":[` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `]}`, msg: "concerns must be a list"},
		{name: "number in list", body: `{"concerns":["anxiety",1]}`, msg: "concerns must be a list"},
		{name: "null in list", body: `{"concerns":[null]}`, msg: "concerns must be a list"},
		{name: "object in list", body: `{"concerns":[{}]}`, msg: "concerns must be a list"},
		{name: "NUL in list", body: `{"concerns":["a\u0000"]}`, msg: "concerns contains"},
		{name: "lone surrogate in list", body: `{"concerns":["\udfff"]}`, msg: "concerns contains"},
		{name: "unterminated list", body: `{"concerns":["a"`, msg: "not valid JSON"},
		{name: "bool given string", body: `{"inCrisis":"no"}`, msg: "inCrisis must be true or false"},
		{name: "list too long", body: `{"concerns":[` + strings.Repeat(`"a",`, maxFormValues) + `"a"]}`, msg: "concerns has too many values"},
		{name: "duplicate list", body: `{"concerns":["a"],"concerns":["b"]}`, msg: "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form lead.Consultation
			_, err := Decode(request(ctJSON, tt.body), &form)
			if got, want := mapErr(t, err), (mapped{400, "malformed_body", ""}); got != want {
				t.Fatalf("got %+v, want %+v (err %v)", got, want, err)
			}
			if msg := err.(*lead.Error).Message; !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not say %q", msg, tt.msg)
			}
		})
	}
}
