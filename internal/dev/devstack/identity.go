package devstack

import (
	"context"
	"fmt"
	"unicode"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
)

// The seeded staff account of the local user pool.
const (
	// StaffUser is its username, which is also its email address, as for
	// every staff account (the pool has no UsernameAttributes).
	StaffUser = "staff@clinic.test"
	// DefaultStaffPassword is its password unless
	// LEADPIPE_DEV_STAFF_PASSWORD says otherwise. It is for the local
	// emulator only.
	DefaultStaffPassword = "Clinic-Staff-2026!"
)

// Staff groups: the staff function lets members of either in.
var staffGroups = []string{"staff", "admin"}

// identity is the local user pool that stands in for the template's.
type identity struct {
	endpoint string // cognito-local
	poolID   string
	clientID string // the inbox's app client
}

// issuer is the iss of the pool's tokens, as cognito-local writes it.
func (id identity) issuer() string { return id.endpoint + "/" + id.poolID }

// jwksURL is where the pool's signing keys are.
func (id identity) jwksURL() string { return id.issuer() + "/.well-known/jwks.json" }

// setUpIdentity creates the user pool at endpoint (cognito-local) as the
// template's is set up where the emulator can follow: admin-only sign-up,
// the password policy, the inbox's client with its auth flows and token
// lifetimes, and the groups; then it seeds StaffUser in group staff with a
// permanent password. MFA is not emulated, so the pool has none.
func setUpIdentity(ctx context.Context, endpoint, staffPassword string) (identity, error) {
	id := identity{endpoint: endpoint}
	call := func(op string, in, out any) error {
		return localaws.CognitoCall(ctx, endpoint, op, in, out)
	}
	var pool struct{ UserPool struct{ Id string } }
	if err := call("CreateUserPool", map[string]any{
		"PoolName":               "leadpipe-dev-staff",
		"AdminCreateUserConfig":  map[string]any{"AllowAdminCreateUserOnly": true},
		"MfaConfiguration":       "OFF",
		"UsernameConfiguration":  map[string]any{"CaseSensitive": false},
		"AutoVerifiedAttributes": []string{"email"},
		"Policies": map[string]any{"PasswordPolicy": map[string]any{
			"MinimumLength": minPasswordLength, "RequireLowercase": true, "RequireUppercase": true,
			"RequireNumbers": true, "RequireSymbols": false,
		}},
	}, &pool); err != nil {
		return id, err
	}
	id.poolID = pool.UserPool.Id
	var client struct{ UserPoolClient struct{ ClientId string } }
	if err := call("CreateUserPoolClient", map[string]any{
		"UserPoolId": id.poolID,
		"ClientName": "staff-inbox",
		// USER_PASSWORD_AUTH lets scripts and tests sign in with InitiateAuth.
		"ExplicitAuthFlows":    []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		"AccessTokenValidity":  60,
		"IdTokenValidity":      60,
		"RefreshTokenValidity": 12,
		"TokenValidityUnits":   map[string]string{"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"},
	}, &client); err != nil {
		return id, err
	}
	id.clientID = client.UserPoolClient.ClientId
	if id.poolID == "" || id.clientID == "" {
		return id, fmt.Errorf("cognito-local answered no pool id (%q) or client id (%q)", id.poolID, id.clientID)
	}
	for _, g := range staffGroups {
		if err := call("CreateGroup", map[string]any{"UserPoolId": id.poolID, "GroupName": g}, nil); err != nil {
			return id, err
		}
	}
	if err := addUser(ctx, id, StaffUser, staffPassword, "staff"); err != nil {
		return id, err
	}
	return id, nil
}

// addUser creates a confirmed user named by their email address with a
// permanent password, in groups.
func addUser(ctx context.Context, id identity, email, password string, groups ...string) error {
	call := func(op string, in map[string]any) error {
		in["UserPoolId"], in["Username"] = id.poolID, email
		return localaws.CognitoCall(ctx, id.endpoint, op, in, nil)
	}
	if err := call("AdminCreateUser", map[string]any{
		"MessageAction": "SUPPRESS",
		"UserAttributes": []map[string]string{
			{"Name": "email", "Value": email},
			{"Name": "email_verified", "Value": "true"},
		},
	}); err != nil {
		return err
	}
	if err := call("AdminSetUserPassword", map[string]any{"Password": password, "Permanent": true}); err != nil {
		return err
	}
	for _, g := range groups {
		if err := call("AdminAddUserToGroup", map[string]any{"GroupName": g}); err != nil {
			return err
		}
	}
	return nil
}

// minPasswordLength is the staff pool's minimum in template.yaml.
const minPasswordLength = 12

// checkPassword applies the staff pool's password policy, which
// cognito-local does not enforce: a password the dev stack accepts would
// also be accepted in production.
func checkPassword(p string) error {
	var lower, upper, digit bool
	for _, r := range p {
		lower = lower || unicode.IsLower(r)
		upper = upper || unicode.IsUpper(r)
		digit = digit || unicode.IsDigit(r)
	}
	if len([]rune(p)) < minPasswordLength || !lower || !upper || !digit {
		return fmt.Errorf("LEADPIPE_DEV_STAFF_PASSWORD must have at least %d characters with a lower-case letter, an upper-case letter and a digit (the staff pool's policy)", minPasswordLength)
	}
	return nil
}

// AddUser adds a staff account to the running stack's user pool: username
// and email address email, a permanent password, and the given groups
// (none: an account the staff function must refuse).
func (e Endpoints) AddUser(ctx context.Context, email, password string, groups ...string) error {
	return addUser(ctx, identity{endpoint: e.Cognito, poolID: e.UserPoolID, clientID: e.ClientID}, email, password, groups...)
}
