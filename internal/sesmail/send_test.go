package sesmail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

type fakeAPI struct {
	sendEmail func(ctx context.Context, in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error)
}

func (f fakeAPI) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f.sendEmail(ctx, in)
}

var testMessage = Message{
	From: `"Harbor Ketamine Clinic" <notify@clinic.example>`, To: []string{"staff@clinic.example"},
	ReplyTo: []string{"patient@example.com"}, Subject: "New contact message 099a8057", Text: "text body", HTML: "<p>html body</p>",
}

func TestSendInput(t *testing.T) {
	var got *sesv2.SendEmailInput
	var deadline time.Time
	s := &Sender{ConfigurationSet: "leadpipe", CallTimeout: 3 * time.Second, Client: fakeAPI{func(ctx context.Context, in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
		got = in
		deadline, _ = ctx.Deadline()
		return &sesv2.SendEmailOutput{MessageId: aws.String("id")}, nil
	}}}
	start := time.Now()
	if err := s.Send(context.Background(), testMessage); err != nil {
		t.Fatal(err)
	}
	if d := deadline.Sub(start); d < 2*time.Second || d > 4*time.Second {
		t.Errorf("call deadline %v after start, want the 3s call timeout", d)
	}
	simple := got.Content.Simple
	for name, c := range map[string][2]string{
		"from":     {aws.ToString(got.FromEmailAddress), testMessage.From},
		"to":       {got.Destination.ToAddresses[0], "staff@clinic.example"},
		"reply-to": {got.ReplyToAddresses[0], "patient@example.com"},
		"subject":  {aws.ToString(simple.Subject.Data), testMessage.Subject},
		"text":     {aws.ToString(simple.Body.Text.Data), "text body"},
		"html":     {aws.ToString(simple.Body.Html.Data), "<p>html body</p>"},
		"charset":  {aws.ToString(simple.Subject.Charset) + aws.ToString(simple.Body.Text.Charset) + aws.ToString(simple.Body.Html.Charset), "UTF-8UTF-8UTF-8"},
		"set":      {aws.ToString(got.ConfigurationSetName), "leadpipe"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}

	s.ConfigurationSet = ""
	_ = s.Send(context.Background(), testMessage)
	if got.ConfigurationSetName != nil {
		t.Errorf("configuration set %q sent while unset", *got.ConfigurationSetName)
	}
}

func TestSendRefusesBadHeaders(t *testing.T) {
	s := &Sender{Client: fakeAPI{func(context.Context, *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
		t.Error("SendEmail called")
		return nil, nil
	}}}
	m := testMessage
	m.Subject = "x\r\nBcc: a@b.example"
	if err := s.Send(context.Background(), m); !IsPermanent(err) {
		t.Errorf("err = %v, want permanent", err)
	}
}

// fakeSES is an SES v2 endpoint that answers every request with the next
// of answers (the last one repeats) and counts requests.
type fakeSES struct {
	*httptest.Server
	requests atomic.Int32
	bodies   chan map[string]any
}

type answer struct {
	status    int
	errorType string // the x-amzn-ErrorType header
	hang      bool
}

func newFakeSES(t *testing.T, answers ...answer) *fakeSES {
	t.Helper()
	f := &fakeSES{bodies: make(chan map[string]any, 16)}
	done := make(chan struct{})
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.requests.Add(1))
		if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err == nil {
			select {
			case f.bodies <- body:
			default:
			}
		}
		a := answers[min(n, len(answers))-1]
		switch {
		case a.hang:
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		case a.status == http.StatusOK:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"MessageId":"0100018e-test"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if a.errorType != "" {
			w.Header().Set("X-Amzn-ErrorType", a.errorType+":http://internal.amazon.com/coral/com.amazonaws.sesv2/")
		}
		w.Header().Set("X-Amzn-RequestId", "req-1")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, `{"message":"Email address is not verified. The following identities failed the check in region US-EAST-1: patient@example.com"}`)
	}))
	// httptest listens on 127.0.0.1 only.
	f.Start()
	t.Cleanup(func() { close(done); f.Close() })
	return f
}

