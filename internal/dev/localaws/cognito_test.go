package localaws_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
)

// TestCognito signs a user in with the unsigned JSON calls the dev stack
// makes, and checks the token has what a JWT authorizer needs: the issuer
// on 127.0.0.1, the key id served in the pool's JWKS, client and groups.
func TestCognito(t *testing.T) {
	t.Parallel()
	e := awstest.Cognito(t)
	assertLoopbackOnly(t, e.Port)
	ctx := context.Background()
	call := func(op string, in, out any) {
		t.Helper()
		if err := localaws.CognitoCall(ctx, e.Endpoint, op, in, out); err != nil {
			t.Fatal(err)
		}
	}
	var pool struct{ UserPool struct{ Id string } }
	call("CreateUserPool", map[string]any{"PoolName": "staff"}, &pool)
	poolID := pool.UserPool.Id
	var client struct{ UserPoolClient struct{ ClientId string } }
	call("CreateUserPoolClient", map[string]any{"UserPoolId": poolID, "ClientName": "inbox",
		"ExplicitAuthFlows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}, &client)
	clientID := client.UserPoolClient.ClientId
	call("CreateGroup", map[string]any{"UserPoolId": poolID, "GroupName": "staff"}, nil)
	const user, password = "nurse@clinic.test", "Long-Enough-Pass1"
	call("AdminCreateUser", map[string]any{"UserPoolId": poolID, "Username": user, "MessageAction": "SUPPRESS",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": user}}}, nil)
	call("AdminSetUserPassword", map[string]any{"UserPoolId": poolID, "Username": user, "Password": password, "Permanent": true}, nil)
	call("AdminAddUserToGroup", map[string]any{"UserPoolId": poolID, "Username": user, "GroupName": "staff"}, nil)

	var auth struct{ AuthenticationResult struct{ AccessToken string } }
	call("InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": password}}, &auth)
	parts := strings.Split(auth.AuthenticationResult.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a JWT", auth.AuthenticationResult.AccessToken)
	}
	var header struct{ Alg, Kid string }
	var claims struct {
		Iss      string   `json:"iss"`
		Sub      string   `json:"sub"`
		Username string   `json:"username"`
		ClientID string   `json:"client_id"`
		TokenUse string   `json:"token_use"`
		Groups   []string `json:"cognito:groups"`
		Exp      int64    `json:"exp"`
	}
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)
	if header.Alg != "RS256" || header.Kid == "" {
		t.Errorf("header = %+v, want RS256 with a key id", header)
	}
	if claims.Iss != e.Endpoint+"/"+poolID || claims.Username != user || claims.ClientID != clientID ||
		claims.TokenUse != "access" || claims.Sub == "" || strings.Join(claims.Groups, ",") != "staff" {
		t.Errorf("claims = %+v, want iss %s/%s, username %s, client %s, an access token in group staff", claims, e.Endpoint, poolID, user, clientID)
	}
	if exp := time.Unix(claims.Exp, 0); exp.Before(time.Now()) {
		t.Errorf("token expired at %v", exp)
	}

	resp, err := http.Get(claims.Iss + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct{ Kid, Kty, Alg string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0].Kid != header.Kid || jwks.Keys[0].Kty != "RSA" {
		t.Errorf("JWKS = %+v (%v), want the token's RSA key %s", jwks, err, header.Kid)
	}

	err = localaws.CognitoCall(ctx, e.Endpoint, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": "wrong-password-1A"}}, nil)
	var ce *localaws.CognitoError
	// Cognito says NotAuthorizedException, cognito-local InvalidPasswordException.
	if !errors.As(err, &ce) || ce.Type == "" || ce.Status != http.StatusBadRequest {
		t.Errorf("wrong password: %v, want a 400 with an error type", err)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatalf("token segment %q: %v", seg, err)
	}
}
