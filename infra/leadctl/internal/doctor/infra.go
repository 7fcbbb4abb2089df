package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	cogtypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dyntypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

func isNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "NotFoundException", "ResourceNotFoundException", "NotFound":
		return true
	}
	return false
}

// table: the leads table is there and active, and whether erasure can
// find idempotency claims (ClaimsByLead).
func (d *Doctor) table(ctx context.Context, dep Deployment) Result {
	if d.Dynamo == nil {
		return d.skip("dynamodb.table")
	}
	out, err := d.Dynamo.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(dep.Table)})
	if err != nil {
		return Result{ID: "dynamodb.table", Status: Fail, Summary: "cannot read the leads table " + dep.Table + ": " + d.explain(err)}
	}
	t := out.Table
	if t.TableStatus != dyntypes.TableStatusActive {
		return Result{ID: "dynamodb.table", Status: Warn, Summary: fmt.Sprintf("the leads table %s is %s", dep.Table, t.TableStatus),
			Fix: "Wait for the stack update to finish (an index being built shows as UPDATING)."}
	}
	r := Result{ID: "dynamodb.table", Status: Pass, Summary: fmt.Sprintf("the leads table %s is active", dep.Table)}
	if !slices.ContainsFunc(t.GlobalSecondaryIndexes, func(g dyntypes.GlobalSecondaryIndexDescription) bool {
		return aws.ToString(g.IndexName) == "ClaimsByLead"
	}) {
		r.Summary += "; it has no ClaimsByLead index, so leadctl erase cannot find a person's idempotency claims (they hold no answers and expire within a day)"
	}
	return r
}

