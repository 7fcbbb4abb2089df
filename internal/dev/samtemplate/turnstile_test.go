package samtemplate

import (
	"fmt"
	"strings"
	"testing"
)

// eval evaluates a condition or rule expression of the template with the
// given parameter values: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::If,
// Fn::Contains, Condition and Ref to a parameter (a CommaDelimitedList's
// is a list) or to AWS::NoValue, which is nil.
func eval(t *testing.T, tmpl *Template, params map[string]string, v any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Ref":
			if arg == "AWS::NoValue" {
				return nil
			}
			p, ok := params[arg.(string)]
			if !ok {
				t.Fatalf("eval: no value for parameter %v", arg)
			}
			if tmpl.Parameters[arg.(string)]["Type"] == "CommaDelimitedList" {
				var l []any
				for _, e := range strings.Split(p, ",") {
					l = append(l, e)
				}
				return l
			}
			return p
		case "Condition":
			return eval(t, tmpl, params, at(tmpl.Doc, "Conditions", arg.(string)))
		case "Fn::Equals":
			return fmt.Sprint(eval(t, tmpl, params, args[0])) == fmt.Sprint(eval(t, tmpl, params, args[1]))
		case "Fn::Contains":
			want := fmt.Sprint(eval(t, tmpl, params, args[1]))
			for _, e := range eval(t, tmpl, params, args[0]).([]any) {
				if fmt.Sprint(e) == want {
					return true
				}
			}
			return false
		case "Fn::Not":
			return !eval(t, tmpl, params, args[0]).(bool)
		case "Fn::And", "Fn::Or":
			all := fn == "Fn::And"
			for _, a := range args {
				if eval(t, tmpl, params, a).(bool) != all {
					return !all
				}
			}
			return all
		case "Fn::If":
			if eval(t, tmpl, params, at(tmpl.Doc, "Conditions", args[0].(string))).(bool) {
				return eval(t, tmpl, params, args[1])
			}
			return eval(t, tmpl, params, args[2])
		}
	}
	return v
}

// rulesAccept reports whether every rule of the template holds for params,
// and the descriptions of those that do not.
func rulesAccept(t *testing.T, tmpl *Template, params map[string]string) (bool, []string) {
	t.Helper()
	var failed []string
	rules, _ := tmpl.Doc["Rules"].(map[string]any)
	for name, r := range rules {
		if c := at(r, "RuleCondition"); c != nil && !eval(t, tmpl, params, c).(bool) {
			continue
		}
		for _, a := range at(r, "Assertions").([]any) {
			if !eval(t, tmpl, params, at(a, "Assert")).(bool) {
				failed = append(failed, name+": "+fmt.Sprint(at(a, "AssertDescription")))
			}
		}
	}
	return len(failed) == 0, failed
}

// TestTurnstileSecret: the bot check is on exactly when TurnstileEnabled
// says so (deploy item 1 of issue 11). On, it needs a secret's name; the
// form functions then get the name, never the key, and a grant to read
// that one secret. Off, they get neither. Confirmations still need it on.
func TestTurnstileSecret(t *testing.T) {
	tmpl := mustLoad(t)
	for name, p := range tmpl.Parameters {
		if p["NoEcho"] != nil {
			t.Errorf("parameter %s is NoEcho: a guided deploy cannot leave it empty, and its value would be in the stack; keep secrets in Secrets Manager", name)
		}
	}
	for _, fn := range []string{"ContactFunction", "ConsultationFunction"} {
		props, err := tmpl.functionProperties(fn)
		if err != nil {
			t.Fatal(err)
		}
		if v := at(props, "Environment", "Variables", "TURNSTILE_SECRET"); v != nil {
			t.Errorf("%s has TURNSTILE_SECRET = %s: the key would be in a plain environment variable", fn, js(v))
		}
	}

	const secret = "leadpipe/turnstile"
	for _, tt := range []struct {
		enabled, name, confirm string
		accepted, on           bool
	}{
		{"false", "", "false", true, false},
		{"true", secret, "false", true, true},
		{"true", secret, "true", true, true},
		// Kept in samconfig while the check is off: no grant, no name.
		{"false", secret, "false", true, false},
		{"true", "", "false", false, false},
		{"false", "", "true", false, false},
		{"false", secret, "true", false, false},
		{"true", "", "true", false, false},
	} {
		t.Run(fmt.Sprintf("enabled=%s name=%q confirmations=%s", tt.enabled, tt.name, tt.confirm), func(t *testing.T) {
			params := map[string]string{"TurnstileEnabled": tt.enabled, "TurnstileSecretName": tt.name,
				"SendConfirmation": tt.confirm, "ClinicPhone": "+1 410 555 2368", "AllowedOrigins": "https://myclinic.com", "RetentionDays": "365"}
			ok, failed := rulesAccept(t, tmpl, params)
			if ok != tt.accepted {
				t.Fatalf("deploy accepted = %v (%v), want %v", ok, failed, tt.accepted)
			}
			if !ok {
				return
			}
			for _, fn := range []string{"ContactFunction", "ConsultationFunction"} {
				props, _ := tmpl.functionProperties(fn)
				got := eval(t, tmpl, params, at(props, "Environment", "Variables", "TURNSTILE_SECRET_NAME"))
				want := ""
				if tt.on {
					want = secret
				}
				if got != want {
					t.Errorf("%s TURNSTILE_SECRET_NAME = %q, want %q", fn, got, want)
				}
			}
			for _, role := range []string{"ContactFunctionRole", "ConsultationFunctionRole"} {
				var grants []string
				for _, pol := range tmpl.Resources[role].Properties["Policies"].([]any) {
					for _, s := range at(pol, "PolicyDocument", "Statement").([]any) {
						if st, ok := eval(t, tmpl, params, s).(map[string]any); ok && strings.HasPrefix(js(st["Action"]), `"secretsmanager:`) {
							grants = append(grants, js(st))
						}
					}
				}
				if tt.on && len(grants) != 1 || !tt.on && len(grants) != 0 {
					t.Errorf("%s Secrets Manager grants = %v, want %v", role, grants, map[bool]string{true: "one", false: "none"}[tt.on])
				}
			}
		})
	}
	runChecks(t, tmpl.Doc["Rules"], []check{
		{p("TurnstileNeedsSecretName", "RuleCondition"), `{"Fn::Equals":[{"Ref":"TurnstileEnabled"},"true"]}`},
		{p("TurnstileNeedsSecretName", "Assertions", 0, "Assert"), `{"Fn::Not":[{"Fn::Equals":[{"Ref":"TurnstileSecretName"},""]}]}`},
	})
}
