package doctor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	cogtypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dyntypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// Hand-written fakes: one function field per call.

type fakeSES struct {
	account    func() (*sesv2.GetAccountOutput, error)
	identity   func(name string) (*sesv2.GetEmailIdentityOutput, error)
	suppressed func(addr string) (*sesv2.GetSuppressedDestinationOutput, error)
	configSet  func(name string) (*sesv2.GetConfigurationSetOutput, error)
}

func (f *fakeSES) GetAccount(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	return f.account()
}
func (f *fakeSES) GetEmailIdentity(_ context.Context, in *sesv2.GetEmailIdentityInput, _ ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	return f.identity(aws.ToString(in.EmailIdentity))
}
func (f *fakeSES) GetSuppressedDestination(_ context.Context, in *sesv2.GetSuppressedDestinationInput, _ ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error) {
	return f.suppressed(aws.ToString(in.EmailAddress))
}
func (f *fakeSES) GetConfigurationSet(_ context.Context, in *sesv2.GetConfigurationSetInput, _ ...func(*sesv2.Options)) (*sesv2.GetConfigurationSetOutput, error) {
	return f.configSet(aws.ToString(in.ConfigurationSetName))
}

type fakeSNS struct {
	pages []*sns.ListSubscriptionsByTopicOutput
	err   error
}

func (f *fakeSNS) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	i := 0
	if in.NextToken != nil {
		i = int(aws.ToString(in.NextToken)[0] - '0')
	}
	return f.pages[i], nil
}

type fakeCognito struct {
	mfa    cogtypes.UserPoolMfaType
	admins []cogtypes.UserType
	err    error
}

func (f *fakeCognito) DescribeUserPool(context.Context, *cognitoidentityprovider.DescribeUserPoolInput, ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.DescribeUserPoolOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &cognitoidentityprovider.DescribeUserPoolOutput{UserPool: &cogtypes.UserPoolType{MfaConfiguration: f.mfa}}, nil
}
func (f *fakeCognito) ListUsersInGroup(_ context.Context, in *cognitoidentityprovider.ListUsersInGroupInput, _ ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.ListUsersInGroupOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if aws.ToString(in.GroupName) != "admin" {
		return &cognitoidentityprovider.ListUsersInGroupOutput{}, nil
	}
	return &cognitoidentityprovider.ListUsersInGroupOutput{Users: f.admins}, nil
}

type fakeCloudWatch struct {
	errors map[string]float64 // by function name
	err    error
	got    *cloudwatch.GetMetricDataInput
}

func (f *fakeCloudWatch) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.got = in
	if f.err != nil {
		return nil, f.err
	}
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		fn := aws.ToString(q.MetricStat.Metric.Dimensions[0].Value)
		var values []float64
		if n, ok := f.errors[fn]; ok {
			values = []float64{n}
		}
		out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{Id: q.Id, Values: values})
	}
	return out, nil
}

type fakeSQS struct{ depth string }

func (f *fakeSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"ApproximateNumberOfMessages": f.depth}}, nil
}

type fakeDynamo struct {
	status  dyntypes.TableStatus
	indexes []string
	err     error
}

func (f *fakeDynamo) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	t := &dyntypes.TableDescription{TableStatus: f.status}
	for _, n := range f.indexes {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, dyntypes.GlobalSecondaryIndexDescription{IndexName: aws.String(n)})
	}
	return &dynamodb.DescribeTableOutput{Table: t}, nil
}

var notFound = &sestypes.NotFoundException{Message: aws.String("not found")}

// world is a healthy deployment; each case breaks one thing.
type world struct {
	ses     *fakeSES
	sns     *fakeSNS
	cognito *fakeCognito
	cw      *fakeCloudWatch
	sqs     *fakeSQS
	dyn     *fakeDynamo
	cors    http.HandlerFunc
	txt     func(name string) ([]string, error)
}