// testClient is a real SES v2 client for endpoint, with the standard
// retryer bounded to three attempts and no backoff so tests run fast.
func testClient(endpoint string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
}

func TestSendErrorClasses(t *testing.T) {
	cases := []struct {
		name      string
		answers   []answer
		permanent bool
		requests  int32
		code      string
		typed     func(error) bool
	}{
		{"MessageRejected", []answer{{status: 400, errorType: "MessageRejected"}}, true, 1, "MessageRejected", isA[*types.MessageRejected]},
		{"MailFromDomainNotVerified", []answer{{status: 400, errorType: "MailFromDomainNotVerifiedException"}}, true, 1, "MailFromDomainNotVerifiedException", isA[*types.MailFromDomainNotVerifiedException]},
		{"SendingPaused", []answer{{status: 400, errorType: "SendingPausedException"}}, true, 1, "SendingPausedException", isA[*types.SendingPausedException]},
		{"AccountSuspended", []answer{{status: 400, errorType: "AccountSuspendedException"}}, true, 1, "AccountSuspendedException", isA[*types.AccountSuspendedException]},
		{"BadRequest", []answer{{status: 400, errorType: "BadRequestException"}}, true, 1, "BadRequestException", isA[*types.BadRequestException]},
		{"NotFound", []answer{{status: 404, errorType: "NotFoundException"}}, true, 1, "NotFoundException", isA[*types.NotFoundException]},
		{"TooManyRequests", []answer{{status: 429, errorType: "TooManyRequestsException"}}, false, 3, "TooManyRequestsException", isA[*types.TooManyRequestsException]},
		{"LimitExceeded", []answer{{status: 400, errorType: "LimitExceededException"}}, false, 3, "LimitExceededException", isA[*types.LimitExceededException]},
		{"InternalServiceError", []answer{{status: 500, errorType: "InternalServiceErrorException"}}, false, 3, "InternalServiceErrorException", isA[*types.InternalServiceErrorException]},
		{"503", []answer{{status: 503}}, false, 3, "", nil},
		{"503 then OK", []answer{{status: 503}, {status: 200}}, false, 2, "", nil},
		{"throttled then OK", []answer{{status: 429, errorType: "TooManyRequestsException"}, {status: 200}}, false, 2, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSES(t, c.answers...)
			s := &Sender{Client: testClient(f.URL), CallTimeout: 5 * time.Second}
			err := s.Send(context.Background(), testMessage)
			if got := f.requests.Load(); got != c.requests {
				t.Errorf("%d requests, want %d", got, c.requests)
			}
			if c.answers[len(c.answers)-1].status == 200 {
				if err != nil {
					t.Errorf("err = %v, want success after a retry", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if IsPermanent(err) != c.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !c.permanent, c.permanent)
			}
			if c.code != "" && ErrorCode(err) != c.code {
				t.Errorf("ErrorCode = %q, want %q", ErrorCode(err), c.code)
			}
			if c.typed != nil && !c.typed(err) {
				t.Errorf("error %v is not the modeled SES type", err)
			}
		})
	}
}

func TestIsPermanentByCode(t *testing.T) {
	for code, want := range map[string]bool{
		"MessageRejected": true, "SendingPausedException": true, "AccountSuspendedException": true,
		"MailFromDomainNotVerifiedException": true, "BadRequestException": true, "NotFoundException": true,
		"TooManyRequestsException": false, "InternalFailure": false,
	} {
		err := &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &smithy.GenericAPIError{Code: code}}
		if got := IsPermanent(err); got != want {
			t.Errorf("IsPermanent(%s) = %v, want %v", code, got, want)
		}
	}
	for _, err := range []error{nil, context.DeadlineExceeded, errors.New("connection reset")} {
		if IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = true", err)
		}
	}
}

