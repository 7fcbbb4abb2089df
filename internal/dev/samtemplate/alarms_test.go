package samtemplate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// These tests pin issue 10 ("No silent failures") in template.yaml: every
// way a lead or an email can go missing raises an alarm that reaches ops,
// says what to do, and has an entry in docs/runbook.md.

// metricRef is one metric an alarm reads; Dims is the JSON of its
// Dimensions ("null" when it has none).
type metricRef struct {
	Namespace, Name, Dims string
}

// alarmMetrics lists the metrics an alarm reads, whether it names one
// metric or uses metric math.
func alarmMetrics(props map[string]any) []metricRef {
	if ns, ok := props["Namespace"].(string); ok {
		return []metricRef{{ns, fmt.Sprint(props["MetricName"]), js(props["Dimensions"])}}
	}
	var out []metricRef
	for _, m := range asList(props["Metrics"]) {
		if metric := at(m, "MetricStat", "Metric"); metric != nil {
			out = append(out, metricRef{fmt.Sprint(at(metric, "Namespace")), fmt.Sprint(at(metric, "MetricName")), js(at(metric, "Dimensions"))})
		}
	}
	return out
}

func alarms(tmpl *Template) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::CloudWatch::Alarm" {
			out[id] = r
		}
	}
	return out
}

// dims is the JSON of a Dimensions list from name, value pairs (values
// given as JSON).
func dims(pairs ...string) string {
	var list []any
	for i := 0; i+1 < len(pairs); i += 2 {
		var v any
		if err := json.Unmarshal([]byte(pairs[i+1]), &v); err != nil {
			panic(fmt.Sprintf("dims: value %s: %v", pairs[i+1], err))
		}
		list = append(list, map[string]any{"Name": pairs[i], "Value": v})
	}
	return js(list)
}

func refJSON(name string) string { return fmt.Sprintf(`{"Ref":%q}`, name) }

var (
	stackDim = dims("Stack", refJSON("AWS::StackName"))
	queueDim = dims("QueueName", `{"Fn::GetAtt":["NotifyDeadLetterQueue","QueueName"]}`)
)

func fnDim(id string) string { return dims("FunctionName", refJSON(id)) }

// sesEvents are the metrics a configuration set's CloudWatch event
// destination publishes for the four event types issue 10 names.
func sesEvents(set string) []metricRef {
	d := dims("ses:configuration-set", refJSON(set))
	var out []metricRef
	for _, name := range []string{"Bounce", "Complaint", "Reject", "DeliveryDelay"} {
		out = append(out, metricRef{"AWS/SES", name, d})
	}
	return out
}

// alarmWant is what an alarm must be.
type alarmWant struct {
	reads      []metricRef
	stat       string
	period     int
	eval       int
	datapoints int // DatapointsToAlarm; 0 means not set (all of eval)
	threshold  string
	comparison string
	missing    string // TreatMissingData
	okActions  bool   // also emails when the condition is over
	// says are phrases the description must contain (any case): which
	// email is affected, what happens to the lead, what to do.
	says []string
}

const (
	gt  = "GreaterThanThreshold"
	gte = "GreaterThanOrEqualToThreshold"
	nb  = "notBreaching"
)

