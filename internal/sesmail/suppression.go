package sesmail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"
)

// SuppressionAPI is the part of the SES v2 client a SuppressionList uses;
// GetSuppressedDestinationFunc adapts *sesv2.Client to it.
type SuppressionAPI interface {
	GetSuppressedDestination(ctx context.Context, in *sesv2.GetSuppressedDestinationInput, optFns ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error)
}

// GetSuppressedDestinationFunc adapts the SDK client's
// GetSuppressedDestination method value to SuppressionAPI, for the reason
// given at SendEmailFunc.
type GetSuppressedDestinationFunc func(context.Context, *sesv2.GetSuppressedDestinationInput, ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error)

// GetSuppressedDestination calls f.
func (f GetSuppressedDestinationFunc) GetSuppressedDestination(ctx context.Context, in *sesv2.GetSuppressedDestinationInput, optFns ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error) {
	return f(ctx, in, optFns...)
}

// SuppressionList reads the SES account's suppression list: the addresses
// SES drops mail to after a bounce or a complaint, while still accepting
// SendEmail for them.
type SuppressionList struct {
	Client SuppressionAPI
	// CallTimeout bounds one look-up, retries included, within the
	// caller's deadline. Zero means DefaultCallTimeout.
	CallTimeout time.Duration
}

// Suppressed reports whether address is on the account's suppression list,
// and the reason SES recorded (BOUNCE or COMPLAINT). SES answers
// NotFoundException for an address that is not listed; that is listed =
// false and no error. Other failures are returned wrapped (ErrorCode names
// them for logs).
func (s *SuppressionList) Suppressed(ctx context.Context, address string) (reason string, listed bool, err error) {
	timeout := s.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := s.Client.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(address)})
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "NotFoundException":
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("ses get suppressed destination: %w", err)
	case out.SuppressedDestination == nil:
		// The operation's contract makes SuppressedDestination required;
		// an answer without it cannot be read as "not listed".
		return "", false, errors.New("ses get suppressed destination: answer without a destination")
	}
	return string(out.SuppressedDestination.Reason), true, nil
}