func TestSendRespectsDeadlines(t *testing.T) {
	t.Run("call timeout", func(t *testing.T) {
		f := newFakeSES(t, answer{hang: true})
		s := &Sender{Client: testClient(f.URL), CallTimeout: 300 * time.Millisecond}
		start := time.Now()
		err := s.Send(context.Background(), testMessage)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v with a 300ms call timeout", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) || ErrorCode(err) != "timeout" {
			t.Errorf("err = %v (code %q), want a retryable timeout", err, ErrorCode(err))
		}
	})
	t.Run("parent deadline", func(t *testing.T) {
		f := newFakeSES(t, answer{hang: true})
		s := &Sender{Client: testClient(f.URL), CallTimeout: time.Minute}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Send(ctx, testMessage)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v with a 200ms parent deadline", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSendBodyOnTheWire(t *testing.T) {
	f := newFakeSES(t, answer{status: 200})
	s := &Sender{Client: testClient(f.URL), ConfigurationSet: "leadpipe"}
	if err := s.Send(context.Background(), testMessage); err != nil {
		t.Fatal(err)
	}
	body := <-f.bodies
	b, _ := json.Marshal(body)
	want := `{"ConfigurationSetName":"leadpipe","Content":{"Simple":{"Body":{"Html":{"Charset":"UTF-8","Data":"\u003cp\u003ehtml body\u003c/p\u003e"},"Text":{"Charset":"UTF-8","Data":"text body"}},"Subject":{"Charset":"UTF-8","Data":"New contact message 099a8057"}}},"Destination":{"ToAddresses":["staff@clinic.example"]},"FromEmailAddress":"\"Harbor Ketamine Clinic\" \u003cnotify@clinic.example\u003e","ReplyToAddresses":["patient@example.com"]}`
	if string(b) != want {
		t.Errorf("body\n got %s\nwant %s", b, want)
	}
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestStaffMailSkipsSuppression: staff mail goes through the staff
// configuration set (suppression off), confirmations through the set that
// suppresses; without a staff set both use the one set.
func TestStaffMailSkipsSuppression(t *testing.T) {
	var got []string
	s := &Sender{ConfigurationSet: "leadpipe", StaffConfigurationSet: "leadpipe-staff",
		Client: fakeAPI{func(_ context.Context, in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
			got = append(got, aws.ToString(in.ConfigurationSetName))
			return &sesv2.SendEmailOutput{}, nil
		}}}
	confirmation := testMessage
	confirmation.ReplyTo, confirmation.To, confirmation.ToSubmitter = nil, []string{"patient@example.com"}, true
	send := func() {
		t.Helper()
		for _, m := range []Message{testMessage, confirmation} {
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	send()
	s.StaffConfigurationSet = ""
	send()
	if want := []string{"leadpipe-staff", "leadpipe", "leadpipe", "leadpipe"}; !slices.Equal(got, want) {
		t.Errorf("configuration sets %q, want %q (staff, confirmation; then both on the one set)", got, want)
	}
}

func TestIsRefused(t *testing.T) {
	for code, want := range map[string]bool{
		"MessageRejected": true, "BadRequestException": true,
		// Account and settings faults: the same message goes through once ops fix them.
		"SendingPausedException": false, "AccountSuspendedException": false,
		"MailFromDomainNotVerifiedException": false, "NotFoundException": false,
		"TooManyRequestsException": false,
	} {
		err := &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &smithy.GenericAPIError{Code: code}}
		if got := IsRefused(err); got != want {
			t.Errorf("IsRefused(%s) = %v, want %v", code, got, want)
		}
		if IsRefused(err) && !IsPermanent(err) {
			t.Errorf("%s is refused but not permanent", code)
		}
	}
	if !IsRefused(fmt.Errorf("wrapped: %w", ErrInvalidMessage)) || IsRefused(context.DeadlineExceeded) || IsRefused(nil) {
		t.Error("IsRefused misreads invalid messages, timeouts or nil")
	}
}