// wantAlarms is every alarm of the template. An alarm added to the
// template without an entry here fails TestEveryAlarm.
var wantAlarms = map[string]alarmWant{
	// Item 10: the queue's depth keeps ALARM until drained; arrivals
	// alarm again for each new failure.
	"DeadLetterQueueNotEmptyAlarm": {
		reads: []metricRef{{"AWS/SQS", "ApproximateNumberOfMessagesVisible", queueDim}},
		stat:  "Maximum", period: 300, eval: 1, threshold: "0", comparison: gt, missing: nb, okActions: true,
		says: []string{"staff email", "confirmation", "lead itself is saved", "drain the queue"},
	},
	"DeadLetterMessagesArrivedAlarm": {
		reads: []metricRef{{"AWS/SQS", "NumberOfMessagesSent", queueDim}},
		stat:  "Sum", period: 300, eval: 1, threshold: "1", comparison: gte, missing: nb,
		says: []string{"staff email", "confirmation", "each new failure", "drain the queue"},
	},
	"NotifyErrorsAlarm": {
		reads: []metricRef{{"AWS/Lambda", "Errors", fnDim("NotifyFunction")}},
		stat:  "Sum", period: 300, eval: 1, threshold: "0", comparison: gt, missing: nb,
		says: []string{"staff emails and confirmations"},
	},
	"NotifyIteratorAgeAlarm": {
		reads: []metricRef{{"AWS/Lambda", "IteratorAge", fnDim("NotifyFunction")}},
		stat:  "Maximum", period: 300, eval: 1, threshold: "300000", comparison: gt, missing: nb, okActions: true,
		says: []string{"staff emails and confirmations"},
	},
	// Published by notify without dimensions only (it predates the Stack
	// dimension); see unstackedMetrics.
	"NotifyPermanentFailuresAlarm": {
		reads: []metricRef{{"LeadPipeline", "PermanentEmailFailures", "null"}},
		stat:  "Sum", period: 300, eval: 1, threshold: "0", comparison: gt, missing: nb,
		says: []string{"staff email", "lead is saved"},
	},
	// Item 6.
	"UnreadableLeadsAlarm": {
		reads: []metricRef{{"LeadPipeline", "UnreadableLeads", stackDim}},
		stat:  "Sum", period: 1800, eval: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"no staff email, no confirmation", "key"},
	},
	// Issue 12: a lead still New past its service level for about an hour.
	"LeadsOverdueAlarm": {
		reads: []metricRef{{"LeadPipeline", "LeadsOverdue", stackDim}},
		stat:  "Maximum", period: 1800, eval: 2, datapoints: 2, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"still New", "lead itself is saved", "staff email is not affected", "move the lead on from New"},
	},
	// Item 1.
	"StaffAddressSuppressedAlarm": {
		reads: []metricRef{{"LeadPipeline", "StaffAddressSuppressed", stackDim}},
		stat:  "Sum", period: 1800, eval: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"staff email", "aws sesv2 delete-suppressed-destination"},
	},
	"StaffAddressCheckFailuresAlarm": {
		reads: []metricRef{{"LeadPipeline", "SuppressionCheckFailures", stackDim}},
		stat:  "Sum", period: 1800, eval: 2, datapoints: 2, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"suppression list", "cannot check a staff address"},
	},
	"StaffEmailProblemsAlarm": {
		reads: sesEvents("StaffConfigurationSet"),
		stat:  "Sum", period: 300, eval: 1, threshold: "1", comparison: gte, missing: nb,
		says: []string{"staff email", "confirmations are not affected"},
	},
	"ConfirmationEmailProblemsAlarm": {
		reads: sesEvents("SesConfigurationSet"),
		stat:  "Sum", period: 3600, eval: 1, threshold: "3", comparison: gte, missing: nb,
		says: []string{"confirmation", "staff emails are not affected"},
	},
	// Item 11: the rates at which AWS reviews the account (it pauses at
	// 10% and 0.5%). A rate keeps its state while no new figure comes.
	"SesBounceRateAlarm": {
		reads: []metricRef{{"AWS/SES", "Reputation.BounceRate", "null"}},
		stat:  "Maximum", period: 3600, eval: 1, threshold: "0.05", comparison: gte, missing: "ignore", okActions: true,
		says: []string{"staff emails and confirmations", "10%"},
	},
	"SesComplaintRateAlarm": {
		reads: []metricRef{{"AWS/SES", "Reputation.ComplaintRate", "null"}},
		stat:  "Maximum", period: 3600, eval: 1, threshold: "0.001", comparison: gte, missing: "ignore", okActions: true,
		says: []string{"staff emails and confirmations", "0.5%"},
	},
	// Item 2: within minutes (any 5xx in the last five one-minute periods).
	"ApiServerErrorsAlarm": {
		reads: []metricRef{{"AWS/ApiGateway", "5xx", dims("ApiId", refJSON("HttpApi"), "Stage", refJSON("StageName"))}},
		stat:  "Sum", period: 60, eval: 5, datapoints: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"may NOT be saved", "staff inbox"},
	},
	"IntakeFaultsAlarm": {
		reads: []metricRef{{"LeadPipeline", "IntakeFaults", stackDim}},
		stat:  "Sum", period: 60, eval: 5, datapoints: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"NOT saved", "no email is involved"},
	},
	// Item 3.
	"TurnstileConfigFaultsAlarm": {
		reads: []metricRef{{"LeadPipeline", "TurnstileConfigFaults", stackDim}},
		stat:  "Sum", period: 60, eval: 5, datapoints: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"TurnstileSecretName", "no leads arrive"},
	},
	"IntakeErrorsAlarm": {
		reads: []metricRef{{"AWS/Lambda", "Errors", fnDim("ContactFunction")}, {"AWS/Lambda", "Errors", fnDim("ConsultationFunction")}},
		stat:  "Sum", period: 300, eval: 1, threshold: "0", comparison: gt, missing: nb,
		says: []string{"NOT be saved", "no email is involved"},
	},
	// Item 11: every function (TestThrottleAlarmForEveryFunction).
	"ContactThrottlesAlarm": {
		reads: []metricRef{{"AWS/Lambda", "Throttles", fnDim("ContactFunction")}},
		stat:  "Sum", period: 300, eval: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"NOT saved", "no email is involved"},
	},
	"ConsultationThrottlesAlarm": {
		reads: []metricRef{{"AWS/Lambda", "Throttles", fnDim("ConsultationFunction")}},
		stat:  "Sum", period: 300, eval: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"NOT saved", "no email is involved"},
	},
	"NotifyThrottlesAlarm": {
		reads: []metricRef{{"AWS/Lambda", "Throttles", fnDim("NotifyFunction")}},
		stat:  "Sum", period: 300, eval: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"staff emails and confirmations", "NotifyReservedConcurrency"},
	},
	"StaffThrottlesAlarm": {
		reads: []metricRef{{"AWS/Lambda", "Throttles", fnDim("StaffFunction")}},
		stat:  "Sum", period: 300, eval: 1, threshold: "1", comparison: gte, missing: nb, okActions: true,
		says: []string{"no lead, staff email or confirmation is affected"},
	},
}

