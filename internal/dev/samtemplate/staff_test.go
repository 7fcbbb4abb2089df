package samtemplate

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// These tests pin the staff inbox's security in template.yaml (issue 9):
// who can sign in, how, for how long, and which routes need a token.

// httpRoute is one HttpApi event of a function, as the template states it.
type httpRoute struct {
	function, event string
	authorizer      string // the event's Auth.Authorizer, "" when it has none
	props           map[string]any
}

// httpRoutes returns every HttpApi event of every function by route key
// ("GET /staff/leads"); a route declared twice is an error.
func httpRoutes(t *testing.T, tmpl *Template) map[string]httpRoute {
	t.Helper()
	out := map[string]httpRoute{}
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for name, e := range events {
			if at(e, "Type") != "HttpApi" {
				continue
			}
			props, _ := at(e, "Properties").(map[string]any)
			method, _ := props["Method"].(string)
			path, _ := props["Path"].(string)
			key := strings.ToUpper(method) + " " + path
			if prev, dup := out[key]; dup {
				t.Errorf("route %s declared by %s.%s and %s.%s", key, prev.function, prev.event, id, name)
			}
			authorizer, _ := at(props, "Auth", "Authorizer").(string)
			out[key] = httpRoute{function: id, event: name, authorizer: authorizer, props: props}
		}
	}
	return out
}

// staffPublicRoutes hold no data: the page, its two assets and the
// sign-in settings. Everything else under /staff needs a staff token.
var staffPublicRoutes = map[string]bool{
	"GET /staff":             true,
	"GET /staff/{asset}":     true,
	"GET /staff/config.json": true,
}

func TestRouteAuthorizers(t *testing.T) {
	tmpl := mustLoad(t)
	routes := httpRoutes(t, tmpl)
	want := map[string]string{
		"POST /contact":           "NONE",
		"POST /consultations":     "NONE",
		"GET /staff":              "NONE",
		"GET /staff/{asset}":      "NONE",
		"GET /staff/config.json":  "NONE",
		"GET /staff/leads":        "StaffJwt",
		"GET /staff/leads/{id}":   "StaffJwt",
		"PATCH /staff/leads/{id}": "StaffJwt",
	}
	got := map[string]string{}
	for key, r := range routes {
		got[key] = r.authorizer
	}
	if js(got) != js(want) {
		t.Errorf("routes and their authorizers:\n got %s\nwant %s", js(got), js(want))
	}

	// The rule itself, for any route added later: every /staff route that
	// is not the page names the JWT authorizer, and no other route does.
	for key, r := range routes {
		_, path, _ := strings.Cut(key, " ")
		isStaff := path == "/staff" || strings.HasPrefix(path, "/staff/")
		switch {
		case isStaff && !staffPublicRoutes[key] && r.authorizer != "StaffJwt":
			t.Errorf("%s (%s.%s): Auth.Authorizer = %q, want StaffJwt: it serves staff data", key, r.function, r.event, r.authorizer)
		case (!isStaff || staffPublicRoutes[key]) && r.authorizer != "NONE":
			t.Errorf("%s (%s.%s): Auth.Authorizer = %q, want NONE: it is public", key, r.function, r.event, r.authorizer)
		}
		if isStaff && r.function != "StaffFunction" {
			t.Errorf("%s is served by %s, want StaffFunction", key, r.function)
		}
		if isStaff {
			runChecks(t, r.props, []check{
				{p("ApiId"), `{"Ref":"HttpApi"}`},
				{p("PayloadFormatVersion"), `"2.0"`},
			})
		}
	}
}

