package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/stack"
	"github.com/clinicleads/leadpipe/internal/dev/devstack"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/notify"
)

// target is the stack a command works on: a deployed one, or the local
// dev stack.
type target struct {
	local bool
	// name says which, for output: the stack's name, or "local".
	name   string
	region string
	table  string
	// actor is who is acting, for audit entries: the caller's IAM
	// identity (its ARN), or "local".
	actor lead.Actor
	db    *dynamodb.Client
	// apiURL is the forms API's base URL (with the stage).
	apiURL string
	// confirmations: the stack sends confirmations (SendConfirmation).
	confirmations bool

	aws  aws.Config      // deployed only
	info stack.Info      // deployed only
	dev  devstack.Config // local only
}

func (t *target) String() string {
	if t.local {
		return "the local dev stack (table " + t.table + ")"
	}
	return "stack " + t.name + " (" + t.region + ")"
}

// connect finds the target: with --local the dev stack, else the stack in
// AWS, after checking the credentials (which also names the caller).
func (a *app) connect(ctx context.Context, c common) (*target, error) {
	if c.local {
		return a.connectLocal(ctx)
	}
	defaults, err := stack.ReadSamconfig(filepath.Join(a.dir, "samconfig.toml"))
	if err != nil {
		return nil, fmt.Errorf("read samconfig.toml: %w", err)
	}
	name := c.stack
	if name == "" {
		name = defaults.StackName
	}
	if name == "" {
		return nil, usagef("which stack? give --stack NAME, or run leadctl where samconfig.toml names it (stack_name); --local works on `make dev`")
	}
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(maxAttempts)}
	switch {
	case c.region != "":
		opts = append(opts, config.WithRegion(c.region))
	case a.getenv("AWS_REGION") == "" && a.getenv("AWS_DEFAULT_REGION") == "" && defaults.Region != "":
		opts = append(opts, config.WithRegion(defaults.Region))
	}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: give --region, set AWS_REGION, or set region in samconfig.toml or your profile")
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("check the AWS credentials: %w", err)
	}
	info, err := stack.Describe(ctx, cloudformation.NewFromConfig(cfg), name)
	if err != nil {
		return nil, err
	}
	table, err := info.Get("LeadsTableName", "LeadsTable")
	if err != nil {
		return nil, err
	}
	return &target{
		name: info.Name, region: cfg.Region, table: table,
		actor:         lead.Actor{Subject: aws.ToString(who.Arn)},
		db:            dynamodb.NewFromConfig(cfg),
		apiURL:        info.Outputs["ApiUrl"],
		confirmations: info.Parameters["SendConfirmation"] == "true",
		aws:           cfg, info: info,
	}, nil
}

// LocalActor is the audit trail's actor for what leadctl does locally.
const LocalActor = "local"

