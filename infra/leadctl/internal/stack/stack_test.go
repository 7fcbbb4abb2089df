package stack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

type fakeCFN struct {
	describe func(name string) (*cloudformation.DescribeStacksOutput, error)
	pages    []*cloudformation.ListStackResourcesOutput
}

func (f *fakeCFN) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return f.describe(aws.ToString(in.StackName))
}

func (f *fakeCFN) ListStackResources(_ context.Context, in *cloudformation.ListStackResourcesInput, _ ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error) {
	if in.NextToken == nil {
		return f.pages[0], nil
	}
	return f.pages[1], nil
}

func TestDescribe(t *testing.T) {
	api := &fakeCFN{
		describe: func(name string) (*cloudformation.DescribeStacksOutput, error) {
			if name != "leadpipe" {
				return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + name + " does not exist"}
			}
			return &cloudformation.DescribeStacksOutput{Stacks: []types.Stack{{
				StackName: aws.String("leadpipe"), StackStatus: types.StackStatusUpdateComplete,
				Outputs: []types.Output{{OutputKey: aws.String("LeadsTableName"), OutputValue: aws.String("leadpipe-LeadsTable-1")}},
				Parameters: []types.Parameter{
					{ParameterKey: aws.String("StaffEmails"), ParameterValue: aws.String("a@x.org, b@x.org")},
					{ParameterKey: aws.String("ContactStaffEmails"), ParameterValue: aws.String("b@x.org,c@x.org")},
				},
			}}}, nil
		},
		pages: []*cloudformation.ListStackResourcesOutput{
			{StackResourceSummaries: []types.StackResourceSummary{{LogicalResourceId: aws.String("NotifyFunction"), PhysicalResourceId: aws.String("leadpipe-NotifyFunction-9")}}, NextToken: aws.String("p2")},
			{StackResourceSummaries: []types.StackResourceSummary{{LogicalResourceId: aws.String("OpsTopic"), PhysicalResourceId: aws.String("arn:aws:sns:x:1:ops")}}},
		},
	}
	info, err := Describe(context.Background(), api, "leadpipe")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := info.Get("LeadsTableName", "LeadsTable"); err != nil || v != "leadpipe-LeadsTable-1" {
		t.Errorf("table = %q, %v", v, err)
	}
	if v, err := info.Get("NotifyFunctionName", "NotifyFunction"); err != nil || v != "leadpipe-NotifyFunction-9" {
		t.Errorf("notify = %q, %v (from the resources)", v, err)
	}
	if info.Resources["OpsTopic"] != "arn:aws:sns:x:1:ops" {
		t.Errorf("second page of resources not read: %v", info.Resources)
	}
	if _, err := info.Get("Nope", "Nope"); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("Get(missing) = %v", err)
	}
	if got := info.List("StaffEmails", "ContactStaffEmails", "ConsultationStaffEmails"); !reflect.DeepEqual(got, []string{"a@x.org", "b@x.org", "c@x.org"}) {
		t.Errorf("List = %v", got)
	}
	if _, err := Describe(context.Background(), api, "leadpipe-staging"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Describe(unknown) = %v, want ErrNotFound", err)
	}
}

func TestSamconfig(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		want       Defaults
		wantErr    bool
	}{
		{"the example's layout", `version = 0.1
[default.global.parameters]
stack_name = "leadpipe"   # the stack
region = "eu-west-1"
[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
parameter_overrides = [
  "StageName=prod",
]`, Defaults{StackName: "leadpipe", Region: "eu-west-1"}, false},
		{"deploy wins over global", `[default.global.parameters]
stack_name = 'a'
[default.deploy.parameters]
stack_name = "b"`, Defaults{StackName: "b"}, false},
		{"other environments are not default", `[staging.deploy.parameters]
stack_name = "s"`, Defaults{}, false},
		{"unterminated", `[default.global.parameters]
stack_name = "x`, Defaults{}, true},
		{"not a string", `[default.global.parameters]
stack_name = 3`, Defaults{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSamconfig(strings.NewReader(tt.file))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parse = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if d, err := ReadSamconfig(filepath.Join(t.TempDir(), "samconfig.toml")); err != nil || d != (Defaults{}) {
		t.Errorf("missing file = %+v, %v", d, err)
	}
	// The repository's example parses to its stack name.
	example, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "samconfig.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := parseSamconfig(strings.NewReader(string(example))); err != nil || d.StackName != "leadpipe" {
		t.Errorf("samconfig.example.toml = %+v, %v", d, err)
	}
}
