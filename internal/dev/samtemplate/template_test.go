package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
)

// These tests pin the deployment properties of template.yaml that the
// project relies on: each would fail if the property were dropped or changed.

// check is one expected value at a path, as JSON.
type check struct {
	path []any
	want string
}

func (c check) name() string {
	parts := make([]string, len(c.path))
	for i, p := range c.path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

func runChecks(t *testing.T, v any, checks []check) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name(), func(t *testing.T) {
			if got := js(at(v, c.path...)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func p(path ...any) []any { return path }

func mustResource(t *testing.T, tmpl *Template, id, typ string) Resource {
	t.Helper()
	r, ok := tmpl.Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	if r.Type != typ {
		t.Fatalf("resource %s: Type = %s, want %s", id, r.Type, typ)
	}
	return r
}

const (
	tableArn  = `{"Fn::GetAtt":["LeadsTable","Arn"]}`
	streamArn = `{"Fn::GetAtt":["LeadsTable","StreamArn"]}`
	keyArn    = `{"Fn::GetAtt":["LeadsKey","Arn"]}`
	dlqArn    = `{"Fn::GetAtt":["NotifyDeadLetterQueue","Arn"]}`
	keyRef    = `{"Ref":"LeadsKey"}`
)

func TestFunctions(t *testing.T) {
	tmpl := mustLoad(t)
	tests := []struct {
		id, role, logGroup, concurrency string
		maxTimeout                      int
	}{
		// API Gateway gives up after 30 s; a form function must answer first.
		{"ContactFunction", "ContactFunctionRole", "ContactFunctionLogGroup", "Intake", 29},
		{"ConsultationFunction", "ConsultationFunctionRole", "ConsultationFunctionLogGroup", "Intake", 29},
		{"NotifyFunction", "NotifyFunctionRole", "NotifyFunctionLogGroup", "Notify", 900},
		// Not reserved: its data routes sit behind the authorizer, and the
		// stage's throttling bounds the public page routes.
		{"StaffFunction", "StaffFunctionRole", "StaffFunctionLogGroup", "", 29},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := mustResource(t, tmpl, tt.id, "AWS::Serverless::Function")
			props, err := tmpl.functionProperties(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			runChecks(t, props, []check{
				{p("Runtime"), `"provided.al2023"`},
				{p("Architectures"), `["arm64"]`},
				{p("Handler"), `"bootstrap"`},
				{p("CodeUri"), `"."`},
				{p("LoggingConfig", "LogFormat"), `"JSON"`},
				{p("LoggingConfig", "LogGroup"), fmt.Sprintf(`{"Ref":%q}`, tt.logGroup)},
				{p("Role"), fmt.Sprintf(`{"Fn::GetAtt":[%q,"Arn"]}`, tt.role)},
				{p("ReservedConcurrentExecutions"), reservation(tt.concurrency)},
				// With Role set SAM ignores Policies; keep them out so
				// nobody believes they apply.
				{p("Policies"), `null`},
			})
			runChecks(t, r.Metadata, []check{{p("BuildMethod"), `"makefile"`}})

			t.Run("MemorySize and Timeout explicit", func(t *testing.T) {
				// The size sets the function's CPU share after init; the
				// default was chosen by first-invocation latency under that
				// share and cost per million leads (README, Performance;
				// make bench measures every size).
				if mem, ok := r.Properties["MemorySize"].(int); !ok || mem != defaultMemoryMB {
					t.Errorf("MemorySize = %v, want %d (see the README's Performance section before changing it)", r.Properties["MemorySize"], defaultMemoryMB)
				}
				timeout, ok := r.Properties["Timeout"].(int)
				if !ok || timeout < 1 || timeout > tt.maxTimeout {
					t.Errorf("Timeout = %v, want an explicit number in 1..%d", r.Properties["Timeout"], tt.maxTimeout)
				}
			})

			t.Run("log group", func(t *testing.T) {
				lg := mustResource(t, tmpl, tt.logGroup, "AWS::Logs::LogGroup")
				runChecks(t, lg.Properties, []check{
					{p("RetentionInDays"), `{"Ref":"LogRetentionDays"}`},
					{p("KmsKeyId"), keyArn},
				})
			})
		})
	}
	t.Run("LogRetentionDays default", func(t *testing.T) {
		if got := js(tmpl.Parameters["LogRetentionDays"]["Default"]); got != "90" {
			t.Errorf("got %s, want 90", got)
		}
	})
}

// defaultMemoryMB is every function's MemorySize in template.yaml.
const defaultMemoryMB = 256

// reservation is the JSON of a function's ReservedConcurrentExecutions:
// the <kind>ReservedConcurrency parameter when its condition holds (the
// parameter is not 0), else none; null for kind "".
func reservation(kind string) string {
	if kind == "" {
		return `null`
	}
	return fmt.Sprintf(`{"Fn::If":["Reserve%sConcurrency",{"Ref":"%sReservedConcurrency"},{"Ref":"AWS::NoValue"}]}`, kind, kind)
}

// TestReservedConcurrencyIsOptional: a new account's concurrency limit can
// leave nothing to reserve, so reservation is off unless a parameter says.
func TestReservedConcurrencyIsOptional(t *testing.T) {
	tmpl := mustLoad(t)
	for _, kind := range []string{"Intake", "Notify"} {
		t.Run(kind, func(t *testing.T) {
			param := tmpl.Parameters[kind+"ReservedConcurrency"]
			runChecks(t, param, []check{
				{p("Type"), `"Number"`},
				{p("Default"), `0`},
				{p("MinValue"), `0`},
			})
			// A Number parameter's Ref is a string, so compare with "0".
			want := fmt.Sprintf(`{"Fn::Not":[{"Fn::Equals":[{"Ref":"%sReservedConcurrency"},"0"]}]}`, kind)
			if got := js(at(tmpl.Doc, "Conditions", "Reserve"+kind+"Concurrency")); got != want {
				t.Errorf("condition Reserve%sConcurrency = %s, want %s", kind, got, want)
			}
		})
	}
}

func TestHttpEvents(t *testing.T) {
	tmpl := mustLoad(t)
	tests := []struct{ id, event, path string }{
		{"ContactFunction", "PostContact", "/contact"},
		{"ConsultationFunction", "PostConsultation", "/consultations"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			props, err := tmpl.functionProperties(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if got := js(props["Events"]); !strings.HasPrefix(got, fmt.Sprintf(`{%q:`, tt.event)) || strings.Count(got, `"Type"`) != 1 {
				t.Errorf("Events = %s, want only %s", got, tt.event)
			}
			runChecks(t, at(props, "Events", tt.event), []check{
				{p("Type"), `"HttpApi"`},
				{p("Properties", "ApiId"), `{"Ref":"HttpApi"}`},
				{p("Properties", "Method"), `"POST"`},
				{p("Properties", "Path"), fmt.Sprintf("%q", tt.path)},
				// The handlers decode events.APIGatewayV2HTTPRequest.
				{p("Properties", "PayloadFormatVersion"), `"2.0"`},
				// The API's default is the staff authorizer: the website's
				// posts must opt out, or every submission gets 401.
				{p("Properties", "Auth"), `{"Authorizer":"NONE"}`},
			})
		})
	}
}

func TestEnvironment(t *testing.T) {
	tmpl := mustLoad(t)
	ref := func(name string) string { return fmt.Sprintf(`{"Ref":%q}`, name) }
	// STACK_NAME is the value of the Stack dimension the functions' metrics
	// carry and the alarms read (TestStackDimension).
	stack := ref("AWS::StackName")
	intake := map[string]string{
		"LEADS_TABLE":         ref("LeadsTable"),
		"LOG_LEVEL":           ref("LogLevel"),
		"STACK_NAME":          stack,
		"THANK_YOU_URL":       ref("ThankYouUrl"),
		"RETENTION_DAYS":      ref("RetentionDays"),
		"SPAM_RETENTION_DAYS": ref("SpamRetentionDays"),
		// The name of the secret, and only with the check on; the key
		// itself is never in the environment (TestTurnstileSecret).
		"TURNSTILE_SECRET_NAME": `{"Fn::If":["TurnstileOn",{"Ref":"TurnstileSecretName"},""]}`,
		"TURNSTILE_ACTION":      ref("TurnstileAction"),
		// The age check counts on the clinic's calendar.
		"CLINIC_TIMEZONE": ref("ClinicTimeZone"),
		// Turnstile's hostname check: the website's origins, one string.
		"ALLOWED_ORIGINS": `{"Fn::Join":[",",{"Ref":"AllowedOrigins"}]}`,
	}
	notify := map[string]string{
		"LEADS_TABLE":               ref("LeadsTable"),
		"LOG_LEVEL":                 ref("LogLevel"),
		"STACK_NAME":                stack,
		"SENDER_EMAIL":              ref("SenderEmail"),
		"STAFF_EMAILS":              ref("StaffEmails"),
		"CONTACT_STAFF_EMAILS":      ref("ContactStaffEmails"),
		"CONSULTATION_STAFF_EMAILS": ref("ConsultationStaffEmails"),
		"NOTIFY_DETAIL":             ref("NotifyDetail"),
		"SEND_CONFIRMATION":         ref("SendConfirmation"),
		"CLINIC_NAME":               ref("ClinicName"),
		"CLINIC_PHONE":              ref("ClinicPhone"),
		"CLINIC_ADDRESS":            ref("ClinicAddress"),
		"CLINIC_TIMEZONE":           ref("ClinicTimeZone"),
		"CALLBACK_PROMISE":          ref("CallbackPromise"),
		"RETENTION_DAYS":            ref("RetentionDays"),
		// Confirmations keep suppression; staff email has its own set
		// without it (TestSesConfigurationSets).
		"SES_CONFIGURATION_SET":   ref("SesConfigurationSet"),
		"STAFF_CONFIGURATION_SET": ref("StaffConfigurationSet"),
		// The staff email's link: the API's URL and stage, then /staff.
		"INBOX_URL": `{"Fn::Sub":"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}/staff"}`,
		// Escalation and the daily digest (issue 12).
		"CRISIS_SLA":        ref("CrisisSla"),
		"LEAD_SLA":          ref("LeadSla"),
		"BUSINESS_HOURS":    ref("BusinessHours"),
		"CLOSED_DATES":      ref("ClosedDates"),
		"ESCALATION_EMAILS": ref("EscalationEmails"),
		"ONCALL_EMAIL":      ref("OncallEmail"),
		"DIGEST_TIME":       ref("DigestTime"),
		"DIGEST_EMAILS":     ref("DigestEmails"),
	}
	staff := map[string]string{
		"LEADS_TABLE":         ref("LeadsTable"),
		"LOG_LEVEL":           ref("LogLevel"),
		"STACK_NAME":          stack,
		"USER_POOL_ID":        ref("StaffUserPool"),
		"USER_POOL_CLIENT_ID": ref("StaffUserPoolClient"),
		// Resolved by CloudFormation at deploy time from the generated
		// secret: never a literal, never a parameter.
		"CURSOR_SECRET":   `{"Fn::Sub":"{{resolve:secretsmanager:${CursorSecret}:SecretString}}"}`,
		"CLINIC_TIMEZONE": ref("ClinicTimeZone"),
		"RETENTION_DAYS":  ref("RetentionDays"),
		// The overdue marker, by the levels escalation uses.
		"CRISIS_SLA":     ref("CrisisSla"),
		"LEAD_SLA":       ref("LeadSla"),
		"BUSINESS_HOURS": ref("BusinessHours"),
		"CLOSED_DATES":   ref("ClosedDates"),
	}
	for id, want := range map[string]map[string]string{
		"ContactFunction": intake, "ConsultationFunction": intake, "NotifyFunction": notify, "StaffFunction": staff,
	} {
		t.Run(id, func(t *testing.T) {
			props, err := tmpl.functionProperties(id)
			if err != nil {
				t.Fatal(err)
			}
			vars, _ := at(props, "Environment", "Variables").(map[string]any)
			got := map[string]string{}
			for k, v := range vars {
				got[k] = js(v)
			}
			if js(got) != js(want) {
				t.Errorf("Environment.Variables:\n got %s\nwant %s", js(got), js(want))
			}
		})
	}
}

func TestNotifyStreamEventProperties(t *testing.T) {
	tmpl := mustLoad(t)
	props, err := tmpl.functionProperties("NotifyFunction")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(props["Events"].(map[string]any)); n != 2 {
		t.Errorf("NotifyFunction has %d events, want 2 (the stream and the sweep)", n)
	}
	// The sweep: emails staff about leads the stream gave up on; its delay
	// in internal/notify/sweep.go assumes MaximumRecordAgeInSeconds 3600.
	runChecks(t, at(props, "Events", "Sweep"), []check{
		{p("Type"), `"ScheduleV2"`},
		{p("Properties", "ScheduleExpression"), `"rate(15 minutes)"`},
		{p("Properties", "Input"), `"{\"source\":\"aws.scheduler\",\"detail-type\":\"leadpipe sweep\"}"`},
		// A failed sweep waits for the next run: neither the scheduler nor
		// Lambda's asynchronous retries run it again at once.
		{p("Properties", "RetryPolicy"), `{"MaximumEventAgeInSeconds":900,"MaximumRetryAttempts":0}`},
	})
	runChecks(t, props, []check{
		{p("EventInvokeConfig"), `{"MaximumEventAgeInSeconds":900,"MaximumRetryAttempts":0}`},
	})
	runChecks(t, at(props, "Events", "NewLead"), []check{
		{p("Type"), `"DynamoDB"`},
		{p("Properties", "Stream"), streamArn},
		{p("Properties", "StartingPosition"), `"TRIM_HORIZON"`},
		{p("Properties", "BatchSize"), `10`},
		{p("Properties", "MaximumBatchingWindowInSeconds"), `1`},
		{p("Properties", "FunctionResponseTypes"), `["ReportBatchItemFailures"]`},
		{p("Properties", "BisectBatchOnFunctionError"), `true`},
		{p("Properties", "MaximumRetryAttempts"), `5`},
		{p("Properties", "MaximumRecordAgeInSeconds"), `3600`},
		{p("Properties", "DestinationConfig", "OnFailure", "Type"), `"SQS"`},
		{p("Properties", "DestinationConfig", "OnFailure", "Destination"), dlqArn},
		{p("Properties", "FilterCriteria", "Filters"), js([]any{map[string]any{"Pattern": leadFilter}})},
		{p("Properties", "Enabled"), `null`}, // an event source switched off loses no leads but sends no email
	})
}

// statements collects, per action, the resources a role's inline policies
// allow it on, as JSON, each followed by " if <condition JSON>" when the
// statement has a condition, and by " when <template condition>" when the
// statement is there only under a template condition (policyStatement).
func statements(t *testing.T, role Resource) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, pol := range role.Properties["Policies"].([]any) {
		for _, s := range at(pol, "PolicyDocument", "Statement").([]any) {
			st, when, err := policyStatement(s)
			if err != nil {
				t.Errorf("statement %s: %v", js(s), err)
				continue
			}
			if st["Effect"] != "Allow" {
				t.Errorf("statement %s: want an Allow", js(st))
			}
			cond := ""
			if st["Condition"] != nil {
				cond = " if " + js(st["Condition"])
			}
			if when != "" {
				cond += " when " + when
			}
			for _, a := range asList(st["Action"]) {
				for _, r := range asList(st["Resource"]) {
					out[a.(string)] = append(out[a.(string)], js(r)+cond)
				}
			}
		}
	}
	for _, rs := range out {
		sort.Strings(rs)
	}
	return out
}

// onlyKeys is the statements suffix of a grant limited to items whose
// partition key matches one of patterns. ForAllValues is true for an empty
// set, so the Null test is what makes a request without a key fail.
func onlyKeys(patterns ...string) string {
	return " if " + js(map[string]any{
		"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": patterns},
		"Null":                    map[string]any{"dynamodb:LeadingKeys": "false"},
	})
}

