package lead

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. Websites switch on it, so
// existing codes never change meaning.
type Code string

// Error codes. httpapi maps each to exactly one HTTP status.
const (
	CodeMalformed          Code = "malformed_body"
	CodeUnknownField       Code = "unknown_field"
	CodeTooLarge           Code = "body_too_large"
	CodeUnsupportedMedia   Code = "unsupported_media_type"
	CodeInvalid            Code = "validation_failed"
	CodeIdempotencyReused  Code = "idempotency_key_reused"
	CodeVerificationFailed Code = "verification_failed"
	CodeUnavailable        Code = "unavailable"
	CodeUnauthorized       Code = "unauthorized"
	CodeForbidden          Code = "forbidden"
	CodeNotFound           Code = "not_found"
	CodeConflict           Code = "conflict"
	CodeStaleVersion       Code = "stale_version"
	CodeInternal           Code = "internal"
)

// FieldError names one failing field by its JSON name, with a message meant
// for the person filling in the form. It never contains the submitted value.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type the domain returns. Message is safe to show to
// the public; Err is the cause, for logs only, and must not hold submitted
// values either.
type Error struct {
	Code    Code
	Message string
	Field   string       // for CodeUnknownField
	Fields  []FieldError // for CodeInvalid
	Version int          // for CodeStaleVersion: the lead's current version
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a public message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a fault in a dependency that a retry may cure.
func Unavailable(err error) *Error {
	return &Error{Code: CodeUnavailable, Message: "we could not save your request just now; please try again in a moment", Err: err}
}

// ErrorCode returns the code of err, CodeInternal for anything that is not an
// *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
