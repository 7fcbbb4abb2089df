package httpapi

import (
	"encoding/json"
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
// must come from configuration, never from the request; one that is not an
// absolute http(s) URL or a path gets the generic 500 instead of a header
// that API Gateway would reject or a browser misread.
func Redirect(location string) events.APIGatewayV2HTTPResponse {
	if !safeLocation(location) {
		return JSON(http.StatusInternalServerError, ErrorBody{Error: "internal", Message: internalMessage})
	}
	resp := HTML(http.StatusSeeOther,
		`<!doctype html><meta charset="utf-8"><title>Continue</title><p><a href="`+html.EscapeString(location)+`">Continue</a></p>`)
	resp.Headers["Location"] = location
	return resp
}

func safeLocation(location string) bool {
	for i := 0; i < len(location); i++ {
		if c := location[i]; c < 0x21 || c >= 0x7f {
			return false // controls, spaces, non-ASCII: header splitting, or a URL browsers repair differently
		}
	}
	u, err := url.Parse(location)
	if err != nil || location == "" {
		return false
	}
	if u.IsAbs() {
		return (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
	}
	// A path, but not "//host", which browsers read as another site.
	return u.Host == "" && len(location) > 0 && location[0] == '/' && (len(location) == 1 || location[1] != '/' && location[1] != '\\')
}
