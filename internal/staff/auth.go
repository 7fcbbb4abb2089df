package staff

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// Groups allowed into the inbox.
var staffGroups = []string{"staff", "admin"}

// actor returns the staff member behind req from the claims API Gateway's
// JWT authorizer verified. It never trusts a missing authorizer: no claims
// is 401, so a route deployed without the authorizer opens nothing. A
// verified token that is not an access token, or whose user is in neither
// group, is 403.
func actor(req events.APIGatewayV2HTTPRequest) (lead.Actor, error) {
	var claims map[string]string
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		claims = a.JWT.Claims
	}
	if len(claims) == 0 || claims["sub"] == "" {
		return lead.Actor{}, lead.Errorf(lead.CodeUnauthorized, "please sign in")
	}
	if claims["token_use"] != "access" {
		return lead.Actor{}, lead.Errorf(lead.CodeForbidden, "sign in again: this is not an access token")
	}
	if !inGroup(claims["cognito:groups"], staffGroups) {
		return lead.Actor{}, lead.Errorf(lead.CodeForbidden, "your account is not in the staff or admin group")
	}
	// Staff usernames are their email addresses; access tokens carry
	// username, ID tokens email.
	email := claims["email"]
	if email == "" {
		email = claims["username"]
	}
	return lead.Actor{Subject: claims["sub"], Email: email}, nil
}

// inGroup reports whether the groups claim names one of want. API Gateway
// flattens the array claim to text such as "[staff admin]"; a JSON array
// or a comma-separated list read the same.
func inGroup(claim string, want []string) bool {
	fields := strings.FieldsFunc(claim, func(r rune) bool {
		return r == '[' || r == ']' || r == ',' || r == '"' || r == ' ' || r == '\t'
	})
	for _, g := range fields {
		for _, w := range want {
			if g == w {
				return true
			}
		}
	}
	return false
}