// policyStatement returns the statement s is: s itself, or for a
// statement present only under a template condition, {"Fn::If": [cond,
// statement, {"Ref": "AWS::NoValue"}]}, that statement and the
// condition's name. Any other Fn::If (two statements, a statement only
// when the condition is false) is refused: the tests could not say which
// grant applies.
func policyStatement(s any) (st map[string]any, when string, err error) {
	m, ok := s.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("not a mapping")
	}
	branches, ok := m["Fn::If"].([]any)
	if !ok {
		return m, "", nil
	}
	cond, _ := at(branches, 0).(string)
	st, _ = at(branches, 1).(map[string]any)
	if len(m) != 1 || len(branches) != 3 || cond == "" || st == nil || js(at(branches, 2)) != `{"Ref":"AWS::NoValue"}` {
		return nil, "", fmt.Errorf("want {Fn::If: [condition, statement, !Ref AWS::NoValue]}")
	}
	return st, cond, nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func TestRolesAreLeastPrivilege(t *testing.T) {
	tmpl := mustLoad(t)
	logs := func(group string) string { return fmt.Sprintf(`{"Fn::GetAtt":[%q,"Arn"]}`, group) }
	// The form functions write leads and claims and read claims only: a
	// leaked form-function credential cannot read a single lead.
	// With the bot check on, each also reads the one Turnstile secret
	// (its ARN ends in "-" and six random characters); with it off, no
	// Secrets Manager grant exists at all.
	intake := func(group string) map[string][]string {
		return map[string][]string{
			"logs:CreateLogStream": {logs(group)},
			"logs:PutLogEvents":    {logs(group)},
			"dynamodb:PutItem":     {tableArn + onlyKeys("LEAD#*", "CLAIM#*")},
			"dynamodb:GetItem":     {tableArn + onlyKeys("CLAIM#*")},
			"kms:Decrypt":          {keyArn},
			"kms:GenerateDataKey":  {keyArn},
			"secretsmanager:GetSecretValue": {
				`{"Fn::Sub":"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${TurnstileSecretName}-??????"} when TurnstileOn`,
			},
		}
	}
	// Only as the clinic's identity, and only from the configured sender.
	fromSender := ` if {"StringEquals":{"ses:FromAddress":{"Ref":"SenderEmail"}}}`
	sesResources := []string{
		`{"Fn::Sub":"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${SesConfigurationSet}"}` + fromSender,
		`{"Fn::Sub":"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${StaffConfigurationSet}"}` + fromSender,
		`{"Fn::Sub":"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"}` + fromSender,
	}
	tests := []struct {
		role string
		want map[string][]string
	}{
		{"ContactFunctionRole", intake("ContactFunctionLogGroup")},
		{"ConsultationFunctionRole", intake("ConsultationFunctionLogGroup")},
		{"NotifyFunctionRole", map[string][]string{
			"logs:CreateLogStream": {logs("NotifyFunctionLogGroup")},
			"logs:PutLogEvents":    {logs("NotifyFunctionLogGroup")},
			"dynamodb:GetItem":     {tableArn},
			"dynamodb:UpdateItem":  {tableArn},
			// The sweep, escalation and the digest: two indexes, no Scan.
			"dynamodb:Query": {
				`{"Fn::Sub":"${LeadsTable.Arn}/index/ByKindDate"}`,
				`{"Fn::Sub":"${LeadsTable.Arn}/index/ByStatusDate"}`,
			},
			// The digest's once-a-day marker only: never a lead or a claim.
			"dynamodb:PutItem":          {tableArn + onlyKeys("DIGEST#*")},
			"dynamodb:DescribeStream":   {streamArn},
			"dynamodb:GetRecords":       {streamArn},
			"dynamodb:GetShardIterator": {streamArn},
			"dynamodb:ListStreams":      {streamArn},
			"sqs:SendMessage":           {dlqArn},
			"kms:Decrypt":               {keyArn},
			"kms:GenerateDataKey":       {keyArn},
			"ses:SendEmail":             sesResources,
			// The suppression list is the account's; see accountLevelActions.
			"ses:GetSuppressedDestination": {`"*"`},
		}},
		// The inbox: leads by key, audit entries written, the two indexes
		// queried; no Scan, no table Query, no claims, no delete.
		{"StaffFunctionRole", map[string][]string{
			"logs:CreateLogStream": {logs("StaffFunctionLogGroup")},
			"logs:PutLogEvents":    {logs("StaffFunctionLogGroup")},
			"dynamodb:GetItem":     {tableArn + onlyKeys("LEAD#*")},
			"dynamodb:UpdateItem":  {tableArn + onlyKeys("LEAD#*")},
			"dynamodb:PutItem":     {tableArn + onlyKeys("AUDIT#*")},
			"dynamodb:Query": {
				`{"Fn::Sub":"${LeadsTable.Arn}/index/AuditByLead"}`,
				`{"Fn::Sub":"${LeadsTable.Arn}/index/ByStatusQueue"}`,
			},
			"kms:Decrypt":         {keyArn},
			"kms:GenerateDataKey": {keyArn},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			role := mustResource(t, tmpl, tt.role, "AWS::IAM::Role")
			if got := statements(t, role); js(got) != js(tt.want) {
				t.Errorf("allowed actions:\n got %s\nwant %s", js(got), js(tt.want))
			}
			runChecks(t, role.Properties, []check{
				{p("AssumeRolePolicyDocument", "Statement"),
					`[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}]`},
				{p("ManagedPolicyArns"), `null`},
			})
		})
	}
}

