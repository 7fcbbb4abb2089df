package staff

import (
	"embed"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The inbox page: static files, embedded in the function so the page and
// the API it calls always ship together.
//
//go:embed web/index.html web/app.css web/app.js
var web embed.FS

// assets are the files served under /staff/, with their types; anything
// else is 404.
var assets = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

// contentSecurityPolicy is the page's policy: its own script and styles
// only (no inline code), and connections only to this API and to Cognito
// (cognitoOrigin) for sign-in.
func contentSecurityPolicy(cognitoOrigin string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' " + cognitoOrigin +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// file answers with an embedded file. Every staff response is no-store;
// the page's are also never framed, sniffed or sent on in a Referer.
func (h *Handler) file(name, contentType string) events.APIGatewayV2HTTPResponse {
	b, err := web.ReadFile("web/" + name)
	if err != nil {
		// Listed files are embedded at build time; this is a build fault.
		return httpapi.Error(lead.Errorf(lead.CodeInternal, "page file %s missing", name), "")
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"Content-Type":            contentType,
			"Content-Security-Policy": h.csp,
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-store",
		},
		Body: string(b),
	}
}

type configBody struct {
	Region          string `json:"region"`
	UserPoolID      string `json:"userPoolId"`
	ClientID        string `json:"clientId"`
	CognitoEndpoint string `json:"cognitoEndpoint,omitempty"`
	TimeZone        string `json:"timeZone,omitempty"`
	IdleMinutes     int    `json:"idleMinutes"`
}

// IdleMinutes is how long the page keeps a session without activity.
const IdleMinutes = 15

func (h *Handler) config() events.APIGatewayV2HTTPResponse {
	return httpapi.JSON(http.StatusOK, configBody{
		Region:          h.region,
		UserPoolID:      h.userPoolID,
		ClientID:        h.clientID,
		CognitoEndpoint: h.cognitoEndpoint,
		TimeZone:        h.timeZone,
		IdleMinutes:     IdleMinutes,
	})
}