func TestHttpApiAuthorizer(t *testing.T) {
	r := mustResource(t, mustLoad(t), "HttpApi", "AWS::Serverless::HttpApi")
	runChecks(t, r.Properties, []check{
		// A route that forgets to say is closed, not open.
		{p("Auth", "DefaultAuthorizer"), `"StaffJwt"`},
		{p("Auth", "Authorizers", "StaffJwt", "IdentitySource"), `"$request.header.Authorization"`},
		// The user pool is the only issuer, the inbox client the only audience
		// (Cognito access tokens carry it as client_id, which API Gateway checks).
		{p("Auth", "Authorizers", "StaffJwt", "JwtConfiguration", "issuer"),
			`{"Fn::Sub":"https://cognito-idp.${AWS::Region}.amazonaws.com/${StaffUserPool}"}`},
		{p("Auth", "Authorizers", "StaffJwt", "JwtConfiguration", "audience"), `[{"Ref":"StaffUserPoolClient"}]`},
		{p("Auth", "EnableIamAuthorizer"), `null`},
	})
	t.Run("only one authorizer", func(t *testing.T) {
		if n := len(at(r.Properties, "Auth", "Authorizers").(map[string]any)); n != 1 {
			t.Errorf("got %d authorizers, want 1 (StaffJwt)", n)
		}
	})
}

func TestStaffUserPool(t *testing.T) {
	tmpl := mustLoad(t)
	pool := mustResource(t, tmpl, "StaffUserPool", "AWS::Cognito::UserPool")
	runChecks(t, pool.Properties, []check{
		// Ops create every account; nobody signs themselves up.
		{p("AdminCreateUserConfig", "AllowAdminCreateUserOnly"), `true`},
		// Every sign-in needs a TOTP authenticator app; no SMS.
		{p("MfaConfiguration"), `"ON"`},
		{p("EnabledMfas"), `["SOFTWARE_TOKEN_MFA"]`},
		{p("DeletionProtection"), `"ACTIVE"`},
		// Usernames are email addresses as typed by ops: no alias attributes,
		// so the username claim is the address the audit trail shows.
		{p("UsernameAttributes"), `null`},
		{p("AliasAttributes"), `null`},
		{p("UsernameConfiguration", "CaseSensitive"), `false`},
		{p("AccountRecoverySetting", "RecoveryMechanisms"), `[{"Name":"admin_only","Priority":1}]`},
		{p("UserPoolAddOns"), `null`},
	})
	t.Run("password policy", func(t *testing.T) {
		n, ok := at(pool.Properties, "Policies", "PasswordPolicy", "MinimumLength").(int)
		if !ok || n < 12 {
			t.Errorf("MinimumLength = %v, want at least 12", at(pool.Properties, "Policies", "PasswordPolicy", "MinimumLength"))
		}
		days, ok := at(pool.Properties, "Policies", "PasswordPolicy", "TemporaryPasswordValidityDays").(int)
		if !ok || days < 1 || days > 7 {
			t.Errorf("TemporaryPasswordValidityDays = %v, want 1..7", at(pool.Properties, "Policies", "PasswordPolicy", "TemporaryPasswordValidityDays"))
		}
	})

	t.Run("groups", func(t *testing.T) {
		var names []string
		for id, r := range tmpl.Resources {
			if r.Type != "AWS::Cognito::UserPoolGroup" {
				continue
			}
			if got := js(r.Properties["UserPoolId"]); got != `{"Ref":"StaffUserPool"}` {
				t.Errorf("%s: UserPoolId = %s, want the staff pool", id, got)
			}
			names = append(names, js(r.Properties["GroupName"]))
		}
		sort.Strings(names)
		// The function admits these two groups (cognito:groups claim).
		if got := strings.Join(names, ","); got != `"admin","staff"` {
			t.Errorf("groups = %s, want \"admin\",\"staff\"", got)
		}
	})
}

