// Package doctor checks that a deployed stack will actually get leads to
// the clinic: SES out of the sandbox with a verified, DKIM-signing sender,
// staff addresses not suppressed, the configuration sets in place, the
// alarm subscription confirmed, an admin in the staff pool with MFA
// required, CORS answering for the website's origins, and no function
// errors in the past day. Each check answers pass, warn, fail or skip, with
// what to do. The AWS calls are the small interfaces below, which the SDK
// clients have and the tests fake.
package doctor

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Status is a check's verdict.
type Status string

// Verdicts. Any fail makes leadctl doctor exit non-zero.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip" // the check does not apply (locally: not emulated)
)

// Result is one check's verdict: Summary says what was found, Fix what to
// do about a warn or fail.
type Result struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
}

// Deployment is what the checks need to know about the stack, from its
// parameters, outputs and resources.
type Deployment struct {
	Region string
	Table  string
	// SenderIdentity is the verified SES identity (domain or address)
	// SenderEmail sends as.
	SenderIdentity string
	// Staff is every address the stack emails on the clinic's side (staff,
	// escalations, the digest).
	Staff []string
	// ConfigurationSets are the SES configuration sets by logical id
	// (SesConfigurationSet, StaffConfigurationSet) and physical name.
	ConfigurationSets map[string]string
	// StaffConfigurationSet is the logical id of the set staff mail uses,
	// which must not suppress.
	StaffConfigurationSet string
	AlarmTopic            string // OpsTopic's ARN
	UserPool              string
	APIURL                string   // ApiUrl, with the stage
	Origins               []string // AllowedOrigins
	// Functions are the function names by logical id.
	Functions       map[string]string
	DeadLetterQueue string // its URL
}

// SES is the part of the SES v2 client the checks use.
type SES interface {
	GetAccount(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
	GetEmailIdentity(context.Context, *sesv2.GetEmailIdentityInput, ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error)
	GetSuppressedDestination(context.Context, *sesv2.GetSuppressedDestinationInput, ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error)
	GetConfigurationSet(context.Context, *sesv2.GetConfigurationSetInput, ...func(*sesv2.Options)) (*sesv2.GetConfigurationSetOutput, error)
}

// SNS lists the alarm topic's subscriptions.
type SNS interface {
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

// Cognito reads the staff user pool.
type Cognito interface {
	DescribeUserPool(context.Context, *cognitoidentityprovider.DescribeUserPoolInput, ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.DescribeUserPoolOutput, error)
	ListUsersInGroup(context.Context, *cognitoidentityprovider.ListUsersInGroupInput, ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.ListUsersInGroupOutput, error)
}

// CloudWatch reads the functions' error counts.
type CloudWatch interface {
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// SQS reads the dead-letter queue's depth.
type SQS interface {
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Dynamo describes the leads table.
type Dynamo interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Doctor runs the checks. A nil client skips the checks that need it (the
// local stack emulates none of the account-level calls).
type Doctor struct {
	SES        SES
	SNS        SNS
	Cognito    Cognito
	CloudWatch CloudWatch
	SQS        SQS
	Dynamo     Dynamo
	// HTTP sends the CORS preflights; nil skips them.
	HTTP interface {
		Do(*http.Request) (*http.Response, error)
	}
	// LookupTXT resolves DNS TXT records (net.DefaultResolver.LookupTXT);
	// nil skips the DMARC check.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	Now       func() time.Time
	// Explain turns an AWS error into a sentence with a hint; nil uses
	// the error's text.
	Explain func(error) string
	// SkipNote is the Summary of a skipped check.
	SkipNote string
}

// Run runs every check, in a fixed order, and returns the verdicts.
func (d *Doctor) Run(ctx context.Context, dep Deployment) []Result {
	var out []Result
	add := func(rs ...Result) { out = append(out, rs...) }
	add(d.table(ctx, dep))
	add(d.account(ctx, dep)...)
	add(d.sender(ctx, dep)...)
	add(d.suppression(ctx, dep)...)
	add(d.configurationSets(ctx, dep)...)
	add(d.alarmTopic(ctx, dep))
	add(d.userPool(ctx, dep)...)
	add(d.cors(ctx, dep)...)
	add(d.functionErrors(ctx, dep))
	add(d.deadLetters(ctx, dep))
	return out
}

// Failed reports whether any result is a fail.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

func (d *Doctor) skip(id string) Result {
	note := d.SkipNote
	if note == "" {
		note = "not checked"
	}
	return Result{ID: id, Status: Skip, Summary: note}
}

func (d *Doctor) explain(err error) string {
	if d.Explain != nil {
		return d.Explain(err)
	}
	return err.Error()
}

func (d *Doctor) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// domainOf returns the domain of an address, or the identity itself when
// it is a domain.
func domainOf(identity string) string {
	if at := strings.LastIndexByte(identity, '@'); at >= 0 {
		return identity[at+1:]
	}
	return identity
}
