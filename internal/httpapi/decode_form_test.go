package httpapi

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/lead"
)

func TestDecodeFormContact(t *testing.T) {
	tests := []struct {
		name string
		body string
		want lead.Contact
	}{
		{
			name: "a plain HTML form",
			body: "name=Ana+Lee&email=ana%40example.com&message=Hello%2C%0D%0Aplease+call.&smsConsent=on&utmSource=news&cf-turnstile-response=tok",
			want: lead.Contact{Name: "Ana Lee", Email: "ana@example.com", Message: "Hello,\r\nplease call.", SMSConsent: true,
				Attribution: lead.Attribution{UTMSource: "news"}, Controls: lead.Controls{TurnstileToken: "tok"}},
		},
		{name: "empty values", body: "name=&email=", want: lead.Contact{}},
		{name: "stray separators", body: "&&name=Ana&&", want: lead.Contact{Name: "Ana"}},
		{name: "only separators", body: strings.Repeat("&", MaxBodyBytes), want: lead.Contact{}},
		{name: "non-ASCII", body: "name=Jos%C3%A9+%C3%91", want: lead.Contact{Name: "José Ñ"}},
		{name: "raw UTF-8", body: "name=José", want: lead.Contact{Name: "José"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got lead.Contact
			format, err := Decode(request(ctForm, tt.body), &got)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if format != FormatForm {
				t.Errorf("format = %v, want form", format)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeFormLists(t *testing.T) {
	var got lead.Consultation
	body := "firstName=Ana&concerns=depression&concerns=anxiety&previousTreatments=ssri&consentToContact=on&acknowledgedPrivacy=true&inCrisis=0"
	if _, err := Decode(request(ctForm, body), &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := lead.Consultation{FirstName: "Ana", Concerns: []string{"depression", "anxiety"}, PreviousTreatments: []string{"ssri"},
		ConsentToContact: true, AcknowledgedPrivacy: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

func TestDecodeFormBooleans(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"on", true}, {"true", true}, {"1", true}, {"TRUE", true}, {"On", true},
		{"off", false}, {"false", false}, {"0", false}, {"", false}, {"False", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got := lead.Contact{SMSConsent: !tt.want}
			if _, err := Decode(request(ctForm, "smsConsent="+tt.value), &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.SMSConsent != tt.want {
				t.Errorf("smsConsent = %v, want %v", got.SMSConsent, tt.want)
			}
		})
	}
	for _, value := range []string{"yes", "2", "tru", "on+", "%C5%BFure", "truE%00"} {
		t.Run("refused "+value, func(t *testing.T) {
			var form lead.Contact
			_, err := Decode(request(ctForm, "smsConsent="+value), &form)
			if got, want := mapErr(t, err), (mapped{400, "malformed_body", ""}); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			if msg := err.(*lead.Error).Message; !strings.HasPrefix(msg, "smsConsent ") {
				t.Errorf("message %q does not name the field", msg)
			}
		})
	}
}

func TestDecodeFormRefused(t *testing.T) {
	malformed := mapped{400, "malformed_body", ""}
	unknown := func(field string) mapped { return mapped{400, "unknown_field", field} }
	keys := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("k%d=1", i)
		}
		return strings.Join(parts, "&")
	}
	tests := []struct {
		name string
		body string
		want mapped
		msg  string
	}{
		{name: "empty body", body: "", want: malformed},
		{name: "duplicate single-value key", body: "name=a&name=b", want: malformed, msg: "appears twice"},
		{name: "duplicate identical values", body: "email=a%40b.co&email=a%40b.co", want: malformed, msg: "appears twice"},
		{name: "duplicate checkbox", body: "smsConsent=off&smsConsent=on", want: malformed, msg: "appears twice"},
		{name: "bad escape", body: "name=%zz", want: malformed},
		{name: "truncated escape", body: "name=a%2", want: malformed},
		{name: "bad escape in key", body: "na%zzme=a", want: malformed},
		{name: "semicolon separator", body: "name=a;email=b", want: malformed},
		{name: "300 keys", body: keys(300), want: malformed, msg: "too many"},
		{name: "600 values", body: strings.Repeat("utmSource=a&", 600), want: malformed, msg: "too many"},
		{name: "invalid UTF-8 body", body: "name=\xff", want: malformed, msg: "UTF-8"},
		{name: "invalid UTF-8 escape", body: "name=%ff", want: malformed, msg: "name contains"},
		{name: "escaped NUL", body: "message=a%00b", want: malformed, msg: "message contains"},
		{name: "escaped replacement character", body: "name=%EF%BF%BD", want: malformed},
		{name: "escaped lone surrogate", body: "name=%ED%A0%80", want: malformed},
		{name: "upper-case key", body: "EMAIL=a%40b.co", want: unknown("EMAIL")},
		{name: "title-case key", body: "Name=a", want: unknown("Name")},
		{name: "unknown key", body: "name=a&submit=Send", want: unknown("submit")},
		{name: "embedded struct name", body: "Controls=x", want: unknown("Controls")},
		{name: "empty key", body: "=a", want: unknown("(unnamed)")},
		{name: "markup key", body: "%3Cscript%3E=1", want: unknown("(unnamed)")},
		{name: "key with space", body: "first+name=a", want: unknown("(unnamed)")},
		{name: "key too long", body: strings.Repeat("k", 65) + "=1", want: unknown("(unnamed)")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := lead.Contact{Name: "before"}
			format, err := Decode(request(ctForm, tt.body), &form)
			if err == nil {
				t.Fatalf("Decode succeeded with %+v", form)
			}
			if got := mapErr(t, err); got != tt.want {
				t.Errorf("got %+v, want %+v (err %v)", got, tt.want, err)
			}
			if msg := err.(*lead.Error).Message; !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not say %q", msg, tt.msg)
			}
			if format != FormatForm {
				t.Errorf("format = %v, want form", format)
			}
			if form.Name != "before" {
				t.Errorf("form was changed by a failed decode: %+v", form)
			}
		})
	}
}

func TestDecodeFormLimits(t *testing.T) {
	// At the limits, lists are accepted; one more is refused.
	body := strings.TrimSuffix(strings.Repeat("concerns=a&", maxFormValues), "&")
	var form lead.Consultation
	if _, err := Decode(request(ctForm, body), &form); err != nil {
		t.Fatalf("%d values: %v", maxFormValues, err)
	}
	if got := len(form.Concerns); got != maxFormValues {
		t.Errorf("got %d concerns, want %d", got, maxFormValues)
	}
	_, err := Decode(request(ctForm, body+"&concerns=a"), &form)
	if got, want := mapErr(t, err), (mapped{400, "malformed_body", ""}); got != want {
		t.Errorf("%d values: got %+v, want %+v", maxFormValues+1, got, want)
	}
}

func TestIgnoredFormKeys(t *testing.T) {
	ignoredFormKeys["submit"] = true
	t.Cleanup(func() { delete(ignoredFormKeys, "submit") })
	var got lead.Contact
	if _, err := Decode(request(ctForm, "name=Ana&submit=Send"), &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := (lead.Contact{Name: "Ana"}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// JSON clients have no submit button: there the key is still unknown.
	_, err := Decode(request(ctJSON, `{"submit":"Send"}`), &got)
	if got, want := mapErr(t, err), (mapped{400, "unknown_field", "submit"}); got != want {
		t.Errorf("JSON: got %+v, want %+v", got, want)
	}
}