func TestStaffUserPoolClient(t *testing.T) {
	tmpl := mustLoad(t)
	var clients []string
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::Cognito::UserPoolClient" {
			clients = append(clients, id)
		}
	}
	if len(clients) != 1 {
		t.Fatalf("user pool clients = %v, want exactly one (the inbox)", clients)
	}
	c := mustResource(t, tmpl, "StaffUserPoolClient", "AWS::Cognito::UserPoolClient")
	runChecks(t, c.Properties, []check{
		{p("UserPoolId"), `{"Ref":"StaffUserPool"}`},
		// A browser cannot keep a secret.
		{p("GenerateSecret"), `false`},
		// Only what the page uses: password sign-in (then the TOTP challenge)
		// and refresh. No admin, custom or SRP flow.
		{p("ExplicitAuthFlows"), `["ALLOW_USER_PASSWORD_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]`},
		{p("AccessTokenValidity"), `60`},
		{p("IdTokenValidity"), `60`},
		{p("TokenValidityUnits"), `{"AccessToken":"minutes","IdToken":"minutes","RefreshToken":"hours"}`},
		{p("PreventUserExistenceErrors"), `"ENABLED"`},
		{p("EnableTokenRevocation"), `true`},
		// No hosted UI or OAuth flows: the page talks to Cognito's API.
		{p("AllowedOAuthFlows"), `null`},
		{p("CallbackURLs"), `null`},
	})
	t.Run("refresh at most 12 hours", func(t *testing.T) {
		n, ok := c.Properties["RefreshTokenValidity"].(int)
		if !ok || n < 1 || n > 12 || at(c.Properties, "TokenValidityUnits", "RefreshToken") != "hours" {
			t.Errorf("RefreshTokenValidity = %v %v, want 1..12 hours", c.Properties["RefreshTokenValidity"], at(c.Properties, "TokenValidityUnits", "RefreshToken"))
		}
	})
}

func TestCursorSecret(t *testing.T) {
	r := mustResource(t, mustLoad(t), "CursorSecret", "AWS::SecretsManager::Secret")
	runChecks(t, r.Properties, []check{
		// Generated by Secrets Manager, never typed into a file.
		{p("SecretString"), `null`},
		{p("GenerateSecretString", "SecretStringTemplate"), `null`},
		// A fixed name would clash with a second stack in the account.
		{p("Name"), `null`},
	})
	t.Run("long enough", func(t *testing.T) {
		// The function needs 32 bytes; 48+ alphanumerics carry more entropy than that.
		if n, ok := at(r.Properties, "GenerateSecretString", "PasswordLength").(int); !ok || n < 48 {
			t.Errorf("PasswordLength = %v, want at least 48", at(r.Properties, "GenerateSecretString", "PasswordLength"))
		}
	})
}

// TestInboxURL keeps the staff email's link, the InboxUrl output and the API
// URL the same address.
func TestInboxURL(t *testing.T) {
	tmpl := mustLoad(t)
	api, _ := at(tmpl.Outputs["ApiUrl"], "Value", "Fn::Sub").(string)
	inbox, _ := at(tmpl.Outputs["InboxUrl"], "Value", "Fn::Sub").(string)
	if api == "" || inbox != api+"/staff" {
		t.Errorf("InboxUrl = %q, want ApiUrl + /staff (%q)", inbox, api+"/staff")
	}
	props, err := tmpl.functionProperties("NotifyFunction")
	if err != nil {
		t.Fatal(err)
	}
	if got := at(props, "Environment", "Variables", "INBOX_URL", "Fn::Sub"); got != inbox {
		t.Errorf("NotifyFunction INBOX_URL = %v, want the InboxUrl output %q", got, inbox)
	}
}

func TestCorsStaysWithTheForms(t *testing.T) {
	r := mustResource(t, mustLoad(t), "HttpApi", "AWS::Serverless::HttpApi")
	// The inbox is same-origin: another site must not be able to send a
	// token-bearing PATCH or read staff data through CORS.
	methods := js(at(r.Properties, "CorsConfiguration", "AllowMethods"))
	headers := strings.ToLower(js(at(r.Properties, "CorsConfiguration", "AllowHeaders")))
	for _, bad := range []string{"PATCH", "GET", "*"} {
		if strings.Contains(methods, `"`+bad+`"`) {
			t.Errorf("CorsConfiguration.AllowMethods = %s allows %s", methods, bad)
		}
	}
	if strings.Contains(headers, "authorization") || strings.Contains(headers, `"*"`) {
		t.Errorf("CorsConfiguration.AllowHeaders = %s allows Authorization", headers)
	}
}