// walk calls fn for every value in v, with the path to it.
func walk(v any, path string, fn func(path string, v any)) {
	fn(path, v)
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walk(e, path+"."+k, fn)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func TestNoWildcardPolicies(t *testing.T) {
	tmpl := mustLoad(t)
	var n int
	for id, r := range tmpl.Resources {
		walk(r.Properties, id, func(path string, v any) {
			m, ok := v.(map[string]any)
			if !ok || m["Statement"] == nil {
				return
			}
			for i, s := range asList(m["Statement"]) {
				n++
				st, _, err := policyStatement(s)
				if err != nil {
					t.Errorf("%s.Statement[%d]: %v", path, i, err)
					continue
				}
				where := fmt.Sprintf("%s.Statement[%d] (Sid %v)", path, i, st["Sid"])
				for _, broad := range []string{"NotAction", "NotResource", "NotPrincipal"} {
					if st[broad] != nil {
						t.Errorf("%s: has %s", where, broad)
					}
				}
				if strings.Contains(js(st["Principal"]), `"*"`) {
					t.Errorf("%s: Principal %s includes everyone", where, js(st["Principal"]))
				}
				if r.Type == "AWS::KMS::Key" {
					checkKeyPolicyStatement(t, where, st)
					continue
				}
				if accountLevelOnly(st) {
					continue
				}
				for _, field := range []string{"Action", "Resource"} {
					for _, v := range asList(st[field]) {
						if s, ok := v.(string); ok && strings.Contains(s, "*") {
							t.Errorf("%s: %s %q has a wildcard", where, field, s)
						}
						if sub, ok := at(v, "Fn::Sub").(string); ok && strings.Contains(sub, "*") {
							t.Errorf("%s: %s %q has a wildcard", where, field, sub)
						}
					}
				}
			}
		})
	}
	// Guards the walk itself: the template has more statements than this.
	if n < 15 {
		t.Errorf("found %d policy statements, want at least 15; is the walk broken?", n)
	}
}

// accountLevelActions are the actions IAM defines no resource type for,
// so a statement granting them can only name Resource "*" (the
// suppression list belongs to the account; see the Service Authorization
// Reference for Amazon SES v2). Each is read-only.
var accountLevelActions = map[string]bool{
	// The scheduled run checks staff addresses against the suppression list.
	"ses:GetSuppressedDestination": true,
}

// accountLevelOnly reports whether st is an Allow of accountLevelActions
// only, on Resource "*" exactly: the one shape in which "*" is accepted
// outside a key policy.
func accountLevelOnly(st map[string]any) bool {
	if js(st["Resource"]) != `"*"` || st["Effect"] != "Allow" {
		return false
	}
	actions := asList(st["Action"])
	for _, a := range actions {
		if s, _ := a.(string); !accountLevelActions[s] {
			return false
		}
	}
	return len(actions) > 0
}

// checkKeyPolicyStatement allows the one wildcard a key policy needs: its
// Resource "*" means "this key". Only the account root administers the key.
func checkKeyPolicyStatement(t *testing.T, where string, st map[string]any) {
	t.Helper()
	if js(st["Resource"]) != `"*"` {
		t.Errorf("%s: key policy Resource = %s, want \"*\" (this key)", where, js(st["Resource"]))
	}
	root := js(at(st, "Principal", "AWS")) == `{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}`
	for _, a := range asList(st["Action"]) {
		if s, _ := a.(string); strings.Contains(s, "*") && !(root && s == "kms:*") {
			t.Errorf("%s: Action %q has a wildcard", where, s)
		}
	}
}

func TestNoBroadManagedOrSAMPolicies(t *testing.T) {
	tmpl := mustLoad(t)
	forbidden := []string{"CrudPolicy", "FullAccess", "arn:aws:iam::aws:policy", ":iam::aws:policy/", "AWSLambdaBasicExecutionRole"}
	walk(tmpl.Doc, "", func(path string, v any) {
		texts := []string{path}
		if s, ok := v.(string); ok {
			texts = append(texts, s)
		}
		for _, text := range texts {
			for _, f := range forbidden {
				if strings.Contains(text, f) {
					t.Errorf("%s: mentions %s", path, f)
				}
			}
		}
	})
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::Serverless::Function" && r.Properties["Policies"] != nil {
			t.Errorf("%s has SAM Policies; grant through its explicit role instead", id)
		}
	}
}

