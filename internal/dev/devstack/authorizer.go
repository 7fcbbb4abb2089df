package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

// jwtAuthorizer checks a bearer token as API Gateway's JWT authorizer does
// before it invokes a function, so the function meets locally what it
// meets on AWS:
//
//   - the token (the header's value, with or without "Bearer ") is a JWT
//     signed with RSA by a key of the issuer's JWKS, named by its kid;
//   - iss is the issuer; aud, or when there is no aud client_id (access
//     tokens carry none), is one of the audiences;
//   - exp is in the future, nbf and iat (when present) are not;
//   - for a route with AuthorizationScopes, scope or scp holds one of them.
//
// API Gateway does not look at token_use: an ID token of the pool, whose
// aud is the client, passes it, and the function itself must refuse it.
// Neither does this authorizer, so that locally too the function's own
// check is what such a token meets.
type jwtAuthorizer struct {
	issuer    string
	audiences []string
	keys      keyfunc.Keyfunc
	now       func() time.Time
	parser    *jwt.Parser
}

// jwksTimeout bounds a fetch of the signing keys.
const jwksTimeout = 5 * time.Second

// newJWTAuthorizer fetches the issuer's keys from jwksURL (failing if it
// cannot) and keeps them fresh until ctx ends, as API Gateway caches them.
func newJWTAuthorizer(ctx context.Context, issuer, jwksURL string, audiences []string, log *slog.Logger) (*jwtAuthorizer, error) {
	fail := false
	keys, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		Client:                    &http.Client{Timeout: jwksTimeout},
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: &fail,
		// A token with an unknown kid makes one refetch at most every five
		// minutes (the library's default); other such tokens are refused
		// at once instead of waiting for the next one.
		RateLimitWaitMax: time.Millisecond,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				log.Warn("cannot refresh the user pool's signing keys", "url", u, "error", err.Error())
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys from %s: %w", jwksURL, err)
	}
	a := &jwtAuthorizer{issuer: issuer, audiences: audiences, keys: keys, now: time.Now}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithJSONNumber(),
		jwt.WithTimeFunc(func() time.Time { return a.now() }),
	)
	return a, nil
}

// errForbidden is a valid token without the route's scopes: API Gateway
// answers 403 instead of 401.
var errForbidden = errors.New("the token has none of the route's scopes")

// authorize checks the token in header (the identity source's value) for
// a route needing one of scopes (none: any valid token), and returns what
// API Gateway passes to the function: the claims, flattened to strings,
// and the token's scopes when the route has scopes. The error says why a
// token is refused; it is errForbidden for missing scopes.
func (a *jwtAuthorizer) authorize(ctx context.Context, header string, scopes []string) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error) {
	raw := strings.TrimSpace(header)
	raw = strings.TrimSpace(strings.TrimPrefix(raw, "Bearer "))
	if raw == "" {
		return nil, errors.New("no token")
	}
	var claims jwt.MapClaims
	_, err := a.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		// API Gateway picks the key by kid; without one there is no key.
		if kid, _ := t.Header["kid"].(string); kid == "" {
			return nil, errors.New("the token names no key (kid)")
		}
		return a.keys.KeyfuncCtx(ctx)(t)
	})
	if err != nil {
		return nil, err
	}
	if err := a.checkAudience(claims); err != nil {
		return nil, err
	}
	desc := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: flattenClaims(claims)}
	if len(scopes) > 0 {
		held := tokenScopes(claims)
		if !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(held, s) }) {
			return nil, errForbidden
		}
		desc.Scopes = held
	}
	return desc, nil
}

// checkAudience: aud when the token has one, else client_id, must be one
// of the authorizer's audiences.
func (a *jwtAuthorizer) checkAudience(claims jwt.MapClaims) error {
	if _, ok := claims["aud"]; ok {
		aud, err := claims.GetAudience()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(aud, func(s string) bool { return slices.Contains(a.audiences, s) }) {
			return errors.New("the token's aud is not the authorizer's audience")
		}
		return nil
	}
	clientID, _ := claims["client_id"].(string)
	if !slices.Contains(a.audiences, clientID) {
		return errors.New("the token's client_id is not the authorizer's audience")
	}
	return nil
}

// tokenScopes are the scopes a token holds: scope (space-separated) or scp
// (a list, or space-separated).
func tokenScopes(claims jwt.MapClaims) []string {
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			return strings.Fields(v)
		case []any:
			var out []string
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return nil
}

// flattenClaims turns claims into the strings API Gateway passes: numbers
// as written, lists as "[a b]" (cognito:groups of staff and admin is
// "[staff admin]"), objects as JSON.
func flattenClaims(claims jwt.MapClaims) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = flattenClaim(v)
	}
	return out
}

func flattenClaim(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = flattenClaim(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}
