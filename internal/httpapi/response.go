package httpapi

import (
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
)

// contentSecurityPolicy allows inline styles and nothing else: our pages are
// static text, so a script that appears in one is an attack.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// internalBody is sent when a response cannot be encoded at all.
const internalBody = `{"error":"internal","message":"` + internalMessage + `"}`

// headers are on every response: answers about people's health are never
// cached, sniffed into another type or leaked in a Referer.
func headers(contentType string) map[string]string {
	return map[string]string{
		"Content-Type":           contentType,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
	}
}

// JSON returns status with v encoded as JSON. If v cannot be encoded (a
// programming error) the response is a 500 with the generic internal body.
func JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(internalBody)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    headers("application/json; charset=utf-8"),
		Body:       string(b),
	}
}

// HTML returns status with body, a page the caller has built safely: from
// constants and html.EscapeString, not html/template, whose reflection
// would cost the intake binaries about 2 MiB (see the README's size
// levers). The Content-Security-Policy forbids scripts, so one that
// slipped through would not run.
func HTML(status int, body string) events.APIGatewayV2HTTPResponse {
	h := headers("text/html; charset=utf-8")
	h["Content-Security-Policy"] = contentSecurityPolicy
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: body}
}

// Redirect returns a 303 See Other to location, so a browser that posted a
// form loads the page with GET and a reload does not post again. location
// must come from configuration, never from the request; one CheckRedirect
// refuses gets the generic 500 instead of a header that API Gateway would
// reject or a browser misread. Configuration is checked with CheckRedirect
// at start, so this 500 is a programming error.
func Redirect(location string) events.APIGatewayV2HTTPResponse {
	if CheckRedirect(location) != nil {
		return JSON(http.StatusInternalServerError, ErrorBody{Error: "internal", Message: internalMessage})
	}
	resp := HTML(http.StatusSeeOther,
		`<!doctype html><meta charset="utf-8"><title>Continue</title><p><a href="`+html.EscapeString(location)+`">Continue</a></p>`)
	resp.Headers["Location"] = location
	return resp
}

// CheckRedirect reports why Redirect would refuse location, or nil: it
// must be an absolute http(s) URL with a host, or a path on this host, in
// printable ASCII. The error completes a sentence that starts with the
// setting's name.
func CheckRedirect(location string) error {
	for i := 0; i < len(location); i++ {
		if c := location[i]; c < 0x21 || c >= 0x7f {
			// Controls, spaces, non-ASCII: header splitting, or a URL
			// browsers repair differently.
			return errors.New("must be printable ASCII without spaces (percent-encode anything else)")
		}
	}
	u, err := url.Parse(location)
	if err != nil || location == "" {
		return errors.New("must be a URL such as https://clinic.example/thank-you")
	}
	if u.IsAbs() {
		if (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return nil
		}
		return errors.New("must be an http(s) URL with a host, such as https://clinic.example/thank-you")
	}
	// A path, but not "//host", which browsers read as another site.
	if u.Host == "" && location[0] == '/' && (len(location) == 1 || location[1] != '/' && location[1] != '\\') {
		return nil
	}
	return errors.New("must be an absolute http(s) URL or a path starting with a single /")
}