func TestLeadsTable(t *testing.T) {
	tmpl := mustLoad(t)
	r := mustResource(t, tmpl, "LeadsTable", "AWS::DynamoDB::Table")
	runChecks(t, r.Properties, []check{
		{p("BillingMode"), `"PAY_PER_REQUEST"`},
		{p("ProvisionedThroughput"), `null`},
		{p("DeletionProtectionEnabled"), `true`},
		{p("PointInTimeRecoverySpecification"), `{"PointInTimeRecoveryEnabled":true}`},
		{p("SSESpecification"), `{"KMSMasterKeyId":` + keyArn + `,"SSEEnabled":true,"SSEType":"KMS"}`},
		{p("StreamSpecification"), `{"StreamViewType":"NEW_IMAGE"}`},
		{p("TimeToLiveSpecification"), `{"AttributeName":"expiresAt","Enabled":true}`},
		{p("KeySchema"), `[{"AttributeName":"pk","KeyType":"HASH"}]`},
		{p("AttributeDefinitions"), `[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"kind","AttributeType":"S"},` +
			`{"AttributeName":"status","AttributeType":"S"},{"AttributeName":"createdAt","AttributeType":"S"},` +
			`{"AttributeName":"queue","AttributeType":"S"},{"AttributeName":"leadId","AttributeType":"S"},{"AttributeName":"auditAt","AttributeType":"S"}]`},
		{p("GlobalSecondaryIndexes"), `[` +
			`{"IndexName":"ByKindDate","KeySchema":[{"AttributeName":"kind","KeyType":"HASH"},{"AttributeName":"createdAt","KeyType":"RANGE"}],` +
			`"Projection":{"NonKeyAttributes":["id","type","status","storedAt","notifiedAt","confirmedAt","confirmRefusedAt","escalatedAt","escalationLevel","inCrisis","suspectedSpam","version","email"],"ProjectionType":"INCLUDE"}},` +
			`{"IndexName":"ByStatusDate","KeySchema":[{"AttributeName":"status","KeyType":"HASH"},{"AttributeName":"createdAt","KeyType":"RANGE"}],` +
			`"Projection":{"NonKeyAttributes":["id","type","kind","storedAt","notifiedAt","confirmedAt","confirmRefusedAt","escalatedAt","escalationLevel","inCrisis","suspectedSpam","version"],"ProjectionType":"INCLUDE"}},` +
			`{"IndexName":"ByStatusQueue","KeySchema":[{"AttributeName":"status","KeyType":"HASH"},{"AttributeName":"queue","KeyType":"RANGE"}],` +
			`"Projection":{"NonKeyAttributes":["id","kind","createdAt","name","firstName","lastName","inCrisis","notifiedAt","version"],"ProjectionType":"INCLUDE"}},` +
			`{"IndexName":"AuditByLead","KeySchema":[{"AttributeName":"leadId","KeyType":"HASH"},{"AttributeName":"auditAt","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]`},
	})
}