func healthy() *world {
	verified := func(name string) (*sesv2.GetEmailIdentityOutput, error) {
		if name != "myclinic.org" {
			return nil, notFound
		}
		return &sesv2.GetEmailIdentityOutput{
			IdentityType:             sestypes.IdentityTypeDomain,
			VerifiedForSendingStatus: true,
			DkimAttributes:           &sestypes.DkimAttributes{Status: sestypes.DkimStatusSuccess, SigningEnabled: true},
			MailFromAttributes:       &sestypes.MailFromAttributes{MailFromDomain: aws.String("mail.myclinic.org"), MailFromDomainStatus: sestypes.MailFromDomainStatusSuccess},
		}, nil
	}
	return &world{
		ses: &fakeSES{
			account: func() (*sesv2.GetAccountOutput, error) {
				return &sesv2.GetAccountOutput{SendingEnabled: true, ProductionAccessEnabled: true, EnforcementStatus: aws.String("HEALTHY")}, nil
			},
			identity:   verified,
			suppressed: func(string) (*sesv2.GetSuppressedDestinationOutput, error) { return nil, notFound },
			configSet: func(string) (*sesv2.GetConfigurationSetOutput, error) {
				return &sesv2.GetConfigurationSetOutput{SuppressionOptions: &sestypes.SuppressionOptions{}}, nil
			},
		},
		sns: &fakeSNS{pages: []*sns.ListSubscriptionsByTopicOutput{{
			Subscriptions: []snstypes.Subscription{{SubscriptionArn: aws.String("arn:aws:sns:us-east-1:1:ops:abc")}},
		}}},
		cognito: &fakeCognito{mfa: cogtypes.UserPoolMfaTypeOn, admins: []cogtypes.UserType{{Username: aws.String("pat@myclinic.org"), Enabled: true}}},
		cw:      &fakeCloudWatch{},
		sqs:     &fakeSQS{depth: "0"},
		dyn:     &fakeDynamo{status: dyntypes.TableStatusActive, indexes: []string{"ByStatusDate", "ClaimsByLead"}},
		cors: func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions && r.Header.Get("Origin") == "https://www.myclinic.org" {
				w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
				w.Header().Set("Access-Control-Allow-Methods", "OPTIONS,POST")
			}
			w.WriteHeader(http.StatusNoContent)
		},
		txt: func(string) ([]string, error) { return []string{"v=DMARC1; p=quarantine"}, nil },
	}
}

func (w *world) run(t *testing.T) []Result {
	t.Helper()
	srv := httptest.NewServer(w.cors)
	t.Cleanup(srv.Close)
	d := &Doctor{SES: w.ses, SNS: w.sns, Cognito: w.cognito, CloudWatch: w.cw, SQS: w.sqs, Dynamo: w.dyn,
		HTTP:      srv.Client(),
		LookupTXT: func(_ context.Context, name string) ([]string, error) { return w.txt(name) },
		Now:       func() time.Time { return time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC) },
	}
	return d.Run(context.Background(), Deployment{
		Region: "us-east-1", Table: "leads-x", SenderIdentity: "myclinic.org",
		Staff:                 []string{"frontdesk@myclinic.org", "nurse@myclinic.org"},
		ConfigurationSets:     map[string]string{"SesConfigurationSet": "cs-confirm", "StaffConfigurationSet": "cs-staff"},
		StaffConfigurationSet: "StaffConfigurationSet",
		AlarmTopic:            "arn:aws:sns:us-east-1:1:ops", UserPool: "us-east-1_abc",
		APIURL: srv.URL + "/prod", Origins: []string{"https://www.myclinic.org"},
		Functions:       map[string]string{"ContactFunction": "fn-contact", "NotifyFunction": "fn-notify"},
		DeadLetterQueue: "https://sqs.example/dlq",
	})
}

func find(t *testing.T, rs []Result, id string) Result {
	t.Helper()
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no check %s in %+v", id, rs)
	return Result{}
}