// alarmTopic: at least one confirmed subscription, or alarms reach nobody.
func (d *Doctor) alarmTopic(ctx context.Context, dep Deployment) Result {
	const id = "alarms.subscription"
	if d.SNS == nil {
		return d.skip(id)
	}
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(dep.AlarmTopic)}
	confirmed, pending := 0, 0
	for {
		out, err := d.SNS.ListSubscriptionsByTopic(ctx, in)
		if err != nil {
			return Result{ID: id, Status: Fail, Summary: "cannot list the alarm topic's subscriptions: " + d.explain(err)}
		}
		for _, s := range out.Subscriptions {
			switch arn := aws.ToString(s.SubscriptionArn); arn {
			case "PendingConfirmation":
				pending++
			case "Deleted", "":
			default:
				confirmed++
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	switch {
	case confirmed > 0:
		return Result{ID: id, Status: Pass, Summary: fmt.Sprintf("the alarm topic has %d confirmed subscription(s)", confirmed)}
	case pending > 0:
		return Result{ID: id, Status: Fail, Summary: "the alarm email subscription was never confirmed: alarms reach nobody",
			Fix: "Open the \"AWS Notification - Subscription Confirmation\" email sent to OpsEmail and click Confirm subscription (it expires after 3 days; a redeploy with a new OpsEmail sends another)."}
	}
	return Result{ID: id, Status: Fail, Summary: "the alarm topic has no subscription: alarms reach nobody",
		Fix: "aws sns subscribe --topic-arn " + dep.AlarmTopic + " --protocol email --notification-endpoint ops@yourclinic, then confirm it."}
}

// userPool: MFA required, and at least one enabled admin.
func (d *Doctor) userPool(ctx context.Context, dep Deployment) []Result {
	if d.Cognito == nil {
		return []Result{d.skip("cognito.mfa"), d.skip("cognito.admin")}
	}
	mfa := Result{ID: "cognito.mfa", Status: Pass, Summary: "the staff pool requires MFA"}
	pool, err := d.Cognito.DescribeUserPool(ctx, &cognitoidentityprovider.DescribeUserPoolInput{UserPoolId: aws.String(dep.UserPool)})
	switch {
	case err != nil:
		mfa = Result{ID: "cognito.mfa", Status: Fail, Summary: "cannot read the staff user pool: " + d.explain(err)}
	case pool.UserPool.MfaConfiguration != cogtypes.UserPoolMfaTypeOn:
		mfa = Result{ID: "cognito.mfa", Status: Fail, Summary: fmt.Sprintf("the staff pool's MFA is %s, not required", pool.UserPool.MfaConfiguration),
			Fix: "Deploy the stack again: template.yaml sets MfaConfiguration ON (someone changed it by hand)."}
	}
	admin := Result{ID: "cognito.admin", Status: Fail, Summary: "no enabled user in group admin",
		Fix: "aws cognito-idp admin-create-user --user-pool-id " + dep.UserPool + " --username you@yourclinic ... then admin-add-user-to-group --group-name admin (README, Staff inbox)."}
	in := &cognitoidentityprovider.ListUsersInGroupInput{UserPoolId: aws.String(dep.UserPool), GroupName: aws.String("admin")}
	n := 0
	for {
		out, err := d.Cognito.ListUsersInGroup(ctx, in)
		if err != nil {
			admin = Result{ID: "cognito.admin", Status: Fail, Summary: "cannot list group admin: " + d.explain(err)}
			return []Result{mfa, admin}
		}
		for _, u := range out.Users {
			if u.Enabled {
				n++
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if n > 0 {
		admin = Result{ID: "cognito.admin", Status: Pass, Summary: fmt.Sprintf("%d enabled user(s) in group admin", n)}
	}
	return []Result{mfa, admin}
}

// corsRoutes are the routes a website posts to from a browser.
var corsRoutes = []string{"/contact", "/consultations"}

// cors: the API answers a browser's preflight from each allowed origin.
func (d *Doctor) cors(ctx context.Context, dep Deployment) []Result {
	var out []Result
	for _, origin := range dep.Origins {
		id := "api.cors." + origin
		if d.HTTP == nil {
			out = append(out, d.skip(id))
			continue
		}
		var bad []string
		for _, route := range corsRoutes {
			if msg := d.preflight(ctx, strings.TrimSuffix(dep.APIURL, "/")+route, origin); msg != "" {
				bad = append(bad, route+": "+msg)
			}
		}
		if len(bad) > 0 {
			out = append(out, Result{ID: id, Status: Fail, Summary: "the form API refuses " + origin + "'s browser preflight (" + strings.Join(bad, "; ") + "): its forms cannot post",
				Fix: "List the origin exactly (scheme and host, no path or trailing slash) in the stack's AllowedOrigins and deploy again."})
			continue
		}
		out = append(out, Result{ID: id, Status: Pass, Summary: origin + " may post both forms (CORS preflight answered)"})
	}
	return out
}

// preflight sends a browser's CORS preflight for a form post and returns
// what is wrong with the answer, or "".
func (d *Doctor) preflight(ctx context.Context, url, origin string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, url, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "content-type,idempotency-key")
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode >= 300 {
		return "answered " + resp.Status
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
		return fmt.Sprintf("Access-Control-Allow-Origin is %q", got)
	}
	methods := strings.ToUpper(resp.Header.Get("Access-Control-Allow-Methods"))
	if methods != "*" && !strings.Contains(methods, http.MethodPost) {
		return fmt.Sprintf("Access-Control-Allow-Methods is %q", methods)
	}
	return ""
}

// functionErrors: the functions' Lambda errors over the past day.
func (d *Doctor) functionErrors(ctx context.Context, dep Deployment) Result {
	const id = "lambda.errors"
	if d.CloudWatch == nil {
		return d.skip(id)
	}
	names := slices.Sorted(maps.Keys(dep.Functions))
	var queries []cwtypes.MetricDataQuery
	for i, logical := range names {
		queries = append(queries, cwtypes.MetricDataQuery{
			Id:    aws.String("f" + strconv.Itoa(i)),
			Label: aws.String(logical),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String(dep.Functions[logical])}}},
				Period: aws.Int32(86400),
				Stat:   aws.String("Sum"),
			},
		})
	}
	end := d.now().UTC().Truncate(time.Minute)
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(end.Add(-24 * time.Hour)), EndTime: aws.Time(end)}
	sums := map[string]float64{}
	for {
		out, err := d.CloudWatch.GetMetricData(ctx, in)
		if err != nil {
			return Result{ID: id, Status: Fail, Summary: "cannot read the functions' error counts: " + d.explain(err)}
		}
		for _, r := range out.MetricDataResults {
			i, err := strconv.Atoi(strings.TrimPrefix(aws.ToString(r.Id), "f"))
			if err != nil || i < 0 || i >= len(names) {
				continue
			}
			for _, v := range r.Values {
				sums[names[i]] += v
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	var bad []string
	for _, logical := range names {
		if n := sums[logical]; n > 0 {
			bad = append(bad, fmt.Sprintf("%s %.0f", logical, n))
		}
	}
	if len(bad) > 0 {
		return Result{ID: id, Status: Warn, Summary: "function errors in the past 24 hours: " + strings.Join(bad, ", "),
			Fix: "Read the function's log (docs/runbook.md, Setup: errors <Function>LogGroup) and the alarm emails of the day."}
	}
	return Result{ID: id, Status: Pass, Summary: fmt.Sprintf("no errors in the past 24 hours (%d functions)", len(names))}
}

// deadLetters: the dead-letter queue is empty.
func (d *Doctor) deadLetters(ctx context.Context, dep Deployment) Result {
	const id = "notify.dead-letters"
	if d.SQS == nil {
		return d.skip(id)
	}
	out, err := d.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dep.DeadLetterQueue),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return Result{ID: id, Status: Fail, Summary: "cannot read the dead-letter queue: " + d.explain(err)}
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	if n > 0 {
		return Result{ID: id, Status: Warn, Summary: fmt.Sprintf("%d failed notify batch(es) wait in the dead-letter queue", n),
			Fix: "Fix the cause (docs/runbook.md, DeadLetterQueueNotEmptyAlarm), then: leadctl dlq replay"}
	}
	return Result{ID: id, Status: Pass, Summary: "the dead-letter queue is empty"}
}