// TestRetainedResources: deleting or replacing the stack never deletes
// these, and nothing else is kept behind.
func TestRetainedResources(t *testing.T) {
	tmpl := mustLoad(t)
	want := map[string]string{
		"LeadsTable":    "AWS::DynamoDB::Table",   // the leads and the audit trail
		"LeadsKey":      "AWS::KMS::Key",          // the retained table is unreadable without it
		"StaffUserPool": "AWS::Cognito::UserPool", // the audit trail names staff by its subjects
	}
	got := map[string]string{}
	for id, r := range tmpl.Resources {
		if r.DeletionPolicy == "Retain" || r.UpdateReplacePolicy == "Retain" {
			got[id] = r.Type
			if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
				t.Errorf("%s: DeletionPolicy, UpdateReplacePolicy = %q, %q; want both Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
			}
		}
	}
	if js(got) != js(want) {
		t.Errorf("retained resources:\n got %s\nwant %s", js(got), js(want))
	}
}

func TestEncryption(t *testing.T) {
	tmpl := mustLoad(t)
	key := mustResource(t, tmpl, "LeadsKey", "AWS::KMS::Key")
	runChecks(t, key.Properties, []check{
		{p("EnableKeyRotation"), `true`},
		{p("KeyPolicy", "Statement", 0, "Principal"), `{"AWS":{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}`},
		{p("KeyPolicy", "Statement", 1, "Principal"), `{"Service":{"Fn::Sub":"logs.${AWS::Region}.amazonaws.com"}}`},
		// Service principals act for this account only: the log group's
		// ARN in the encryption context, the alarm's ARN and account.
		{p("KeyPolicy", "Statement", 1, "Condition"),
			`{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":{"Fn::Sub":"arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}}}`},
		{p("KeyPolicy", "Statement", 2, "Condition"),
			`{"ArnLike":{"aws:SourceArn":{"Fn::Sub":"arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"}},"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}`},
		// Alarms cannot publish to a topic encrypted with a key that does
		// not let CloudWatch use it.
		{p("KeyPolicy", "Statement", 2, "Principal"), `{"Service":"cloudwatch.amazonaws.com"}`},
		{p("KeyPolicy", "Statement", 2, "Action"), `["kms:Decrypt","kms:GenerateDataKey"]`},
		{p("KeyPolicy", "Statement", 3), `null`},
	})
	alias := mustResource(t, tmpl, "LeadsKeyAlias", "AWS::KMS::Alias")
	runChecks(t, alias.Properties, []check{{p("TargetKeyId"), keyRef}})

	tests := []struct {
		id, typ string
		checks  []check
	}{
		{"NotifyDeadLetterQueue", "AWS::SQS::Queue", []check{
			{p("KmsMasterKeyId"), keyRef},
			{p("MessageRetentionPeriod"), `1209600`},
		}},
		{"OpsTopic", "AWS::SNS::Topic", []check{
			{p("KmsMasterKeyId"), keyRef},
			{p("Subscription"), `[{"Endpoint":{"Ref":"OpsEmail"},"Protocol":"email"}]`},
		}},
		{"ApiAccessLogGroup", "AWS::Logs::LogGroup", []check{
			{p("KmsKeyId"), keyArn},
			{p("RetentionInDays"), `{"Ref":"LogRetentionDays"}`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			runChecks(t, mustResource(t, tmpl, tt.id, tt.typ).Properties, tt.checks)
		})
	}
}

func TestHttpApi(t *testing.T) {
	tmpl := mustLoad(t)
	r := mustResource(t, tmpl, "HttpApi", "AWS::Serverless::HttpApi")
	runChecks(t, r.Properties, []check{
		{p("StageName"), `{"Ref":"StageName"}`},
		{p("CorsConfiguration", "AllowOrigins"), `{"Ref":"AllowedOrigins"}`},
		{p("CorsConfiguration", "AllowMethods"), `["POST","OPTIONS"]`},
		{p("CorsConfiguration", "AllowHeaders"), `["content-type","idempotency-key"]`},
		{p("CorsConfiguration", "MaxAge"), `600`},
		{p("CorsConfiguration", "AllowCredentials"), `null`},
		{p("DefaultRouteSettings", "ThrottlingBurstLimit"), `{"Ref":"ApiBurstLimit"}`},
		{p("DefaultRouteSettings", "ThrottlingRateLimit"), `{"Ref":"ApiRateLimit"}`},
		{p("AccessLogSettings", "DestinationArn"), `{"Fn::GetAtt":["ApiAccessLogGroup","Arn"]}`},
	})
	t.Run("access log keeps out personal data", func(t *testing.T) {
		format, _ := at(r.Properties, "AccessLogSettings", "Format").(string)
		if format == "" || strings.Contains(format, "$context.identity") {
			t.Errorf("Format = %q, want a format without $context.identity (IP, user agent)", format)
		}
	})
}

func TestAllowedOrigins(t *testing.T) {
	tmpl := mustLoad(t)
	param := tmpl.Parameters["AllowedOrigins"]
	if param["Type"] != "CommaDelimitedList" {
		t.Errorf("AllowedOrigins Type = %v, want CommaDelimitedList", param["Type"])
	}
	// On a list the pattern applies to every entry.
	for origin, want := range map[string]bool{
		"https://myclinic.com":          true,
		"https://www.my-clinic.co.uk":   true,
		"https://myclinic.com:8443":     true,
		"http://myclinic.com":           false,
		"*":                             false,
		"https://*.myclinic.com":        false,
		"":                              false,
		"https://myclinic.com/":         false, // an origin has no path
		"https://localhost":             false,
		"https://www.example.com":       false,
		"https://clinic.example":        false,
		"https://www.clinic.test":       false,
		" https://myclinic.com":         false,
		"https://myclinic.com.evil.com": true, // a real host; CORS compares whole origins
	} {
		if got := javaMatch(t, param["AllowedPattern"], origin); got != want {
			t.Errorf("AllowedOrigins entry %q allowed = %v, want %v", origin, got, want)
		}
	}
	// The Rules stop a deploy that sets "*" or an empty entry.
	runChecks(t, tmpl.Doc["Rules"], []check{
		{p("OriginsAreExplicit", "Assertions", 0, "Assert"), `{"Fn::Not":[{"Fn::Contains":[{"Ref":"AllowedOrigins"},"*"]}]}`},
		{p("OriginsAreExplicit", "Assertions", 1, "Assert"), `{"Fn::Not":[{"Fn::Contains":[{"Ref":"AllowedOrigins"},""]}]}`},
		// Confirmations go to any typed address: only behind the bot check,
		{p("ConfirmationsNeedBotCheck", "RuleCondition"), `{"Fn::Equals":[{"Ref":"SendConfirmation"},"true"]}`},
		{p("ConfirmationsNeedBotCheck", "Assertions", 0, "Assert"), `{"Fn::Equals":[{"Ref":"TurnstileEnabled"},"true"]}`},
		// and they ask people to call, so the clinic's phone is required.
		{p("ConfirmationsNeedClinicPhone", "RuleCondition"), `{"Fn::Equals":[{"Ref":"SendConfirmation"},"true"]}`},
		{p("ConfirmationsNeedClinicPhone", "Assertions", 0, "Assert"), `{"Fn::Not":[{"Fn::Equals":[{"Ref":"ClinicPhone"},""]}]}`},
	})
}

func TestParameters(t *testing.T) {
	tmpl := mustLoad(t)
	const required = "<none>" // no default: the deployer must choose
	tests := []struct {
		name, typ, def string
		extra          []check
	}{
		{"StageName", "String", `"prod"`, nil},
		{"AllowedOrigins", "CommaDelimitedList", required, nil},
		{"ThankYouUrl", "String", required, nil},
		// At least the sweep's look-back (TestRetentionCoversSweepWindow).
		{"RetentionDays", "Number", `365`, []check{{p("MaxValue"), `3650`}}},
		{"SpamRetentionDays", "Number", `7`, nil},
		{"LogRetentionDays", "Number", `90`, nil},
		{"LogLevel", "String", `"info"`, []check{{p("AllowedValues"), `["debug","info","warn","error"]`}}},
		{"SenderEmail", "String", required, nil},
		{"SenderIdentity", "String", required, nil},
		{"StaffEmails", "String", required, nil},
		{"ContactStaffEmails", "String", `""`, nil},
		{"ConsultationStaffEmails", "String", `""`, nil},
		// With the inbox, the email is a pointer: no contact or health
		// detail unless the clinic chooses it.
		{"NotifyDetail", "String", `"minimal"`, []check{{p("AllowedValues"), `["minimal","contact","full"]`}}},
		{"SendConfirmation", "String", `"false"`, []check{{p("AllowedValues"), `["true","false"]`}}},
		{"ClinicName", "String", required, nil},
		{"ClinicPhone", "String", `""`, nil},
		{"ClinicTimeZone", "String", `""`, nil},
		{"ClinicAddress", "String", `""`, nil},
		{"CallbackPromise", "String", `"within one business day"`, nil},
		// Issue 12's service levels and digest, with its defaults.
		{"CrisisSla", "String", `"30m"`, nil},
		{"LeadSla", "String", `"4h"`, nil},
		{"BusinessHours", "String", `"Mon-Fri 09:00-17:00"`, nil},
		{"ClosedDates", "String", `""`, nil},
		{"EscalationEmails", "String", `""`, nil},
		{"OncallEmail", "String", `""`, nil},
		{"DigestTime", "String", `"08:00"`, nil},
		{"DigestEmails", "String", `""`, nil},
		{"OpsEmail", "String", required, nil},
		{"TurnstileEnabled", "String", `"false"`, []check{{p("AllowedValues"), `["true","false"]`}}},
		{"TurnstileSecretName", "String", `""`, []check{{p("NoEcho"), `null`}}},
		{"TurnstileAction", "String", `""`, nil},
		{"ApiBurstLimit", "Number", `20`, nil},
		{"ApiRateLimit", "Number", `10`, nil},
		{"IntakeReservedConcurrency", "Number", `0`, nil},
		{"NotifyReservedConcurrency", "Number", `0`, nil},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			param, ok := tmpl.Parameters[tt.name]
			if !ok {
				t.Fatalf("no parameter %s", tt.name)
			}
			if d, _ := param["Description"].(string); len(d) < 10 {
				t.Errorf("Description = %q, want one that explains the parameter", d)
			}
			def, hasDefault := param["Default"]
			want := tt.def
			got := js(def)
			if !hasDefault {
				got = required
			}
			if got != want {
				t.Errorf("Default = %s, want %s", got, want)
			}
			checks := append([]check{{p("Type"), fmt.Sprintf("%q", tt.typ)}}, tt.extra...)
			runChecks(t, param, checks)
			if _, ok := param["AllowedPattern"]; ok && hasDefault && !javaMatch(t, param["AllowedPattern"], fmt.Sprint(def)) {
				t.Errorf("Default %v does not match AllowedPattern %v", def, param["AllowedPattern"])
			}
			// Guided deploys show a required parameter as [] and accept an
			// empty answer: the pattern must refuse it at deploy time.
			if !hasDefault && (param["AllowedPattern"] == nil || javaMatch(t, param["AllowedPattern"], "")) {
				t.Errorf("required parameter has AllowedPattern %v, want one that refuses an empty value", param["AllowedPattern"])
			}
		})
	}
	for name := range tmpl.Parameters {
		if !seen[name] {
			t.Errorf("parameter %s is not covered by this test", name)
		}
	}
}

