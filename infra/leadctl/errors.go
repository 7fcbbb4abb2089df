package main

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/stack"
)

// maxAttempts is how often the SDK tries a call (standard retry mode:
// throttling and 5xx answers are retried with backoff). An operator can
// wait longer than a Lambda can.
const maxAttempts = 10

// explain turns an error into one message that says what to do: missing
// or expired credentials, access denied, throttling that outlasted the
// retries, an unknown stack, an unreachable endpoint.
func explain(err error) string {
	msg := err.Error()
	var ae smithy.APIError
	var profileErr config.SharedConfigProfileNotExistError
	var maxErr *retry.MaxAttemptsError
	switch {
	case errors.As(err, &profileErr):
		return msg + ": the profile is not in ~/.aws/config or ~/.aws/credentials (aws configure list-profiles shows them)"
	case strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found"):
		hint := "no usable AWS credentials: run aws sso login (SSO), set AWS_PROFILE or --profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
		if strings.Contains(msg, "SSO") || strings.Contains(msg, "sso") {
			hint = "the SSO session has expired: run aws sso login (with --profile if you use one)"
		}
		return hint + " (" + msg + ")"
	case errors.Is(err, stack.ErrNotFound):
		return msg + ": check the name (--stack, or stack_name in samconfig.toml) and the region (--region; aws cloudformation list-stacks lists them)"
	case errors.As(err, &ae):
		switch ae.ErrorCode() {
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired":
			return "the AWS session has expired: sign in again (aws sso login, or new temporary keys) (" + msg + ")"
		case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidSignatureException":
			return "AWS does not accept these credentials: check the keys or profile in use (aws sts get-caller-identity) (" + msg + ")"
		case "AccessDenied", "AccessDeniedException", "AuthorizationError", "NotAuthorized":
			return "access denied: your IAM identity lacks a permission leadctl needs (README, Operations, lists them): " + msg
		case "Throttling", "ThrottlingException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
			"RequestLimitExceeded", "LimitExceededException", "SlowDown":
			return "AWS kept throttling the calls after " + strconv.Itoa(maxAttempts) + " attempts with backoff: wait a minute and run it again (" + msg + ")"
		}
		if errors.As(err, &maxErr) {
			return msg + " (gave up after " + strconv.Itoa(maxAttempts) + " attempts)"
		}
	}
	var opErr *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &opErr) {
		return msg + " (is the endpoint reachable? with --local: is `make dev` running, on the same LEADPIPE_* ports?)"
	}
	return msg
}