func TestHealthyDeploymentPasses(t *testing.T) {
	rs := healthy().run(t)
	if len(rs) != 17 {
		t.Errorf("%d checks, want 17", len(rs))
	}
	for _, r := range rs {
		if r.Status != Pass {
			t.Errorf("%s = %s (%s), want pass", r.ID, r.Status, r.Summary)
		}
	}
	if Failed(rs) {
		t.Error("Failed = true for a healthy deployment")
	}
}

func TestChecks(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	for _, tt := range []struct {
		name   string
		breaks func(w *world)
		id     string
		want   Status
		says   string
	}{
		{"table missing", func(w *world) { w.dyn.err = &dyntypes.ResourceNotFoundException{Message: aws.String("no table")} }, "dynamodb.table", Fail, "cannot read"},
		{"table updating", func(w *world) { w.dyn.status = dyntypes.TableStatusUpdating }, "dynamodb.table", Warn, "UPDATING"},
		{"table without claims index", func(w *world) { w.dyn.indexes = nil }, "dynamodb.table", Pass, "no ClaimsByLead"},

		{"sending paused", func(w *world) {
			w.ses.account = func() (*sesv2.GetAccountOutput, error) {
				return &sesv2.GetAccountOutput{SendingEnabled: false, ProductionAccessEnabled: true}, nil
			}
		}, "ses.sending", Fail, "paused"},
		{"account on probation", func(w *world) {
			w.ses.account = func() (*sesv2.GetAccountOutput, error) {
				return &sesv2.GetAccountOutput{SendingEnabled: true, ProductionAccessEnabled: true, EnforcementStatus: aws.String("PROBATION")}, nil
			}
		}, "ses.sending", Warn, "PROBATION"},
		{"account unreadable", func(w *world) {
			w.ses.account = func() (*sesv2.GetAccountOutput, error) { return nil, throttled }
		}, "ses.production-access", Fail, "Rate exceeded"},
		{"sandbox, staff verified through the domain", func(w *world) {
			w.ses.account = func() (*sesv2.GetAccountOutput, error) { return &sesv2.GetAccountOutput{SendingEnabled: true}, nil }
		}, "ses.production-access", Warn, "sandbox"},
		{"sandbox, a staff address unverified", func(w *world) {
			w.ses.account = func() (*sesv2.GetAccountOutput, error) { return &sesv2.GetAccountOutput{SendingEnabled: true}, nil }
			healthyIdentity := w.ses.identity
			w.ses.identity = func(name string) (*sesv2.GetEmailIdentityOutput, error) {
				switch name {
				case "frontdesk@myclinic.org":
					return &sesv2.GetEmailIdentityOutput{VerifiedForSendingStatus: true}, nil
				case "myclinic.org":
					out, err := healthyIdentity(name)
					if err == nil {
						out.VerifiedForSendingStatus = false
					}
					return out, err
				}
				return nil, notFound
			}
		}, "ses.production-access", Fail, "nurse@myclinic.org"},

		{"sender missing", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) { return nil, notFound }
		}, "ses.sender", Fail, "does not exist"},
		{"sender pending", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) {
				return &sesv2.GetEmailIdentityOutput{VerificationStatus: sestypes.VerificationStatusPending}, nil
			}
		}, "ses.sender", Fail, "not verified"},
		{"DKIM pending", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) {
				return &sesv2.GetEmailIdentityOutput{IdentityType: sestypes.IdentityTypeDomain, VerifiedForSendingStatus: true,
					DkimAttributes: &sestypes.DkimAttributes{Status: sestypes.DkimStatusPending, SigningEnabled: true}}, nil
			}
		}, "ses.dkim", Fail, "PENDING"},
		{"DKIM signing off", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) {
				return &sesv2.GetEmailIdentityOutput{IdentityType: sestypes.IdentityTypeDomain, VerifiedForSendingStatus: true,
					DkimAttributes: &sestypes.DkimAttributes{Status: sestypes.DkimStatusSuccess}}, nil
			}
		}, "ses.dkim", Fail, "turned off"},
		{"address identity, no DKIM of the clinic", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) {
				return &sesv2.GetEmailIdentityOutput{IdentityType: sestypes.IdentityTypeEmailAddress, VerifiedForSendingStatus: true}, nil
			}
		}, "ses.dkim", Warn, "address identity"},
		{"no MAIL FROM domain", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) {
				return &sesv2.GetEmailIdentityOutput{VerifiedForSendingStatus: true,
					DkimAttributes: &sestypes.DkimAttributes{Status: sestypes.DkimStatusSuccess, SigningEnabled: true}}, nil
			}
		}, "ses.spf", Warn, "no custom MAIL FROM"},
		{"MAIL FROM pending", func(w *world) {
			w.ses.identity = func(string) (*sesv2.GetEmailIdentityOutput, error) {
				return &sesv2.GetEmailIdentityOutput{VerifiedForSendingStatus: true,
					DkimAttributes:     &sestypes.DkimAttributes{Status: sestypes.DkimStatusSuccess, SigningEnabled: true},
					MailFromAttributes: &sestypes.MailFromAttributes{MailFromDomain: aws.String("mail.myclinic.org"), MailFromDomainStatus: sestypes.MailFromDomainStatusPending}}, nil
			}
		}, "ses.spf", Warn, "PENDING"},
		{"no DMARC record", func(w *world) {
			w.txt = func(name string) ([]string, error) {
				return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
			}
		}, "ses.dmarc", Warn, "no DMARC record"},
		{"TXT records but none DMARC", func(w *world) {
			w.txt = func(string) ([]string, error) { return []string{"v=spf1 -all"}, nil }
		}, "ses.dmarc", Warn, "no DMARC record"},
		{"DNS down", func(w *world) {
			w.txt = func(string) ([]string, error) { return nil, errors.New("i/o timeout") }
		}, "ses.dmarc", Warn, "could not look up"},

		{"staff address suppressed", func(w *world) {
			w.ses.suppressed = func(a string) (*sesv2.GetSuppressedDestinationOutput, error) {
				if a != "nurse@myclinic.org" {
					return nil, notFound
				}
				at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
				return &sesv2.GetSuppressedDestinationOutput{SuppressedDestination: &sestypes.SuppressedDestination{
					EmailAddress: aws.String(a), Reason: sestypes.SuppressionListReasonBounce, LastUpdateTime: &at}}, nil
			}
		}, "ses.suppression.nurse@myclinic.org", Fail, "BOUNCE since 2026-11-30"},
		{"suppression check fails", func(w *world) {
			w.ses.suppressed = func(string) (*sesv2.GetSuppressedDestinationOutput, error) { return nil, throttled }
		}, "ses.suppression.frontdesk@myclinic.org", Fail, "cannot check"},

		{"configuration set missing", func(w *world) {
			w.ses.configSet = func(name string) (*sesv2.GetConfigurationSetOutput, error) {
				if name == "cs-staff" {
					return nil, notFound
				}
				return &sesv2.GetConfigurationSetOutput{}, nil
			}
		}, "ses.configuration-set.StaffConfigurationSet", Fail, "does not exist"},
		{"staff set suppresses", func(w *world) {
			w.ses.configSet = func(string) (*sesv2.GetConfigurationSetOutput, error) {
				return &sesv2.GetConfigurationSetOutput{SuppressionOptions: &sestypes.SuppressionOptions{
					SuppressedReasons: []sestypes.SuppressionListReason{sestypes.SuppressionListReasonBounce}}}, nil
			}
		}, "ses.configuration-set.StaffConfigurationSet", Warn, "suppresses"},

		{"subscription pending", func(w *world) {
			w.sns.pages = []*sns.ListSubscriptionsByTopicOutput{{Subscriptions: []snstypes.Subscription{{SubscriptionArn: aws.String("PendingConfirmation")}}}}
		}, "alarms.subscription", Fail, "never confirmed"},
		{"no subscription", func(w *world) {
			w.sns.pages = []*sns.ListSubscriptionsByTopicOutput{{}}
		}, "alarms.subscription", Fail, "no subscription"},
		{"confirmed on the second page", func(w *world) {
			w.sns.pages = []*sns.ListSubscriptionsByTopicOutput{
				{Subscriptions: []snstypes.Subscription{{SubscriptionArn: aws.String("PendingConfirmation")}}, NextToken: aws.String("1")},
				{Subscriptions: []snstypes.Subscription{{SubscriptionArn: aws.String("arn:aws:sns:x:1:ops:y")}}},
			}
		}, "alarms.subscription", Pass, "1 confirmed"},

		{"MFA optional", func(w *world) { w.cognito.mfa = cogtypes.UserPoolMfaTypeOptional }, "cognito.mfa", Fail, "OPTIONAL"},
		{"no admin", func(w *world) { w.cognito.admins = nil }, "cognito.admin", Fail, "no enabled user"},
		{"only a disabled admin", func(w *world) { w.cognito.admins[0].Enabled = false }, "cognito.admin", Fail, "no enabled user"},
		{"pool unreadable", func(w *world) {
			w.cognito.err = &cogtypes.ResourceNotFoundException{Message: aws.String("no pool")}
		}, "cognito.mfa", Fail, "cannot read"},

		{"CORS refuses the origin", func(w *world) {
			w.cors = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
		}, "api.cors.https://www.myclinic.org", Fail, "Access-Control-Allow-Origin"},
		{"CORS on one route only", func(w *world) {
			healthy := w.cors
			w.cors = func(rw http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/consultations") {
					rw.WriteHeader(http.StatusNotFound)
					return
				}
				healthy(rw, r)
			}
		}, "api.cors.https://www.myclinic.org", Fail, "/consultations: answered 404"},

		{"notify errors", func(w *world) { w.cw.errors = map[string]float64{"fn-notify": 3} }, "lambda.errors", Warn, "NotifyFunction 3"},
		{"metrics unreadable", func(w *world) { w.cw.err = throttled }, "lambda.errors", Fail, "cannot read"},

		{"dead letters waiting", func(w *world) { w.sqs.depth = "2" }, "notify.dead-letters", Warn, "2 failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := healthy()
			tt.breaks(w)
			rs := w.run(t)
			got := find(t, rs, tt.id)
			if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
				t.Errorf("%s = %s %q, want %s saying %q", tt.id, got.Status, got.Summary, tt.want, tt.says)
			}
			if (tt.want == Fail || tt.want == Warn) && got.Fix == "" && !strings.Contains(got.Summary, "cannot") {
				t.Errorf("%s is %s without a fix", tt.id, got.Status)
			}
			if Failed(rs) != (tt.want == Fail) {
				t.Errorf("Failed = %v with %s %s", Failed(rs), tt.id, tt.want)
			}
		})
	}
}

func TestErrorWindowIsThePastDay(t *testing.T) {
	w := healthy()
	w.run(t)
	in := w.cw.got
	if got := in.EndTime.Sub(*in.StartTime); got != 24*time.Hour {
		t.Errorf("window = %v, want 24h", got)
	}
	if len(in.MetricDataQueries) != 2 || aws.ToString(in.MetricDataQueries[0].MetricStat.Metric.MetricName) != "Errors" {
		t.Errorf("queries = %+v", in.MetricDataQueries)
	}
}

func TestNilClientsSkip(t *testing.T) {
	d := &Doctor{SkipNote: "not emulated locally"}
	rs := d.Run(context.Background(), Deployment{Staff: []string{"a@b.org"}, Origins: []string{"http://127.0.0.1:3000"},
		ConfigurationSets: map[string]string{"SesConfigurationSet": "x"}})
	for _, r := range rs {
		if r.Status != Skip || r.Summary != "not emulated locally" {
			t.Errorf("%s = %s %q, want skip", r.ID, r.Status, r.Summary)
		}
	}
	if Failed(rs) {
		t.Error("skips count as failures")
	}
}