func TestParameterPatterns(t *testing.T) {
	tmpl := mustLoad(t)
	tests := []struct {
		param, value string
		want         bool
	}{
		// SenderIdentity goes into the ses:SendEmail resource ARN.
		{"SenderIdentity", "myclinic.com", true},
		{"SenderIdentity", "leads@myclinic.com", true},
		{"SenderIdentity", "*", false},
		{"SenderIdentity", "myclinic.com/*", false},
		{"SenderIdentity", "", false},
		{"SenderIdentity", "clinic.example", false},
		{"SenderIdentity", "example.com", false},
		{"SenderIdentity", "mail.example.org", false},
		{"SenderEmail", "leads@myclinic.com", true},
		{"SenderEmail", "Leads.Desk@myclinic.com", true},
		// The notify function lower-cases the domain; ses:FromAddress must match it.
		{"SenderEmail", "leads@MyClinic.com", false},
		{"SenderEmail", "leads", false},
		{"SenderEmail", "", false},
		{"SenderEmail", "a@x.com,b@y.com", false},
		{"SenderEmail", "leads@clinic.example", false},
		{"SenderEmail", "leads@example.com", false},
		{"SenderEmail", "leads@EXAMPLE.COM", false},
		{"SenderEmail", "leads@myexample.com", true},
		{"OpsEmail", "ops@myclinic.com", true},
		{"OpsEmail", "", false},
		{"OpsEmail", "ops@clinic.test", false},
		{"OpsEmail", "ops@localhost", false},
		{"StaffEmails", "a@myclinic.com", true},
		{"StaffEmails", "a@myclinic.com, b@myclinic.com", true},
		{"StaffEmails", "", false},
		{"StaffEmails", "a@myclinic.com;b@myclinic.com", false},
		{"StaffEmails", "a@myclinic.com,frontdesk@clinic.example", false},
		{"ContactStaffEmails", "", true},
		{"ContactStaffEmails", "a@myclinic.com,b@myclinic.com", true},
		{"ContactStaffEmails", "a@www.example.net", false},
		{"ConsultationStaffEmails", "not an address", false},
		{"ConsultationStaffEmails", "intake@clinic.example", false},
		{"ThankYouUrl", "https://myclinic.com/thanks", true},
		{"ThankYouUrl", "https://www.myclinic.com", true},
		{"ThankYouUrl", "http://myclinic.com/thanks", false},
		{"ThankYouUrl", "", false},
		{"ThankYouUrl", "https://www.example.com/thank-you", false},
		{"ThankYouUrl", "https://www.clinic.example/thank-you", false},
		{"ClinicName", "Riverside Ketamine Therapy", true},
		{"ClinicName", "", false},
		{"ClinicName", " ", false},
		{"ClinicName", "Example Ketamine Therapy Clinic", false},
		{"ClinicName", "two\nlines", false},
		{"ClinicPhone", "", true},
		{"ClinicPhone", "+1 410 555 2368", true},
		{"ClinicPhone", "(410) 555-2368", true},
		{"ClinicPhone", "+1 555 0100", false},
		{"ClinicPhone", "call us", false},
		{"ClinicTimeZone", "", true},
		{"ClinicTimeZone", "America/New_York", true},
		{"ClinicTimeZone", "America/Argentina/Buenos_Aires", true},
		{"ClinicTimeZone", "New York", false},
		{"CrisisSla", "30m", true},
		{"CrisisSla", "1h30m", true},
		{"CrisisSla", "30", false},
		{"CrisisSla", "half an hour", false},
		{"LeadSla", "4h", true},
		{"LeadSla", "", false},
		{"BusinessHours", "Mon-Fri 09:00-17:00", true},
		{"BusinessHours", "Mon-Fri 08:30-12:00, Mon-Fri 13:00-17:30,Sat 10:00-13:00", true},
		{"BusinessHours", "always", true},
		{"BusinessHours", "weekdays 9 to 5", false},
		{"BusinessHours", "", false},
		{"ClosedDates", "", true},
		{"ClosedDates", "2026-12-25, 2027-01-01", true},
		{"ClosedDates", "12/25/2026", false},
		{"EscalationEmails", "", true},
		{"EscalationEmails", "manager@myclinic.com,owner@myclinic.com", true},
		{"EscalationEmails", "manager@clinic.example", false},
		{"OncallEmail", "4105552368@txt.att.net", true},
		{"OncallEmail", "+1 410 555 2368", false},
		{"DigestTime", "08:00", true},
		{"DigestTime", "23:59", true},
		{"DigestTime", "off", true},
		{"DigestTime", "8:00", false},
		{"DigestTime", "24:00", false},
		{"DigestEmails", "", true},
		{"DigestEmails", "owner@myclinic.com", true},
		{"DigestEmails", "owner@example.com", false},
		{"StageName", "prod", true},
		{"StageName", "a/b", false},
		// Cloudflare's rule for a widget action: up to 32 of [A-Za-z0-9_-].
		{"TurnstileAction", "", true},
		{"TurnstileAction", "contact-form_2", true},
		{"TurnstileAction", strings.Repeat("a", 32), true},
		{"TurnstileAction", strings.Repeat("a", 33), false},
		{"TurnstileAction", "contact form", false},
		{"TurnstileAction", "form.contact", false},
		// The name goes into the grant's resource ARN: no "*", no ARN.
		{"TurnstileSecretName", "", true},
		{"TurnstileSecretName", "leadpipe/turnstile", true},
		{"TurnstileSecretName", "prod/leadpipe/turnstile_key-2026.v1+a=b@c", true},
		{"TurnstileSecretName", "*", false},
		{"TurnstileSecretName", "leadpipe/*", false},
		{"TurnstileSecretName", "arn:aws:secretsmanager:us-east-1:123456789012:secret:leadpipe/turnstile-AbCdEf", false},
		{"TurnstileSecretName", "leadpipe turnstile", false},
		{"TurnstileSecretName", strings.Repeat("a", 513), false},
	}
	for _, tt := range tests {
		t.Run(tt.param+" "+tt.value, func(t *testing.T) {
			pattern, ok := tmpl.Parameters[tt.param]["AllowedPattern"]
			if !ok {
				t.Fatalf("%s has no AllowedPattern", tt.param)
			}
			if got := javaMatch(t, pattern, tt.value); got != tt.want {
				t.Errorf("%v matches %q = %v, want %v", pattern, tt.value, got, tt.want)
			}
		})
	}
}