// runbookAnchor is the GitHub anchor of a runbook heading that is the
// alarm's logical ID alone.
func runbookAnchor(id string) string { return "docs/runbook.md#" + strings.ToLower(id) }

func TestEveryAlarm(t *testing.T) {
	tmpl := mustLoad(t)
	got := alarms(tmpl)
	for id := range wantAlarms {
		if _, ok := got[id]; !ok {
			t.Errorf("no alarm %s", id)
		}
	}
	for id, r := range got {
		want, ok := wantAlarms[id]
		if !ok {
			t.Errorf("alarm %s is not in wantAlarms: add what it must be (and its runbook entry)", id)
			continue
		}
		t.Run(id, func(t *testing.T) {
			props := r.Properties
			if g := alarmMetrics(props); js(g) != js(want.reads) {
				t.Errorf("reads:\n got %s\nwant %s", js(g), js(want.reads))
			}
			okActions := `null`
			if want.okActions {
				okActions = `[{"Ref":"OpsTopic"}]`
			}
			checks := []check{
				{p("AlarmActions"), `[{"Ref":"OpsTopic"}]`},
				{p("OKActions"), okActions},
				{p("EvaluationPeriods"), strconv.Itoa(want.eval)},
				{p("Threshold"), want.threshold},
				{p("ComparisonOperator"), fmt.Sprintf("%q", want.comparison)},
				{p("TreatMissingData"), fmt.Sprintf("%q", want.missing)},
				{p("AlarmName"), `null`}, // CloudFormation names it after the stack and this ID
			}
			if want.datapoints > 0 {
				checks = append(checks, check{p("DatapointsToAlarm"), strconv.Itoa(want.datapoints)})
			} else {
				checks = append(checks, check{p("DatapointsToAlarm"), `null`})
			}
			if props["Metrics"] == nil {
				checks = append(checks,
					check{p("Statistic"), fmt.Sprintf("%q", want.stat)},
					check{p("Period"), strconv.Itoa(want.period)})
			} else {
				checkMetricMath(t, props["Metrics"], want)
			}
			runChecks(t, props, checks)

			desc, _ := props["AlarmDescription"].(string)
			if len(desc) > 1024 {
				t.Errorf("AlarmDescription has %d characters; CloudFormation allows 1024", len(desc))
			}
			if !strings.Contains(desc, "Runbook: "+runbookAnchor(id)) {
				t.Errorf("AlarmDescription does not end with its runbook entry %q: %q", runbookAnchor(id), desc)
			}
			for _, phrase := range want.says {
				if !strings.Contains(strings.ToLower(desc), strings.ToLower(phrase)) {
					t.Errorf("AlarmDescription does not say %q: %q", phrase, desc)
				}
			}
		})
	}
}