var (
	makeTarget    = regexp.MustCompile(`(?m)^build-(\w+):\n\t\$\(LAMBDA_BUILD\) -o \$\(ARTIFACTS_DIR\)/bootstrap \./functions/(\w+)$`)
	makeFunctions = regexp.MustCompile(`(?m)^FUNCTIONS := (.*)$`)
)

// TestMakefileBuildsEveryFunction: sam build runs build-<LogicalID> for each
// function (BuildMethod makefile), and `make build` builds FUNCTIONS; a
// function missing from either fails only at deploy or in the size budget.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	tmpl := mustLoad(t)
	data := readRootFile(t, "Makefile")
	targets := map[string]string{}
	for _, m := range makeTarget.FindAllStringSubmatch(data, -1) {
		targets[m[1]] = m[2]
	}
	fm := makeFunctions.FindStringSubmatch(data)
	if fm == nil {
		t.Fatal("Makefile has no FUNCTIONS := line")
	}
	listed := map[string]bool{}
	for _, f := range strings.Fields(fm[1]) {
		listed[f] = true
	}
	var n int
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		n++
		dir, ok := targets[id]
		if !ok {
			t.Errorf("Makefile has no build-%s target building ./functions/<dir>", id)
			continue
		}
		if !listed[dir] {
			t.Errorf("Makefile FUNCTIONS (%s) lacks %s, built by build-%s", fm[1], dir, id)
		}
	}
	if n != len(targets) || n != len(listed) {
		t.Errorf("template has %d functions, Makefile %d build-* targets and %d FUNCTIONS", n, len(targets), len(listed))
	}
}

// recipe returns the commands of target in the Makefile text mk.
func recipe(t *testing.T, mk, target string) string {
	t.Helper()
	_, after, ok := strings.Cut(mk, "\n"+target+":")
	if !ok {
		t.Fatalf("Makefile has no target %s", target)
	}
	var lines []string
	for _, line := range strings.Split(after, "\n")[1:] {
		if !strings.HasPrefix(line, "\t") {
			break
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// TestMakefileLintAndDeploy: make test lints the template when cfn-lint is
// there and says so when it is not; make deploy runs the SAM CLI with the
// clinic's samconfig.toml, which git ignores.
func TestMakefileLintAndDeploy(t *testing.T) {
	mk := readRootFile(t, "Makefile")
	if test := recipe(t, mk, "test"); !strings.Contains(test, "$(MAKE) --no-print-directory lint") {
		t.Errorf("make test does not run make lint:\n%s", test)
	}
	lint := recipe(t, mk, "lint")
	for _, want := range []string{"command -v cfn-lint", "cfn-lint -- template.yaml", "notice: cfn-lint is not installed", "cfn_lint_serverless"} {
		if !strings.Contains(lint, want) {
			t.Errorf("make lint lacks %q:\n%s", want, lint)
		}
	}
	deploy := recipe(t, mk, "deploy")
	if !strings.Contains(deploy, "test -f samconfig.toml") {
		t.Errorf("make deploy does not check for samconfig.toml:\n%s", deploy)
	}
	// Exactly these commands: no --use-container (Docker is not needed) and
	// no --guided (the answers are in samconfig.toml).
	for _, want := range []string{"\tsam validate --lint\n", "\tsam build\n", "\tsam deploy\n"} {
		if !strings.Contains(deploy+"\n", want) {
			t.Errorf("make deploy lacks the line %q:\n%s", strings.TrimSpace(want), deploy)
		}
	}
	if !regexp.MustCompile(`(?m)^/?samconfig\.toml$`).MatchString(readRootFile(t, ".gitignore")) {
		t.Error(".gitignore does not ignore samconfig.toml, which holds the clinic's values")
	}
}