// javaMatch reports whether pattern, an AllowedPattern, matches all of
// value. CloudFormation uses java.util.regex, whose lookahead Go's regexp
// lacks; regexp2 implements the same syntax for what these patterns use.
func javaMatch(t *testing.T, pattern any, value string) bool {
	t.Helper()
	s, ok := pattern.(string)
	if !ok {
		t.Fatalf("AllowedPattern %v is not a string", pattern)
	}
	re, err := regexp2.Compile(`\A(?:`+s+`)\z`, regexp2.None)
	if err != nil {
		t.Fatalf("AllowedPattern %s: %v", s, err)
	}
	m, err := re.MatchString(value)
	if err != nil {
		t.Fatalf("AllowedPattern %s on %q: %v", s, value, err)
	}
	return m
}

func TestOutputs(t *testing.T) {
	tmpl := mustLoad(t)
	want := map[string]string{
		"ApiUrl":             `{"Fn::Sub":"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}"}`,
		"LeadsTableName":     `{"Ref":"LeadsTable"}`,
		"DeadLetterQueueUrl": `{"Ref":"NotifyDeadLetterQueue"}`,
		"InboxUrl":           `{"Fn::Sub":"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}/staff"}`,
		"UserPoolId":         `{"Ref":"StaffUserPool"}`,
		"UserPoolClientId":   `{"Ref":"StaffUserPoolClient"}`,
	}
	for name, value := range want {
		t.Run(name, func(t *testing.T) {
			if got := js(tmpl.Outputs[name]["Value"]); got != value {
				t.Errorf("got %s, want %s", got, value)
			}
		})
	}
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// TestReferencesResolve catches a misspelt !Ref, !GetAtt or ${} before a
// deploy does, and a parameter nothing uses.
func TestReferencesResolve(t *testing.T) {
	tmpl := mustLoad(t)
	used := map[string]bool{}
	known := func(name string) bool {
		_, isParam := tmpl.Parameters[name]
		_, isRes := tmpl.Resources[name]
		return isParam || isRes || strings.HasPrefix(name, "AWS::")
	}
	walk(tmpl.Doc, "", func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return
		}
		var names []string
		switch {
		case m["Ref"] != nil:
			names = []string{fmt.Sprint(m["Ref"])}
		case m["Fn::GetAtt"] != nil:
			names = []string{fmt.Sprint(at(m, "Fn::GetAtt", 0))}
		case m["Fn::Sub"] != nil:
			s, ok := m["Fn::Sub"].(string)
			if !ok {
				return
			}
			for _, match := range subVar.FindAllStringSubmatch(s, -1) {
				name, _, _ := strings.Cut(match[1], ".")
				names = append(names, name)
			}
		}
		for _, name := range names {
			used[name] = true
			if !known(name) {
				t.Errorf("%s: reference to unknown %q", path, name)
			}
		}
	})
	for name := range tmpl.Parameters {
		if !used[name] {
			t.Errorf("parameter %s is never used", name)
		}
	}
	if len(used) < 20 {
		t.Errorf("found %d referenced names, want more; is the walk broken?", len(used))
	}
}

