package httpapi

import (
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// internalMessage is all the public learns about a failure on our side.
const internalMessage = "something went wrong on our side; please try again, or call the clinic"

// Default messages, for an *lead.Error that arrives without one.
var defaultMessages = map[lead.Code]string{
	lead.CodeMalformed:          "we could not read the form; please try again",
	lead.CodeUnknownField:       "the form has a field we do not know",
	lead.CodeTooLarge:           "the form is too large; please shorten your answers",
	lead.CodeUnsupportedMedia:   mediaMessage,
	lead.CodeInvalid:            "some answers need another look",
	lead.CodeIdempotencyReused:  "this submission id was already used for a different submission; please submit again",
	lead.CodeVerificationFailed: "we could not confirm you are not a robot; please reload the page and try again",
	lead.CodeUnavailable:        "we could not save your request just now; please try again in a moment",
	lead.CodeUnauthorized:       "please sign in",
	lead.CodeForbidden:          "your account may not do this",
	lead.CodeNotFound:           "not found",
	lead.CodeConflict:           "this change is not allowed",
	lead.CodeStaleVersion:       "someone else changed this lead; reload it and try again",
}

var statuses = map[lead.Code]int{
	lead.CodeMalformed:          http.StatusBadRequest,
	lead.CodeUnknownField:       http.StatusBadRequest,
	lead.CodeTooLarge:           http.StatusRequestEntityTooLarge,
	lead.CodeUnsupportedMedia:   http.StatusUnsupportedMediaType,
	lead.CodeInvalid:            http.StatusUnprocessableEntity,
	lead.CodeIdempotencyReused:  http.StatusUnprocessableEntity,
	lead.CodeVerificationFailed: http.StatusForbidden,
	lead.CodeUnavailable:        http.StatusServiceUnavailable,
	lead.CodeUnauthorized:       http.StatusUnauthorized,
	lead.CodeForbidden:          http.StatusForbidden,
	lead.CodeNotFound:           http.StatusNotFound,
	lead.CodeConflict:           http.StatusConflict,
	lead.CodeStaleVersion:       http.StatusPreconditionFailed,
}

// ErrorBody is the JSON of every error response: what the client may
// learn about a failure, and no more.
type ErrorBody struct {
	Error     string            `json:"error"`
	Field     string            `json:"field,omitempty"`
	Message   string            `json:"message"`
	Fields    []lead.FieldError `json:"fields,omitzero"`   // present, maybe empty, for validation_failed
	Version   int               `json:"version,omitempty"` // the current version, for stale_version
	RequestID string            `json:"requestId,omitempty"`
}

// Error is the one mapping from errors to HTTP responses. An *lead.Error
// (found with errors.As) becomes its code's status with its public Message;
// anything else, and CodeInternal, is a 500 that names only requestID. The
// body never holds err's text, a submitted value or a header.
func Error(err error, requestID string) events.APIGatewayV2HTTPResponse {
	status, body := mapError(err, requestID)
	return withRetryAfter(JSON(status, body), body)
}

// ErrorPage is Error for a person whose browser posted a plain HTML form
// (decide with WantsHTML): the same status, headers and ErrorBody, which
// page turns into the HTML they read. page belongs to the package that
// owns the form; it must escape what it shows of the body.
func ErrorPage(err error, requestID string, page func(ErrorBody) string) events.APIGatewayV2HTTPResponse {
	status, body := mapError(err, requestID)
	return withRetryAfter(HTML(status, page(body)), body)
}

func mapError(err error, requestID string) (int, ErrorBody) {
	var e *lead.Error
	status, known := 0, false
	if errors.As(err, &e) && e != nil { // a typed nil *lead.Error is no answer
		status, known = statuses[e.Code]
	}
	if !known {
		return http.StatusInternalServerError, ErrorBody{Error: string(lead.CodeInternal), Message: internalMessage, RequestID: requestID}
	}
	body := ErrorBody{Error: string(e.Code), Message: e.Message}
	if body.Message == "" {
		body.Message = defaultMessages[e.Code]
	}
	switch e.Code {
	case lead.CodeUnknownField:
		body.Field = safeFieldName(e.Field)
	case lead.CodeInvalid:
		body.Fields = append([]lead.FieldError{}, e.Fields...)
	case lead.CodeStaleVersion:
		body.Version = e.Version
	}
	return status, body
}

func withRetryAfter(resp events.APIGatewayV2HTTPResponse, body ErrorBody) events.APIGatewayV2HTTPResponse {
	if body.Error == string(lead.CodeUnavailable) {
		resp.Headers["Retry-After"] = "5"
	}
	return resp
}

// maxFieldName bounds an echoed field name; real ones are far shorter.
const maxFieldName = 64

// safeFieldName returns name if it is a short token of [A-Za-z0-9_-], and
// "(unnamed)" otherwise: unknown keys come from the client, and a response
// must not carry markup, control characters or a pasted message back.
func safeFieldName(name string) string {
	if name == "" || len(name) > maxFieldName {
		return "(unnamed)"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "(unnamed)"
		}
	}
	return name
}

// Constructors for the errors Decode returns. Messages name fields only by
// their schema name, never quote values; Err, for logs, holds positions and
// library errors that carry no submitted text.

func malformed(msg string, cause error) *lead.Error {
	return &lead.Error{Code: lead.CodeMalformed, Message: msg, Err: cause}
}

func unknownField(key string) *lead.Error {
	return &lead.Error{Code: lead.CodeUnknownField, Field: safeFieldName(key),
		Message: "the form sent a field we do not know; please reload the page and try again"}
}

func tooLarge() *lead.Error {
	return lead.Errorf(lead.CodeTooLarge, "the form is larger than %d KiB; please shorten your answers", MaxBodyBytes>>10)
}

const mediaMessage = "please send the form as application/json or application/x-www-form-urlencoded, in UTF-8"

func unsupportedMedia(cause error) *lead.Error {
	return &lead.Error{Code: lead.CodeUnsupportedMedia, Message: mediaMessage, Err: cause}
}

// internal reports a programming error, such as a form type Decode cannot
// fill; it maps to 500.
func internal(cause error) *lead.Error {
	return &lead.Error{Code: lead.CodeInternal, Message: internalMessage, Err: cause}
}
