package devstack_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/devstack"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/golang-jwt/jwt/v5"
)

// authTemplate is template.yaml plus a JWT authorizer TestJwt on its HTTP
// API and two test functions: WhoAmIFunction behind GET /test/whoami
// (needs TestJwt) and GET /test/open (Authorizer: NONE), and
// GhostFunction, which the stack has no constructor for.
func authTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	var apiID string
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::Serverless::HttpApi" {
			apiID = id
		}
	}
	props := tmpl.Resources[apiID].Properties
	auth, _ := props["Auth"].(map[string]any)
	if auth == nil {
		auth = map[string]any{}
		props["Auth"] = auth
	}
	authorizers, _ := auth["Authorizers"].(map[string]any)
	if authorizers == nil {
		authorizers = map[string]any{}
		auth["Authorizers"] = authorizers
	}
	authorizers["TestJwt"] = map[string]any{
		"IdentitySource": "$request.header.Authorization",
		"JwtConfiguration": map[string]any{
			"issuer":   map[string]any{"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${StaffUserPool}"},
			"audience": []any{map[string]any{"Ref": "StaffUserPoolClient"}},
		},
	}
	event := func(method, path, authorizer string) map[string]any {
		return map[string]any{"Type": "HttpApi", "Properties": map[string]any{
			"ApiId": map[string]any{"Ref": apiID}, "Method": method, "Path": path, "PayloadFormatVersion": "2.0",
			"Auth": map[string]any{"Authorizer": authorizer},
		}}
	}
	tmpl.Resources["WhoAmIFunction"] = samtemplate.Resource{Type: "AWS::Serverless::Function", Properties: map[string]any{
		"Timeout": 5,
		"Events": map[string]any{
			"WhoAmI": event("GET", "/test/whoami", "TestJwt"),
			"Open":   event("GET", "/test/open", "NONE"),
		},
	}}
	tmpl.Resources["GhostFunction"] = samtemplate.Resource{Type: "AWS::Serverless::Function", Properties: map[string]any{
		"Events": map[string]any{"Ghost": event("GET", "/test/ghost", "NONE")},
	}}
	return tmpl
}

// whoAmI is a function that answers with the authorizer part of its event,
// and records the environment it was built with.
type whoAmI struct {
	mu    sync.Mutex
	env   map[string]string
	calls int
}

func (f *whoAmI) build(getenv func(string) string) (devstack.HTTPHandler, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.env = map[string]string{}
	for _, k := range []string{"LEADS_TABLE", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "COGNITO_ENDPOINT", "CURSOR_SECRET",
		"INBOX_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2"} {
		f.env[k] = getenv(k)
	}
	return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		f.mu.Lock()
		f.calls++
		f.mu.Unlock()
		body, err := json.Marshal(ev.RequestContext.Authorizer)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, err
	}, nil
}

func (f *whoAmI) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// signIn signs a user in through clientID with USER_PASSWORD_AUTH, as a
// script or the inbox page does, and returns the access token.
func signIn(t *testing.T, ep devstack.Endpoints, clientID, user, password string) string {
	t.Helper()
	var out struct{ AuthenticationResult struct{ AccessToken string } }
	if err := localaws.CognitoCall(context.Background(), ep.Cognito, "InitiateAuth", map[string]any{
		"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": password},
	}, &out); err != nil {
		t.Fatal(err)
	}
	if out.AuthenticationResult.AccessToken == "" {
		t.Fatal("InitiateAuth answered no access token")
	}
	return out.AuthenticationResult.AccessToken
}

