package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/doctor"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// deployedFunctions are the template's functions, by logical id.
var deployedFunctions = []string{"ContactFunction", "ConsultationFunction", "NotifyFunction", "StaffFunction"}

func (a *app) doctor(ctx context.Context, args []string) error {
	var c common
	fs := a.flags("doctor", "", `Checks that the stack will get leads to the clinic, each check printed as
PASS, WARN or FAIL with what to do. Exits 1 when any check fails, so it can
gate a deploy pipeline. Run it as the last step of a first deploy.

With --local it checks what the dev stack emulates (the table and CORS) and
skips the account-level checks (SES, SNS, Cognito MFA, CloudWatch).`, &c)
	if err := parse(fs, &c, args, false); err != nil {
		return err
	}
	t, err := a.connect(ctx, c)
	if err != nil {
		return err
	}
	d, dep := doctorFor(t)
	results := d.Run(ctx, dep)

	failed := doctor.Failed(results)
	if c.json() {
		if err := writeJSON(a.out, struct {
			Target string          `json:"target"`
			Checks []doctor.Result `json:"checks"`
			Failed bool            `json:"failed"`
		}{t.String(), results, failed}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.out, "leadctl doctor: %s\n", t)
		counts := map[doctor.Status]int{}
		for _, r := range results {
			counts[r.Status]++
			fmt.Fprintf(a.out, "%-5s %-40s %s\n", strings.ToUpper(string(r.Status)), r.ID, r.Summary)
			if r.Fix != "" && (r.Status == doctor.Fail || r.Status == doctor.Warn) {
				fmt.Fprintf(a.out, "%-5s %-40s fix: %s\n", "", "", r.Fix)
			}
		}
		fmt.Fprintf(a.out, "%d checks: %d pass, %d warn, %d fail, %d skipped\n",
			len(results), counts[doctor.Pass], counts[doctor.Warn], counts[doctor.Fail], counts[doctor.Skip])
	}
	if failed {
		return errReported
	}
	return nil
}

// doctorFor wires the checks to the target's clients and describes the
// deployment from its parameters, outputs and resources.
func doctorFor(t *target) (*doctor.Doctor, doctor.Deployment) {
	if t.local {
		origins := t.dev.AllowedOrigins
		if len(origins) == 0 {
			origins = []string{t.apiURL, "http://localhost:" + strconv.Itoa(t.dev.APIPort)}
		}
		return &doctor.Doctor{Dynamo: t.db, HTTP: httpClient, Explain: explain, SkipNote: "not emulated by the dev stack"},
			doctor.Deployment{Region: t.region, Table: t.table, APIURL: t.apiURL, Origins: origins}
	}
	info := t.info
	var staff []string
	// Everyone the stack emails on the clinic's side: lead emails,
	// escalations and the digest.
	for _, s := range info.List("StaffEmails", "ContactStaffEmails", "ConsultationStaffEmails", "EscalationEmails", "OncallEmail", "DigestEmails") {
		staff = appendOnce(staff, lead.NormalizeEmail(s))
	}
	functions := map[string]string{}
	for _, f := range deployedFunctions {
		if v := info.Resources[f]; v != "" {
			functions[f] = v
		}
	}
	sets := map[string]string{}
	for _, s := range []string{"SesConfigurationSet", "StaffConfigurationSet"} {
		if v := info.Resources[s]; v != "" {
			sets[s] = v
		}
	}
	cfg := t.aws
	return &doctor.Doctor{
			SES:        sesv2.NewFromConfig(cfg),
			SNS:        sns.NewFromConfig(cfg),
			Cognito:    cognitoidentityprovider.NewFromConfig(cfg),
			CloudWatch: cloudwatch.NewFromConfig(cfg),
			SQS:        sqs.NewFromConfig(cfg),
			Dynamo:     t.db,
			HTTP:       httpClient,
			LookupTXT:  net.DefaultResolver.LookupTXT,
			Explain:    explain,
		}, doctor.Deployment{
			Region: t.region, Table: t.table,
			SenderIdentity:        info.Parameters["SenderIdentity"],
			Staff:                 staff,
			ConfigurationSets:     sets,
			StaffConfigurationSet: "StaffConfigurationSet",
			AlarmTopic:            info.Resources["OpsTopic"],
			UserPool:              info.Outputs["UserPoolId"],
			APIURL:                info.Outputs["ApiUrl"],
			Origins:               info.List("AllowedOrigins"),
			Functions:             functions,
			DeadLetterQueue:       info.Outputs["DeadLetterQueueUrl"],
		}
}

func appendOnce(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}