// connectLocal points at `make dev`'s table through the stream proxy (as
// the functions do there: it gives dynalite transactions), on the ports
// the same LEADPIPE_* variables name, and checks that it answers.
func (a *app) connectLocal(ctx context.Context) (*target, error) {
	dc, err := devstack.ConfigFromEnv(a.getenv)
	if err != nil {
		return nil, err
	}
	t := &target{
		local: true, name: "local", region: "us-east-1", table: dc.Table,
		actor:         lead.Actor{Subject: LocalActor},
		apiURL:        localURL(dc.APIPort),
		confirmations: dc.Env["SEND_CONFIRMATION"] == "true",
		dev:           dc,
	}
	t.aws = aws.Config{Region: t.region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	endpoint := localURL(dc.StreamPort)
	t.db = dynamodb.NewFromConfig(t.aws, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := t.db.DescribeTable(cctx, &dynamodb.DescribeTableInput{TableName: &t.table}); err != nil {
		return nil, fmt.Errorf("the dev stack does not answer: no table %q at %s (LEADPIPE_STREAM_PORT, LEADPIPE_TABLE): start it with make dev, with the same LEADPIPE_* settings (%w)",
			t.table, endpoint, err)
	}
	return t, nil
}

func localURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// resender asks the notify function for a resend (notify/resend.go).
type resender interface {
	Resend(ctx context.Context, r notify.ResendRequest) (notify.ResendResult, error)
}

// resender returns the notify function as a resender: in AWS a
// synchronous Lambda Invoke of the stack's notify function; locally the
// notify handler itself, built in this process as the dev stack builds it,
// from the same settings, on the same emulators. Either way the request
// goes through the function's Invoke, as a JSON event.
func (t *target) resender() (resender, error) {
	if t.local {
		h, err := t.localNotify()
		if err != nil {
			return nil, err
		}
		return invokeFunc(h.Invoke), nil
	}
	fn, err := t.info.Get("NotifyFunctionName", "NotifyFunction")
	if err != nil {
		return nil, err
	}
	return &lambdaResender{api: lambda.NewFromConfig(t.aws), function: fn}, nil
}

// invokeFunc is a Lambda handler's Invoke, called in process.
type invokeFunc func(ctx context.Context, payload json.RawMessage) (any, error)

func (f invokeFunc) Resend(ctx context.Context, r notify.ResendRequest) (notify.ResendResult, error) {
	r.Leadpipe = notify.ResendEvent
	payload, err := json.Marshal(r)
	if err != nil {
		return notify.ResendResult{}, err
	}
	out, err := f(ctx, payload)
	if err != nil {
		return notify.ResendResult{}, fmt.Errorf("notify: %w", err)
	}
	// Through JSON, as the answer of a deployed function comes.
	b, err := json.Marshal(out)
	if err != nil {
		return notify.ResendResult{}, err
	}
	return decodeResend(b)
}

func decodeResend(b []byte) (notify.ResendResult, error) {
	var res notify.ResendResult
	if err := json.Unmarshal(b, &res); err != nil || res.Outcome == "" {
		return notify.ResendResult{}, fmt.Errorf("the notify function did not answer a resend (%.200s): is it older than leadctl? deploy the stack again", b)
	}
	return res, nil
}

// lambdaAPI is the part of the Lambda client a resend uses.
type lambdaAPI interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

type lambdaResender struct {
	api      lambdaAPI
	function string
}

func (l *lambdaResender) Resend(ctx context.Context, r notify.ResendRequest) (notify.ResendResult, error) {
	r.Leadpipe = notify.ResendEvent
	payload, err := json.Marshal(r)
	if err != nil {
		return notify.ResendResult{}, err
	}
	out, err := l.api.Invoke(ctx, &lambda.InvokeInput{FunctionName: &l.function, Payload: payload})
	if err != nil {
		return notify.ResendResult{}, fmt.Errorf("invoke %s: %w", l.function, err)
	}
	if out.FunctionError != nil {
		var fe struct {
			Message string `json:"errorMessage"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		return notify.ResendResult{}, fmt.Errorf("the notify function failed (%s): %s", aws.ToString(out.FunctionError), fe.Message)
	}
	return decodeResend(out.Payload)
}

// stdoutMu keeps two in-process notify handlers from swapping os.Stdout
// at once (tests).
var stdoutMu sync.Mutex

// localNotify builds the notify handler as the dev stack does
// (devstack.newNotifier, functions/notify's main), from the dev stack's
// function settings and the AWS settings that point it at the emulators.
func (t *target) localNotify() (*notify.Handler, error) {
	env := maps.Clone(t.dev.Env)
	for k, v := range map[string]string{
		"AWS_REGION":                t.region,
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_ENDPOINT_URL_DYNAMODB": localURL(t.dev.StreamPort),
		"AWS_ENDPOINT_URL_SESV2":    localURL(t.dev.SESPort),
		"LEADS_TABLE":               t.table,
	} {
		env[k] = v
	}
	if env["INBOX_URL"] == "" {
		env["INBOX_URL"] = t.apiURL + "/staff"
	}
	if env["LOG_LEVEL"] == "" {
		env["LOG_LEVEL"] = "warn"
	}
	cfg, err := notify.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("the dev stack's notify settings: %w", err)
	}
	// The handler logs and writes its metrics to stdout, as on Lambda,
	// where stdout is the log. Here stdout is leadctl's answer, so the
	// handler is built while stdout is stderr, and keeps that.
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	saved := os.Stdout
	os.Stdout = os.Stderr
	defer func() { os.Stdout = saved }()
	return notify.New(cfg)
}

// httpClient is for the forms API (smoke) and the CORS preflights.
var httpClient = &http.Client{Timeout: 30 * time.Second}