// cognitoLocalKey is the signing key that ships inside cognito-local: a
// token signed with it is one the pool could have issued.
func cognitoLocalKey(t *testing.T) any {
	t.Helper()
	root, err := localaws.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "infra", "node_modules", "cognito-local", "lib", "keys", "cognitoLocal.private.json"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ PEM string }
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(k.PEM))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestJWTAuthorizerThroughLocalAPI: the local API checks tokens as API
// Gateway's JWT authorizer does, with real tokens from cognito-local, and
// hands the function the claims as API Gateway does. Group membership is
// not the authorizer's business: the function answers 403 itself.
func TestJWTAuthorizerThroughLocalAPI(t *testing.T) {
	fn := &whoAmI{}
	ep, out := startStack(t, func(c *devstack.Config) {
		c.Template = authTemplate(t)
		c.Functions = map[string]devstack.HTTPFunction{"WhoAmIFunction": fn.build}
	})
	for _, want := range []string{"GET " + ep.API + "/test/whoami  (WhoAmIFunction, token checked by TestJwt)",
		"GET " + ep.API + "/test/open  (WhoAmIFunction)", "not runnable      GhostFunction"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	whoami := ep.API + "/test/whoami"
	type answer struct {
		JWT *struct {
			Claims map[string]string `json:"claims"`
			Scopes []string          `json:"scopes"`
		} `json:"jwt"`
	}
	get := func(t *testing.T, url, token string) (int, answer, string) {
		t.Helper()
		hdr := map[string]string{}
		if token != "" {
			hdr["Authorization"] = "Bearer " + token
		}
		resp, body := do(t, "GET", url, "", hdr)
		var a answer
		if resp.StatusCode == 200 {
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				t.Fatalf("answer %s: %v", body, err)
			}
		}
		return resp.StatusCode, a, body
	}

	t.Run("environment", func(t *testing.T) {
		want := map[string]string{"LEADS_TABLE": ep.Table, "USER_POOL_ID": ep.UserPoolID, "USER_POOL_CLIENT_ID": ep.ClientID,
			"COGNITO_ENDPOINT": ep.Cognito, "INBOX_URL": ep.API + "/staff", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local",
			"AWS_ENDPOINT_URL_DYNAMODB": ep.Stream, "AWS_ENDPOINT_URL_SESV2": ep.SES}
		for k, v := range want {
			if fn.env[k] != v {
				t.Errorf("%s = %q, want %q", k, fn.env[k], v)
			}
		}
		if b, err := hex.DecodeString(fn.env["CURSOR_SECRET"]); err != nil || len(b) != 32 {
			t.Errorf("CURSOR_SECRET = %q, want 32 random bytes in hex", fn.env["CURSOR_SECRET"])
		}
	})

	t.Run("refused", func(t *testing.T) {
		key := cognitoLocalKey(t)
		mine, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
			c := jwt.MapClaims{"iss": ep.Cognito + "/" + ep.UserPoolID, "sub": "00000000-0000-4000-8000-000000000000",
				"username": devstack.StaffUser, "client_id": ep.ClientID, "token_use": "access", "cognito:groups": []string{"staff"},
				"iat": now.Unix(), "auth_time": now.Unix(), "exp": now.Add(time.Hour).Unix()}
			if change != nil {
				change(c)
			}
			return c
		}
		signed := func(key any, c jwt.MapClaims) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
			tok.Header["kid"] = "CognitoLocal"
			s, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		// The shipped key with the right claims passes: the refusals
		// below are for the one thing each of them changes.
		if code, _, body := get(t, whoami, signed(key, claims(nil))); code != 200 {
			t.Fatalf("a token signed with the pool's key: %d %s, want 200", code, body)
		}
		var other struct{ UserPoolClient struct{ ClientId string } }
		if err := localaws.CognitoCall(context.Background(), ep.Cognito, "CreateUserPoolClient", map[string]any{
			"UserPoolId": ep.UserPoolID, "ClientName": "not-the-inbox", "ExplicitAuthFlows": []string{"ALLOW_USER_PASSWORD_AUTH"},
		}, &other); err != nil {
			t.Fatal(err)
		}
		before := fn.callCount()
		for _, tt := range []struct{ name, token string }{
			{"no token", ""},
			{"signed by another key", signed(mine, claims(nil))},
			{"expired", signed(key, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }))},
			{"another client", signIn(t, ep, other.UserPoolClient.ClientId, devstack.StaffUser, devstack.DefaultStaffPassword)},
			{"another pool", signed(key, claims(func(c jwt.MapClaims) { c["iss"] = ep.Cognito + "/local_other" }))},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, _, body := get(t, whoami, tt.token)
				if code != 401 || body != `{"message":"Unauthorized"}` {
					t.Errorf("got %d %s, want API Gateway's 401", code, body)
				}
			})
		}
		if n := fn.callCount() - before; n != 0 {
			t.Errorf("the function ran %d times for refused tokens, want never", n)
		}
	})

	t.Run("staff user", func(t *testing.T) {
		code, a, body := get(t, whoami, signIn(t, ep, ep.ClientID, devstack.StaffUser, devstack.DefaultStaffPassword))
		if code != 200 || a.JWT == nil {
			t.Fatalf("got %d %s, want 200 with the claims", code, body)
		}
		c := a.JWT.Claims
		if c["cognito:groups"] != "[staff]" || c["username"] != devstack.StaffUser || c["sub"] == "" || c["client_id"] != ep.ClientID ||
			c["token_use"] != "access" || c["iss"] != ep.Cognito+"/"+ep.UserPoolID {
			t.Errorf("claims = %v", c)
		}
		if a.JWT.Scopes != nil {
			t.Errorf("scopes = %v, want none (the route has no AuthorizationScopes)", a.JWT.Scopes)
		}
	})

	t.Run("user in no group", func(t *testing.T) {
		// The authorizer knows nothing of groups: the token reaches the
		// function, which must answer 403 itself.
		const user, password = "visitor@clinic.test", "Visitor-Pass-2026"
		if err := ep.AddUser(context.Background(), user, password); err != nil {
			t.Fatal(err)
		}
		code, a, body := get(t, whoami, signIn(t, ep, ep.ClientID, user, password))
		if code != 200 || a.JWT == nil || a.JWT.Claims["username"] != user {
			t.Fatalf("got %d %s, want the function reached with the claims", code, body)
		}
		if g, ok := a.JWT.Claims["cognito:groups"]; ok {
			t.Errorf("cognito:groups = %q, want no groups claim", g)
		}
	})

	t.Run("route without authorizer", func(t *testing.T) {
		code, a, body := get(t, ep.API+"/test/open", "")
		if code != 200 || strings.TrimSpace(body) != "null" || a.JWT != nil {
			t.Errorf("got %d %s, want the function reached with no authorizer part", code, body)
		}
	})

	t.Run("function without constructor", func(t *testing.T) {
		resp, body := do(t, "GET", ep.API+"/test/ghost", "", nil)
		if resp.StatusCode != 500 || body != `{"message":"Internal Server Error"}` {
			t.Errorf("got %d %s, want API Gateway's 500", resp.StatusCode, body)
		}
	})
}

// The default sign-in is documented; a password the production pool would
// refuse is refused here too, naming the variable.
func TestStaffPasswordPolicy(t *testing.T) {
	for _, p := range []string{"short-A1", "no-upper-case-1", "NO-LOWER-CASE-1", "No-Digits-At-All"} {
		_, err := devstack.ConfigFromEnv(func(k string) string {
			return map[string]string{"LEADPIPE_DEV_STAFF_PASSWORD": p}[k]
		})
		if err == nil || !strings.Contains(err.Error(), "LEADPIPE_DEV_STAFF_PASSWORD") {
			t.Errorf("password %q: err = %v, want one naming LEADPIPE_DEV_STAFF_PASSWORD", p, err)
		}
	}
	c, err := devstack.ConfigFromEnv(func(string) string { return "" })
	if err != nil || c.StaffPassword != devstack.DefaultStaffPassword || c.CognitoPort != 9229 {
		t.Errorf("defaults: password %q, cognito port %d, %v", c.StaffPassword, c.CognitoPort, err)
	}
}