// checkMetricMath: one expression returns data, it sums every metric the
// alarm reads, and each metric uses the wanted statistic and period.
func checkMetricMath(t *testing.T, metrics any, want alarmWant) {
	t.Helper()
	var ids, returned []string
	var expr string
	for _, m := range asList(metrics) {
		if at(m, "ReturnData") == true {
			returned = append(returned, fmt.Sprint(at(m, "Id")))
			expr, _ = at(m, "Expression").(string)
			continue
		}
		ids = append(ids, fmt.Sprint(at(m, "Id")))
		if s := at(m, "MetricStat", "Stat"); s != want.stat {
			t.Errorf("metric %v: Stat = %v, want %s", at(m, "Id"), s, want.stat)
		}
		if pd := at(m, "MetricStat", "Period"); pd != want.period {
			t.Errorf("metric %v: Period = %v, want %d", at(m, "Id"), pd, want.period)
		}
	}
	if len(returned) != 1 {
		t.Errorf("%d entries return data (%v), want one expression", len(returned), returned)
	}
	if wantExpr := "SUM([" + strings.Join(ids, ", ") + "])"; expr != wantExpr {
		t.Errorf("Expression = %q, want %q", expr, wantExpr)
	}
}

// TestThrottleAlarmForEveryFunction: a function added later without a
// throttling alarm fails here (issue 10, item 11).
func TestThrottleAlarmForEveryFunction(t *testing.T) {
	tmpl := mustLoad(t)
	watched := map[string]bool{}
	for _, r := range alarms(tmpl) {
		for _, m := range alarmMetrics(r.Properties) {
			if m.Namespace == "AWS/Lambda" && m.Name == "Throttles" {
				watched[m.Dims] = true
			}
		}
	}
	var n int
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		n++
		if !watched[fnDim(id)] {
			t.Errorf("function %s has no alarm on AWS/Lambda Throttles", id)
		}
	}
	if n < 4 {
		t.Errorf("found %d functions, want at least 4; is the walk broken?", n)
	}
}

// unstackedMetrics are LeadPipeline metrics an alarm may read without the
// Stack dimension, and why.
var unstackedMetrics = map[string]string{
	"PermanentEmailFailures": "published by notify without dimensions since before the Stack dimension; read the same way so the alarm cannot go silent",
}