// readRootFile returns the file name at the module root.
func readRootFile(t *testing.T, name string) string {
	t.Helper()
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var override = regexp.MustCompile(`(?m)^\s*"(\w+)=(.*)",?\s*$`)

// TestSamconfigExample keeps the example deploy configuration in step with
// the parameters, and makes it need only the clinic's values: it sets every
// required parameter to a placeholder the template refuses (so a copy
// deployed unchanged fails before anything is created), and every other
// value it sets is one the template accepts.
func TestSamconfigExample(t *testing.T) {
	tmpl := mustLoad(t)
	data := readRootFile(t, "samconfig.example.toml")
	set := map[string]bool{}
	for _, m := range override.FindAllStringSubmatch(data, -1) {
		name, value := m[1], strings.TrimSuffix(strings.TrimPrefix(m[2], `\"`), `\"`)
		set[name] = true
		param, ok := tmpl.Parameters[name]
		if !ok {
			t.Errorf("samconfig.example.toml sets %s, which is not a parameter", name)
			continue
		}
		_, hasDefault := param["Default"]
		if accepted := parameterAccepts(t, param, value); accepted != hasDefault {
			if hasDefault {
				t.Errorf("samconfig.example.toml sets %s=%s, which the template refuses", name, value)
			} else {
				t.Errorf("samconfig.example.toml sets required %s=%s, which the template accepts; want a placeholder it refuses", name, value)
			}
		}
	}
	if len(set) < 8 {
		t.Errorf("found %d parameter overrides, want more; is the pattern broken?", len(set))
	}
	for name, param := range tmpl.Parameters {
		if _, hasDefault := param["Default"]; !hasDefault && !set[name] {
			t.Errorf("samconfig.example.toml does not set required parameter %s", name)
		}
	}
	// The file names the Turnstile secret (TurnstileSecretName); the key
	// itself stays in Secrets Manager.
	for name := range set {
		if strings.Contains(name, "Secret") && !strings.HasSuffix(name, "SecretName") {
			t.Errorf("samconfig.example.toml sets %s; secrets stay out of files", name)
		}
	}
}

// parameterAccepts reports whether CloudFormation would take value for
// param: its AllowedValues, AllowedPattern (on each entry of a list) and
// length limits.
func parameterAccepts(t *testing.T, param map[string]any, value string) bool {
	t.Helper()
	values := []string{value}
	if param["Type"] == "CommaDelimitedList" {
		values = strings.Split(value, ",")
	}
	for _, v := range values {
		if allowed, ok := param["AllowedValues"].([]any); ok && !strings.Contains(js(allowed), js(v)) {
			return false
		}
		if pattern, ok := param["AllowedPattern"]; ok && !javaMatch(t, pattern, v) {
			return false
		}
	}
	if n, ok := param["MinLength"].(int); ok && len(value) < n {
		return false
	}
	if n, ok := param["MaxLength"].(int); ok && len(value) > n {
		return false
	}
	return true
}

// physicalNames are properties that set a resource's name in the account and
// region; two stacks that set the same one cannot both deploy.
var physicalNames = []string{
	"Name", "TableName", "FunctionName", "QueueName", "TopicName", "RoleName",
	"LogGroupName", "AliasName", "UserPoolName", "BucketName", "ScheduleGroupName",
	"AlarmName", "DashboardName",
}

// TestNoFixedNames lets a second stack (staging, another clinic) deploy in
// the same account and region: CloudFormation names every resource, or the
// name includes the stack's.
func TestNoFixedNames(t *testing.T) {
	tmpl := mustLoad(t)
	var named int
	for id, r := range tmpl.Resources {
		for _, key := range physicalNames {
			v, ok := r.Properties[key]
			if !ok {
				continue
			}
			named++
			if sub, _ := at(v, "Fn::Sub").(string); !strings.Contains(sub, "${AWS::StackName}") {
				t.Errorf("%s.%s = %s: a fixed name; leave it out or include ${AWS::StackName}", id, key, js(v))
			}
		}
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for name, e := range events {
			// SAM names a schedule after its event unless told not to.
			if typ := at(e, "Type"); typ == "ScheduleV2" || typ == "Schedule" {
				if at(e, "Properties", "Name") != nil || at(e, "Properties", "OmitName") != true {
					t.Errorf("%s event %s: Name = %v, OmitName = %v; want no Name and OmitName true",
						id, name, at(e, "Properties", "Name"), at(e, "Properties", "OmitName"))
				}
			}
		}
	}
	// Guards the walk: the alias and the user pool carry the stack's name.
	if named < 2 {
		t.Errorf("found %d named resources, want at least 2; is the walk broken?", named)
	}
}

// readmeSection returns the README's "## title" section, up to the next one.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	_, after, ok := strings.Cut(readRootFile(t, "README.md"), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	section, _, _ := strings.Cut(after, "\n## ")
	return section
}

// cleanUp is how README's clean-up removes a kept resource of each type,
// deletion protection first where the template turns it on.
var cleanUp = map[string][]string{
	"AWS::DynamoDB::Table":   {"aws dynamodb update-table --table-name <%s> --no-deletion-protection-enabled", "aws dynamodb delete-table --table-name <%s>"},
	"AWS::KMS::Key":          {"aws kms schedule-key-deletion --key-id <%s>"},
	"AWS::Cognito::UserPool": {"aws cognito-idp update-user-pool --user-pool-id <%s> --deletion-protection INACTIVE", "aws cognito-idp delete-user-pool --user-pool-id <%s>"},
}

// TestReadmeDeploy keeps the Deploy section true to the template: the
// guided deploy's question for every function with a public route, the
// clean-up of every resource the template keeps, and the prerequisites.
func TestReadmeDeploy(t *testing.T) {
	tmpl := mustLoad(t)
	deploy := readmeSection(t, "Deploy")
	_, guided, _ := strings.Cut(deploy, "has no\nauthentication. Is this okay?")
	guided, _, _ = strings.Cut(guided, "\n\n")
	if guided == "" || !strings.Contains(guided, "Answer **`y`**") {
		t.Error(`README Deploy does not say to answer y to "... has no authentication. Is this okay?"`)
	}
	public := map[string]bool{}
	for _, r := range httpRoutes(t, tmpl) {
		if r.authorizer == "NONE" {
			public[r.function] = true
		}
	}
	for fn := range public {
		if !strings.Contains(guided, "`"+fn+"`") {
			t.Errorf("README Deploy: the answer to the authentication question does not name %s, which has public routes", fn)
		}
	}

	_, cleanup, _ := strings.Cut(deploy, "### If the first deploy fails")
	for id, r := range tmpl.Resources {
		if r.DeletionPolicy != "Retain" {
			continue
		}
		if !strings.Contains(cleanup, "LogicalResourceId=='"+id+"'") {
			t.Errorf("README clean-up does not list kept resource %s", id)
		}
		cmds, ok := cleanUp[r.Type]
		if !ok {
			t.Errorf("kept resource %s (%s): no clean-up command known; add one to README and to cleanUp", id, r.Type)
		}
		for _, c := range cmds {
			if cmd := fmt.Sprintf(c, id); !strings.Contains(cleanup, cmd) {
				t.Errorf("README clean-up lacks %q", cmd)
			}
		}
	}

	for _, want := range []string{"AWS credentials", "AWS SAM CLI", "Docker is not needed", "make deploy", "cp samconfig.example.toml samconfig.toml"} {
		if !strings.Contains(deploy, want) {
			t.Errorf("README Deploy does not mention %q", want)
		}
	}
}
