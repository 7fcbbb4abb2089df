package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/stack"
	"github.com/clinicleads/leadpipe/internal/notify"
)

type fakeLambda struct {
	got *lambda.InvokeInput
	out *lambda.InvokeOutput
	err error
}

func (f *fakeLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.got = in
	return f.out, f.err
}

func TestLambdaResender(t *testing.T) {
	f := &fakeLambda{out: &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"id":"x","outcome":"sent","sent":["staff"]}`)}}
	r := &lambdaResender{api: f, function: "leadpipe-NotifyFunction-1"}
	res, err := r.Resend(context.Background(), notify.ResendRequest{ID: "x", Confirmation: true})
	if err != nil || res.Outcome != notify.ResendSent {
		t.Fatalf("Resend = %+v, %v", res, err)
	}
	var sent notify.ResendRequest
	if err := json.Unmarshal(f.got.Payload, &sent); err != nil || sent.Leadpipe != notify.ResendEvent || !sent.Confirmation || sent.ID != "x" {
		t.Errorf("payload %s", f.got.Payload)
	}
	if aws.ToString(f.got.FunctionName) != "leadpipe-NotifyFunction-1" || f.got.InvocationType != "" {
		t.Errorf("invoke %+v: want the function, synchronously (RequestResponse is the default)", f.got)
	}

	f.out = &lambda.InvokeOutput{FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`)}
	if _, err := r.Resend(context.Background(), notify.ResendRequest{ID: "x"}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("function error = %v", err)
	}
	// An older notify function answers a resend as an unknown event.
	f.out = &lambda.InvokeOutput{Payload: []byte(`null`)}
	if _, err := r.Resend(context.Background(), notify.ResendRequest{ID: "x"}); err == nil || !strings.Contains(err.Error(), "deploy the stack again") {
		t.Errorf("old function = %v", err)
	}
	f.err = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed to invoke"}
	_, err = r.Resend(context.Background(), notify.ResendRequest{ID: "x"})
	if err == nil || !strings.Contains(explain(err), "permission") {
		t.Errorf("access denied = %v / %s", err, explain(err))
	}
}

type fakeSQSAPI struct {
	received *sqs.ReceiveMessageInput
	deleted  []string
}

func (f *fakeSQSAPI) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.received = in
	return &sqs.ReceiveMessageOutput{Messages: []sqstypes.Message{{MessageId: aws.String("m1"), Body: aws.String("{}"), ReceiptHandle: aws.String("h1")}}}, nil
}

func (f *fakeSQSAPI) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.deleted = append(f.deleted, aws.ToString(in.ReceiptHandle))
	return &sqs.DeleteMessageOutput{}, nil
}

func TestSQSQueue(t *testing.T) {
	f := &fakeSQSAPI{}
	q := &sqsQueue{api: f, url: "https://sqs.us-east-1.amazonaws.com/1/dlq"}
	msgs, err := q.Receive(context.Background(), 25)
	if err != nil || len(msgs) != 1 || msgs[0].ID != "m1" || msgs[0].Handle != "h1" {
		t.Fatalf("Receive = %+v, %v", msgs, err)
	}
	if f.received.MaxNumberOfMessages != 10 || f.received.VisibilityTimeout != visibility || aws.ToString(f.received.QueueUrl) != q.url {
		t.Errorf("ReceiveMessage %+v: want at most SQS's 10, hidden for the run", f.received)
	}
	if err := q.Delete(context.Background(), "h1"); err != nil || len(f.deleted) != 1 {
		t.Errorf("Delete: %v %v", err, f.deleted)
	}
}

func TestExplain(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found"), "no usable AWS credentials"},
		{errors.New("failed to refresh cached credentials, refresh cached SSO token failed"), "aws sso login"},
		{config.SharedConfigProfileNotExistError{Profile: "clinic"}, "aws configure list-profiles"},
		{&smithy.GenericAPIError{Code: "ExpiredToken", Message: "expired"}, "session has expired"},
		{&smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "bad"}, "does not accept these credentials"},
		{&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, "throttling the calls after 10 attempts"},
		{&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}, "throttling"},
		{fmt.Errorf("%w: leadpipe-stagin", stack.ErrNotFound), "check the name"},
		{errors.New("something else"), "something else"},
	} {
		if got := explain(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("explain(%v) = %q, want it to say %q", tt.err, got, tt.want)
		}
	}
}

func TestDoctorReadsTheStack(t *testing.T) {
	tg := &target{name: "leadpipe", region: "us-east-1", table: "leadpipe-LeadsTable-1", info: stack.Info{
		Name: "leadpipe",
		Outputs: map[string]string{"ApiUrl": "https://abc.execute-api.us-east-1.amazonaws.com/prod", "UserPoolId": "us-east-1_x",
			"DeadLetterQueueUrl": "https://sqs.us-east-1.amazonaws.com/1/dlq"},
		Parameters: map[string]string{"SenderIdentity": "myclinic.org", "StaffEmails": "Front@MyClinic.org, nurse@myclinic.org",
			"ConsultationStaffEmails": "nurse@myclinic.org", "EscalationEmails": "lead@myclinic.org", "OncallEmail": "",
			"AllowedOrigins": "https://myclinic.org,https://www.myclinic.org"},
		Resources: map[string]string{"OpsTopic": "arn:aws:sns:us-east-1:1:ops", "SesConfigurationSet": "cs-a", "StaffConfigurationSet": "cs-b",
			"NotifyFunction": "leadpipe-NotifyFunction-1", "ContactFunction": "leadpipe-ContactFunction-1"},
	}}
	d, dep := doctorFor(tg)
	if d.SES == nil || d.SNS == nil || d.Cognito == nil || d.CloudWatch == nil || d.SQS == nil {
		t.Errorf("doctor clients: %+v", d)
	}
	wantStaff := []string{"Front@myclinic.org", "nurse@myclinic.org", "lead@myclinic.org"}
	wantOrigins := []string{"https://myclinic.org", "https://www.myclinic.org"}
	if !reflect.DeepEqual(dep.Staff, wantStaff) || !reflect.DeepEqual(dep.Origins, wantOrigins) {
		t.Errorf("staff %v, origins %v", dep.Staff, dep.Origins)
	}
	if dep.AlarmTopic != "arn:aws:sns:us-east-1:1:ops" || dep.UserPool != "us-east-1_x" || dep.SenderIdentity != "myclinic.org" ||
		dep.ConfigurationSets["StaffConfigurationSet"] != "cs-b" || dep.Functions["NotifyFunction"] != "leadpipe-NotifyFunction-1" ||
		len(dep.Functions) != 2 || dep.DeadLetterQueue == "" || dep.APIURL == "" || dep.Table != "leadpipe-LeadsTable-1" {
		t.Errorf("deployment = %+v", dep)
	}
}
