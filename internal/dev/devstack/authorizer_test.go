package devstack

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testIssuer serves a JWKS with one RSA key, kid "k1", like a user pool's.
type testIssuer struct {
	url string
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return &testIssuer{url: srv.URL + "/pool", key: key}
}

// sign makes an RS256 token with kid (none when "") signed by key.
func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTAuthorizer(t *testing.T) {
	iss := newTestIssuer(t)
	a, err := newJWTAuthorizer(t.Context(), iss.url, iss.url+"/.well-known/jwks.json", []string{"inbox-client"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	access := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": iss.url, "sub": "5f0c", "username": "staff@clinic.test", "client_id": "inbox-client",
			"token_use": "access", "scope": "aws.cognito.signin.user.admin", "cognito:groups": []string{"staff", "admin"},
			"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email_verified": true}
		if change != nil {
			change(c)
		}
		return c
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("valid", func(t *testing.T) {
		for _, header := range []string{"Bearer " + sign(t, iss.key, "k1", access(nil)), sign(t, iss.key, "k1", access(nil))} {
			got, err := a.authorize(t.Context(), header, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"iss": iss.url, "sub": "5f0c", "username": "staff@clinic.test", "client_id": "inbox-client",
				"token_use": "access", "scope": "aws.cognito.signin.user.admin", "cognito:groups": "[staff admin]",
				"auth_time": strconv.FormatInt(now.Unix(), 10), "iat": strconv.FormatInt(now.Unix(), 10),
				"exp": strconv.FormatInt(now.Add(time.Hour).Unix(), 10), "email_verified": "true"}
			if len(got.Claims) != len(want) {
				t.Errorf("claims = %v, want %v", got.Claims, want)
			}
			for k, v := range want {
				if got.Claims[k] != v {
					t.Errorf("claim %s = %q, want %q", k, got.Claims[k], v)
				}
			}
			if got.Scopes != nil {
				t.Errorf("scopes = %v, want none for a route without scopes (API Gateway passes null)", got.Scopes)
			}
		}
	})

	t.Run("aud wins over client_id", func(t *testing.T) {
		// An ID token: aud is the client. API Gateway lets it through (it
		// does not read token_use); the function refuses it.
		idToken := sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["aud"] = "inbox-client"; c["token_use"] = "id"; delete(c, "client_id") }))
		if got, err := a.authorize(t.Context(), "Bearer "+idToken, nil); err != nil || got.Claims["token_use"] != "id" {
			t.Errorf("ID token for the client: %v, %v; want it passed on with token_use id", got, err)
		}
		wrongAud := sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["aud"] = []string{"another-client"} }))
		if _, err := a.authorize(t.Context(), "Bearer "+wrongAud, nil); err == nil {
			t.Error("a token whose aud is another client passed, although its client_id is right")
		}
	})

	for _, tt := range []struct {
		name  string
		token string
	}{
		{"no token", ""},
		{"not a JWT", "Bearer abc.def"},
		{"signed by another key", sign(t, other, "k1", access(nil))},
		{"unknown key id", sign(t, other, "k2", access(nil))},
		{"no key id", sign(t, iss.key, "", access(nil))},
		{"expired", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() }))},
		{"no expiry", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"not yet valid", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }))},
		{"issued in the future", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }))},
		{"another client", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["client_id"] = "another-client" }))},
		{"no client", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { delete(c, "client_id") }))},
		{"another issuer", sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/x" }))},
		{"HMAC", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, access(nil))
			tok.Header["kid"] = "k1"
			s, _ := tok.SignedString([]byte("secret"))
			return s
		}()},
		{"unsigned", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, access(nil))
			tok.Header["kid"] = "k1"
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got, err := a.authorize(t.Context(), tt.token, nil)
			if err == nil || errors.Is(err, errForbidden) {
				t.Errorf("authorize = %v, %v; want the token refused (401)", got, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusal took %v", d)
			}
		})
	}

	t.Run("scopes", func(t *testing.T) {
		tok := sign(t, iss.key, "k1", access(func(c jwt.MapClaims) { c["scope"] = "leads/read leads/write" }))
		got, err := a.authorize(t.Context(), "Bearer "+tok, []string{"admin/all", "leads/write"})
		if err != nil || strings.Join(got.Scopes, " ") != "leads/read leads/write" {
			t.Errorf("authorize = %+v, %v; want the token's scopes", got, err)
		}
		if _, err := a.authorize(t.Context(), "Bearer "+tok, []string{"admin/all"}); !errors.Is(err, errForbidden) {
			t.Errorf("a token without the route's scope: %v, want errForbidden (403)", err)
		}
	})
}

func TestNewJWTAuthorizerNeedsKeys(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := newJWTAuthorizer(t.Context(), srv.URL, srv.URL+"/.well-known/jwks.json", []string{"c"},
		slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("an authorizer without signing keys was made")
	}
}

func TestFlattenClaim(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{"staff", "staff"},
		{json.Number("1787996002"), "1787996002"},
		{true, "true"},
		{[]any{"staff", "admin"}, "[staff admin]"},
		{[]any{"staff"}, "[staff]"},
		{map[string]any{"a": "b"}, `{"a":"b"}`},
		{nil, ""},
	} {
		if got := flattenClaim(tt.in); got != tt.want {
			t.Errorf("flattenClaim(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