// TestStackDimension: the functions publish their metrics with
// Stack = STACK_NAME, and the alarms read exactly that series, so two
// stacks in one account never trip each other's alarms.
func TestStackDimension(t *testing.T) {
	tmpl := mustLoad(t)
	stackName := at(tmpl.Globals, "Function", "Environment", "Variables", "STACK_NAME")
	if js(stackName) != refJSON("AWS::StackName") {
		t.Fatalf("Globals STACK_NAME = %s, want %s on every function", js(stackName), refJSON("AWS::StackName"))
	}
	var n int
	for id, r := range alarms(tmpl) {
		for _, m := range alarmMetrics(r.Properties) {
			if m.Namespace != "LeadPipeline" {
				continue
			}
			n++
			if _, ok := unstackedMetrics[m.Name]; ok {
				continue
			}
			if want := dims("Stack", js(stackName)); m.Dims != want {
				t.Errorf("%s reads %s with Dimensions %s, want %s", id, m.Name, m.Dims, want)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d LeadPipeline alarm metrics, want at least 5", n)
	}
}

func TestSesConfigurationSets(t *testing.T) {
	tmpl := mustLoad(t)
	tests := []struct {
		id, suppressed string
	}{
		// Confirmations: an address that bounced or complained is not
		// mailed again, protecting the account's reputation.
		{"SesConfigurationSet", `["BOUNCE","COMPLAINT"]`},
		// Staff email: an empty list (not a missing one, which means the
		// account's settings) overrides the account's suppression list, so
		// one bounce cannot silence every later lead.
		{"StaffConfigurationSet", `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := mustResource(t, tmpl, tt.id, "AWS::SES::ConfigurationSet")
			runChecks(t, r.Properties, []check{
				{p("SuppressionOptions", "SuppressedReasons"), tt.suppressed},
				{p("DeliveryOptions", "TlsPolicy"), `"REQUIRE"`},
				{p("ReputationOptions", "ReputationMetricsEnabled"), `true`},
				{p("SendingOptions", "SendingEnabled"), `true`},
				{p("Name"), `null`},
			})
		})
	}
}

// TestSesEventDestinations: both sets count bounces, complaints, rejects
// and delivery delays in CloudWatch under their own name, and an alarm
// reads all four for each set (issue 10, item 1).
func TestSesEventDestinations(t *testing.T) {
	tmpl := mustLoad(t)
	read := map[metricRef]bool{}
	for _, r := range alarms(tmpl) {
		for _, m := range alarmMetrics(r.Properties) {
			read[m] = true
		}
	}
	for _, set := range []string{"SesConfigurationSet", "StaffConfigurationSet"} {
		t.Run(set, func(t *testing.T) {
			var found []Resource
			for _, r := range tmpl.Resources {
				if r.Type == "AWS::SES::ConfigurationSetEventDestination" && js(r.Properties["ConfigurationSetName"]) == refJSON(set) {
					found = append(found, r)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d event destinations for %s, want 1", len(found), set)
			}
			dest := found[0].Properties["EventDestination"]
			runChecks(t, dest, []check{
				// SES's default is off: without this nothing is published.
				{p("Enabled"), `true`},
				{p("CloudWatchDestination", "DimensionConfigurations"), js([]any{map[string]any{
					"DimensionName":         "ses:configuration-set", // SES's auto-tag
					"DimensionValueSource":  "messageTag",
					"DefaultDimensionValue": map[string]any{"Ref": set},
				}})},
				// Counts only: no SNS destination would mail ops addresses.
				{p("SnsDestination"), `null`},
			})
			types := map[string]bool{}
			for _, e := range asList(at(dest, "MatchingEventTypes")) {
				types[fmt.Sprint(e)] = true
			}
			for _, want := range []string{"bounce", "complaint", "reject", "deliveryDelay"} {
				if !types[want] {
					t.Errorf("MatchingEventTypes lacks %s", want)
				}
			}
			for _, m := range sesEvents(set) {
				if !read[m] {
					t.Errorf("no alarm reads %s %s for %s", m.Namespace, m.Name, set)
				}
			}
		})
	}
}

var sweepWindowRE = regexp.MustCompile(`sweepWindow\s*=\s*(\d+)\s*\*\s*24\s*\*\s*time\.Hour`)

// sweepWindowDays reads the sweep's look-back from internal/notify/sweep.go.
func sweepWindowDays(t *testing.T) int {
	t.Helper()
	m := sweepWindowRE.FindStringSubmatch(readRootFile(t, "internal/notify/sweep.go"))
	if m == nil {
		t.Fatal("internal/notify/sweep.go has no `sweepWindow = N * 24 * time.Hour`; update this test with the sweep's look-back")
	}
	days, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return days
}

// TestRetentionCoversSweepWindow: a lead is kept at least as long as the
// sweep looks back for leads staff were never told about (issue 10,
// item 9), and the template says so at deploy time.
func TestRetentionCoversSweepWindow(t *testing.T) {
	tmpl := mustLoad(t)
	days := sweepWindowDays(t)
	if got := js(tmpl.Parameters["RetentionDays"]["MinValue"]); got != strconv.Itoa(days) {
		t.Errorf("RetentionDays MinValue = %s, want %d (the sweep's look-back)", got, days)
	}
	var below []any
	for d := 1; d < days; d++ {
		below = append(below, strconv.Itoa(d))
	}
	rule := at(tmpl.Doc, "Rules", "RetentionCoversSweepWindow")
	runChecks(t, rule, []check{
		{p("RuleCondition"), `null`},
		{p("Assertions", 0, "Assert"), js(map[string]any{"Fn::Not": []any{map[string]any{"Fn::Contains": []any{below, map[string]any{"Ref": "RetentionDays"}}}}})},
	})
	desc, _ := at(rule, "Assertions", 0, "AssertDescription").(string)
	for _, want := range []string{fmt.Sprintf("at least %d", days), "internal/notify/sweep.go"} {
		if !strings.Contains(desc, want) {
			t.Errorf("AssertDescription %q does not say %q", desc, want)
		}
	}
}

var subPlaceholder = regexp.MustCompile(`\$\{([^}!]+)\}`)

// TestOpsDashboard: the daily spam figure (issue 10, item 5) is on a
// dashboard whose body is valid JSON once CloudFormation substitutes it.
func TestOpsDashboard(t *testing.T) {
	tmpl := mustLoad(t)
	r := mustResource(t, tmpl, "OpsDashboard", "AWS::CloudWatch::Dashboard")
	body, ok := at(r.Properties, "DashboardBody", "Fn::Sub").(string)
	if !ok {
		t.Fatalf("DashboardBody = %s, want a !Sub string", js(r.Properties["DashboardBody"]))
	}
	body = subPlaceholder.ReplaceAllString(body, "SUB($1)")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Region  string  `json:"region"`
				Stat    string  `json:"stat"`
				Period  int     `json:"period"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON after substitution: %v", err)
	}
	var spam int
	for _, w := range dash.Widgets {
		if w.Properties.Region != "SUB(AWS::Region)" {
			t.Errorf("widget %q: region %q, want ${AWS::Region}", w.Properties.Title, w.Properties.Region)
		}
		for _, m := range w.Properties.Metrics {
			line := js(m)
			if m[0] == "LeadPipeline" && !strings.Contains(line, `"Stack","SUB(AWS::StackName)"`) {
				t.Errorf("widget %q: %s lacks the Stack dimension", w.Properties.Title, line)
			}
			if m[0] == "LeadPipeline" && m[1] == "SpamCaught" {
				spam++
				if w.Properties.Period != 86400 || w.Properties.Stat != "Sum" {
					t.Errorf("spam widget: period %d, stat %q; want the daily Sum (86400, Sum)", w.Properties.Period, w.Properties.Stat)
				}
			}
		}
	}
	if spam == 0 {
		t.Error("no widget shows LeadPipeline SpamCaught")
	}
}

// runbookSections returns docs/runbook.md's "### " sections by heading.
func runbookSections(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	parts := strings.Split("\n"+readRootFile(t, "docs/runbook.md"), "\n### ")
	for _, part := range parts[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		body, _, _ = strings.Cut(body, "\n## ")
		out[strings.TrimSpace(heading)] = body
	}
	return out
}

// TestRunbook: one entry per alarm, under a heading that is its logical ID
// (the anchor its description links), naming the metrics it reads; no
// entry for an alarm that does not exist; and the recovery procedures
// issue 10 asks for.
func TestRunbook(t *testing.T) {
	tmpl := mustLoad(t)
	sections := runbookSections(t)
	all := alarms(tmpl)
	for id, r := range all {
		section, ok := sections[id]
		if !ok {
			t.Errorf("docs/runbook.md has no section \"### %s\"", id)
			continue
		}
		for _, m := range alarmMetrics(r.Properties) {
			if !strings.Contains(section, "`"+m.Name+"`") {
				t.Errorf("runbook %s does not name the metric it reads, `%s`", id, m.Name)
			}
		}
		for _, part := range []string{"**What it means**", "**Check**", "**Recover**"} {
			if !strings.Contains(section, part) {
				t.Errorf("runbook %s lacks %s", id, part)
			}
		}
	}
	var stale []string
	for heading := range sections {
		if strings.HasSuffix(heading, "Alarm") {
			if _, ok := all[heading]; !ok {
				stale = append(stale, heading)
			}
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("docs/runbook.md has entries for alarms the template does not have: %v", stale)
	}

	runbook := readRootFile(t, "docs/runbook.md")
	for _, want := range []string{
		"aws sqs receive-message",                 // read the dead-letter queue
		"aws sqs purge-queue",                     // drain it
		"leadpipe sweep",                          // replay: run the sweep now
		"REMOVE notifiedAt",                       // resend a lead's staff email
		"restore-table-to-point-in-time",          // point-in-time restore
		"aws sesv2 delete-suppressed-destination", // un-suppress a staff address
		"aws sesv2 get-suppressed-destination",
		"aws secretsmanager put-secret-value", // fixing the Turnstile secret
		"update-function-configuration",       // which the functions read at start
		"SpamCaught",                          // the daily figure
	} {
		if !strings.Contains(runbook, want) {
			t.Errorf("docs/runbook.md does not mention %q", want)
		}
	}
}

// TestReadmeListsAlarms: the README's reliability section says what is
// alarmed and links the runbook.
func TestReadmeListsAlarms(t *testing.T) {
	tmpl := mustLoad(t)
	section := readmeSection(t, "Security and reliability")
	if !strings.Contains(section, "(docs/runbook.md)") {
		t.Error(`README "Security and reliability" does not link docs/runbook.md`)
	}
	for id := range alarms(tmpl) {
		if !strings.Contains(section, "`"+id+"`") {
			t.Errorf("README \"Security and reliability\" does not list alarm `%s`", id)
		}
	}
}
