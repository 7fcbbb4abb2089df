package sesmail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// API is the part of the SES v2 client a Sender uses; *sesv2.Client has it.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// DefaultCallTimeout bounds one Send, retries included, when the Sender
// sets none.
const DefaultCallTimeout = 10 * time.Second

// Sender sends Messages through SES. Retries of throttling and 5xx answers
// are the client's retryer's job (configure it bounded); Send makes one
// SendEmail call.
type Sender struct {
	Client API
	// ConfigurationSet, when set, is named on messages to submitters
	// (TLS-required delivery, and suppression of addresses that bounce or
	// complain, which protects the clinic's sending reputation). It is
	// also named on staff mail while StaffConfigurationSet is empty.
	ConfigurationSet string
	// StaffConfigurationSet, when set, is named on staff mail (every
	// Message that is not ToSubmitter). It must be a set with suppression
	// turned off: SES accepts mail to a suppressed address and delivers
	// nothing, so one bounce during a mail-server move would otherwise
	// silence every later lead.
	StaffConfigurationSet string
	// CallTimeout bounds one Send, retries included, within the caller's
	// deadline. Zero means DefaultCallTimeout.
	CallTimeout time.Duration
}

const charset = "UTF-8"

// Send validates m's headers again (a Message built elsewhere gets the
// same checks) and sends it as multipart text and HTML. Errors wrap the
// SDK's; IsPermanent tells whether sending again can help. Error texts
// from SES may quote addresses, so callers log ErrorCode(err), not err.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	timeout := s.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	// WithTimeout keeps the parent's deadline when that is earlier.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: m.To},
		ReplyToAddresses: m.ReplyTo,
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String(charset)},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String(charset)},
				Html: &types.Content{Data: aws.String(m.HTML), Charset: aws.String(charset)},
			},
		}},
	}
	if set := s.configurationSet(m); set != "" {
		in.ConfigurationSetName = aws.String(set)
	}
	if _, err := s.Client.SendEmail(ctx, in); err != nil {
		return fmt.Errorf("ses send email: %w", err)
	}
	return nil
}

// configurationSet is the set m is sent through ("" for none).
func (s *Sender) configurationSet(m Message) string {
	if !m.ToSubmitter && s.StaffConfigurationSet != "" {
		return s.StaffConfigurationSet
	}
	return s.ConfigurationSet
}

// permanentCodes are the SES answers that another attempt of the same
// message cannot change: the message or the account must be fixed first.
// Matching by code covers the SDK's modeled errors (their ErrorCode is
// their name) and codes it does not model alike.
var permanentCodes = map[string]bool{
	"MessageRejected":                    true,
	"MailFromDomainNotVerifiedException": true,
	"SendingPausedException":             true,
	"AccountSuspendedException":          true,
	"BadRequestException":                true,
	"NotFoundException":                  true,
}

// IsPermanent reports whether err means the message will never be sent as
// it is: SES answered with one of permanentCodes, or it failed validation
// here (ErrInvalidMessage). Throttling, 5xx, timeouts and network faults
// are not permanent.
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && permanentCodes[api.ErrorCode()]
}

// refusedCodes are the permanent answers about the message itself, not
// about the account or its settings (a paused account, an unverified
// MAIL FROM domain, a missing configuration set): once ops have fixed
// those, the same message goes through.
var refusedCodes = map[string]bool{
	"MessageRejected":     true,
	"BadRequestException": true,
}

// IsRefused reports whether err means this message will never be sent,
// whatever ops fix: it failed validation here (ErrInvalidMessage) or SES
// refused it for what it is (refusedCodes). Every refused error is
// permanent; a permanent error that is not refused may go through later.
func IsRefused(err error) bool {
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && refusedCodes[api.ErrorCode()]
}

// ErrorCode names err for logs without quoting it: the SES error code, or
// "invalid_message", "timeout", "canceled", "error". SES error messages can
// quote email addresses, so logs carry this instead.
func ErrorCode(err error) string {
	var api smithy.APIError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrInvalidMessage):
		return "invalid_message"
	case errors.As(err, &api):
		return api.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// SendEmailFunc adapts the SDK client's SendEmail method value to API, so
// the *sesv2.Client itself never sits in an interface: with html/template's
// reflection in the binary, that would make the linker keep all of the
// client's ~100 operations (see internal/dynamo.ClientAPI).
type SendEmailFunc func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)

// SendEmail calls f.
func (f SendEmailFunc) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f(ctx, in, optFns...)
}
