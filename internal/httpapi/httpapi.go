// Package httpapi turns API Gateway HTTP API (payload format 2.0) events
// into forms, and domain errors into responses. It is the one place that
// knows HTTP status codes.
//
// Decoding is strict on purpose: a body is accepted only if it means
// exactly one thing. Unknown, duplicate or differently cased keys, values of
// the wrong type and text that did not survive encoding are refused with a
// *lead.Error rather than guessed at, so what is stored is what the person
// typed.
package httpapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxBodyBytes caps a decoded body. The longest honest consultation form is
// a few KiB.
const MaxBodyBytes = 64 << 10

// base64Slack allows for padding and line breaks around a body of
// MaxBodyBytes; anything longer cannot decode to an acceptable size.
const base64Slack = 1 << 10

// Format is how a body was encoded. The zero Format means the content type
// was not understood.
type Format int

// The two formats Decode accepts.
const (
	FormatJSON Format = iota + 1 // application/json
	FormatForm                   // application/x-www-form-urlencoded, as a plain HTML form posts
)

// String names the format, for logs.
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatForm:
		return "form"
	}
	return "unknown"
}

// Decode reads req's body into form, a non-nil pointer to a struct whose
// fields are string, bool or []string with json tags (*lead.Contact,
// *lead.Consultation). *form is replaced only on success.
//
// The Format is returned whenever the content type was understood, even
// with an error, so a handler can answer a plain HTML form with a page.
// Errors are *lead.Error: CodeUnsupportedMedia, CodeTooLarge, CodeMalformed
// or CodeUnknownField for the client's mistakes, CodeInternal if form is
// not a type Decode can fill.
func Decode(req events.APIGatewayV2HTTPRequest, form any) (Format, error) {
	rv := reflect.ValueOf(form)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return 0, internal(fmt.Errorf("decode: form must be a non-nil pointer to a struct, not %T", form))
	}
	s, err := schemaFor(rv.Type().Elem())
	if err != nil {
		return 0, internal(fmt.Errorf("decode: %w", err))
	}
	format, err := contentFormat(Header(req, "Content-Type"))
	if err != nil {
		return 0, err
	}
	body, err := readBody(req)
	if err != nil {
		return format, err
	}
	out := reflect.New(s.typ).Elem()
	switch format {
	case FormatJSON:
		err = decodeJSON(body, s, out)
	default:
		err = decodeForm(body, s, out)
	}
	if err != nil {
		return format, err
	}
	rv.Elem().Set(out)
	return format, nil
}

// contentFormat reads a Content-Type header. API Gateway joins repeated
// headers with commas, which mime.ParseMediaType refuses, so two content
// types are refused too, as are charsets other than UTF-8: a body is never
// decoded as something other than what its sender said.
func contentFormat(contentType string) (Format, error) {
	if contentType == "" {
		return 0, unsupportedMedia(errors.New("no content type"))
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, unsupportedMedia(err) // mime's errors name the problem, not the value
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, unsupportedMedia(errors.New("charset is not utf-8"))
	}
	switch mediaType { // already lower-cased by mime
	case "application/json":
		return FormatJSON, nil
	case "application/x-www-form-urlencoded":
		return FormatForm, nil
	}
	return 0, unsupportedMedia(errors.New("media type not accepted"))
}

// readBody returns the body, base64-decoded if API Gateway encoded it, and
// enforces the size limit before and after decoding.
func readBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	var body []byte
	if req.IsBase64Encoded {
		if len(req.Body) > base64.StdEncoding.EncodedLen(MaxBodyBytes)+base64Slack {
			return nil, tooLarge()
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, malformed("we could not read the form; its encoding is broken", err)
		}
		body = b
	} else {
		body = []byte(req.Body)
	}
	if len(body) > MaxBodyBytes {
		return nil, tooLarge()
	}
	if len(body) == 0 {
		return nil, malformed("the form arrived empty; please fill it in and send it again", nil)
	}
	if !utf8.Valid(body) {
		return nil, malformed("the form must be sent as UTF-8 text", nil)
	}
	return body, nil
}

// Header returns the value of the request header name, matched without
// regard to case. Should the event hold the name in more than one case,
// the values are joined with commas in a fixed order, as API Gateway joins
// a repeated header.
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	var keys []string
	for k := range req.Headers {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return ""
	case 1:
		return req.Headers[keys[0]]
	}
	slices.Sort(keys)
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = req.Headers[k]
	}
	return strings.Join(values, ",")
}

// WantsJSON reports whether the Accept header asks for JSON
// (application/json, any */json or +json type) at least as much as for
// HTML. Browsers posting a plain form ask for HTML first; fetch() callers
// that want JSON say so.
func WantsJSON(req events.APIGatewayV2HTTPRequest) bool {
	jsonQ, htmlQ := acceptQ(req)
	return jsonQ > 0 && jsonQ >= htmlQ
}

// WantsHTML reports whether the client is a browser asking for a page
// (text/html preferred to JSON): a plain form post gets its errors as a
// page. curl's */* and fetch() callers asking for JSON get JSON.
func WantsHTML(req events.APIGatewayV2HTTPRequest) bool {
	jsonQ, htmlQ := acceptQ(req)
	return htmlQ > 0 && htmlQ > jsonQ
}

// acceptQ returns the Accept header's quality values for JSON and HTML.
func acceptQ(req events.APIGatewayV2HTTPRequest) (jsonQ, htmlQ float64) {
	for _, part := range strings.Split(Header(req, "Accept"), ",") {
		mediaType, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f >= 0 && f <= 1) { // also refuses NaN
				continue
			}
			q = f
		}
		_, sub, _ := strings.Cut(mediaType, "/")
		switch {
		case sub == "json" || strings.HasSuffix(sub, "+json"):
			jsonQ = max(jsonQ, q)
		case mediaType == "text/html" || mediaType == "application/xhtml+xml":
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ, htmlQ
}
