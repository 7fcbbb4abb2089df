package localaws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
)

func TestModuleRoot(t *testing.T) {
	t.Parallel()
	root, err := localaws.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "module github.com/clinicleads/leadpipe\n") {
		t.Errorf("%s/go.mod is not leadpipe's", root)
	}
}

func TestDynamo(t *testing.T) {
	t.Parallel()
	e := awstest.Dynamo(t)
	assertLoopbackOnly(t, e.Port)
	ctx := context.Background()
	db := awstest.DynamoClient(t, e.Endpoint)

	createTable(t, db, "Leads")
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("Leads"),
		Item: map[string]ddbtypes.AttributeValue{
			"pk":   &ddbtypes.AttributeValueMemberS{Value: "LEAD#1"},
			"name": &ddbtypes.AttributeValueMemberS{Value: "Ada"},
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String("Leads"),
		Key:            map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "LEAD#1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	name, ok := out.Item["name"].(*ddbtypes.AttributeValueMemberS)
	if !ok || name.Value != "Ada" {
		t.Errorf("got item %#v, want name Ada", out.Item)
	}
}

func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
}

func TestSES(t *testing.T) {
	t.Parallel()
	e := awstest.SES(t)
	assertLoopbackOnly(t, e.Port)
	ctx := context.Background()
	ses := awstest.SESClient(t, e.Endpoint)

	out, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String("Clinic Leads <leads@clinic.example>"),
		Destination:          &sestypes.Destination{ToAddresses: []string{"staff@clinic.example"}, CcAddresses: []string{"owner@clinic.example"}},
		ReplyToAddresses:     []string{"Ada Lovelace <ada@example.com>"},
		ConfigurationSetName: aws.String("leadpipe"),
		EmailTags:            []sestypes.MessageTag{{Name: aws.String("kind"), Value: aws.String("contact")}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("New contact: Ada"), Charset: aws.String("UTF-8")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String("Ada wrote: hello"), Charset: aws.String("UTF-8")},
				Html: &sestypes.Content{Data: aws.String("<p>Ada wrote: <b>hello</b></p>"), Charset: aws.String("UTF-8")},
			},
			Headers: []sestypes.MessageHeader{{Name: aws.String("X-Lead-ID"), Value: aws.String("LEAD#1")}},
		}},
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}

	got := awstest.SESStore(t, e.Endpoint)
	if len(got) != 1 {
		t.Fatalf("store holds %d emails, want 1: %+v", len(got), got)
	}
	m := got[0]
	want := awstest.SentEmail{
		MessageID:   aws.ToString(out.MessageId),
		From:        "Clinic Leads <leads@clinic.example>",
		ReplyTo:     []string{"Ada Lovelace <ada@example.com>"},
		Destination: awstest.EmailDestination{To: []string{"staff@clinic.example"}, Cc: []string{"owner@clinic.example"}, Bcc: []string{}},
		Subject:     "New contact: Ada",
		Body:        awstest.EmailBody{Text: "Ada wrote: hello", HTML: "<p>Ada wrote: <b>hello</b></p>"},
		Headers:     []awstest.EmailHeader{{Name: "X-Lead-ID", Value: "LEAD#1"}},
		Attachments: []awstest.EmailAttachment{},
		At:          m.At,
	}
	if fmt.Sprintf("%#v", m) != fmt.Sprintf("%#v", want) {
		t.Errorf("stored email:\n got %#v\nwant %#v", m, want)
	}
	if now := time.Now().Unix(); m.At < now-60 || m.At > now+1 {
		t.Errorf("at = %d, want about %d", m.At, now)
	}

	awstest.ClearSES(t, e.Endpoint)
	if got := awstest.SESStore(t, e.Endpoint); len(got) != 0 {
		t.Errorf("store holds %d emails after clear, want 0", len(got))
	}
}

func TestSESRaw(t *testing.T) {
	t.Parallel()
	e := awstest.SES(t)
	raw := "From: leads@clinic.example\r\nTo: staff@clinic.example\r\nReply-To: ada@example.com\r\nSubject: Raw one\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain body\r\n"
	_, err := awstest.SESClient(t, e.Endpoint).SendEmail(context.Background(), &sesv2.SendEmailInput{
		Content: &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte(raw)}},
	})
	if err != nil {
		t.Fatalf("send raw: %v", err)
	}
	got := awstest.SESStore(t, e.Endpoint)
	if len(got) != 1 {
		t.Fatalf("store holds %d emails, want 1", len(got))
	}
	m := got[0]
	if m.From != "leads@clinic.example" || m.Subject != "Raw one" || !slices.Equal(m.Destination.To, []string{"staff@clinic.example"}) ||
		!slices.Equal(m.ReplyTo, []string{"ada@example.com"}) || strings.TrimSpace(m.Body.Text) != "plain body" {
		t.Errorf("stored raw email = %+v", m)
	}
}

// TestStop checks that Stop leaves nothing behind: process gone, port closed.
func TestStop(t *testing.T) {
	t.Parallel()
	for name, start := range map[string]func(context.Context, localaws.Options) (*localaws.Emulator, error){
		"dynalite": localaws.StartDynamo,
		"ses":      localaws.StartSES,
		"cognito":  localaws.StartCognito,
	} {
		t.Run(name, func(t *testing.T) {
			e, err := start(context.Background(), localaws.Options{})
			awstest.Check(t, err)
			if !localaws.Alive(e.PID) || !listening(e.Port) {
				t.Fatalf("%s not running after start", name)
			}
			dir := localaws.DataDir(e)
			if err := e.Stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			assertGone(t, e)
			if _, err := os.Stat(dir); dir != "" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data directory %s left behind (%v)", dir, err)
			}
			if err := e.Stop(); err != nil {
				t.Errorf("second stop: %v", err)
			}
		})
	}
}

// TestSESOutageAndRecovery is the pattern for fault tests: kill an emulator
// like a crash, see calls fail, start a new one on the same port.
func TestSESOutageAndRecovery(t *testing.T) {
	t.Parallel()
	e := awstest.SES(t)
	ses := awstest.SESClient(t, e.Endpoint)
	send := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("leads@clinic.example"),
			Destination:      &sestypes.Destination{ToAddresses: []string{"staff@clinic.example"}},
			Content: &sestypes.EmailContent{Simple: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String("s")},
				Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}},
			}},
		}, func(o *sesv2.Options) { o.RetryMaxAttempts = 1 })
		return err
	}
	if err := send(); err != nil {
		t.Fatalf("send before outage: %v", err)
	}

	e.Kill()
	assertGone(t, e)
	if err := send(); err == nil {
		t.Fatal("send during outage succeeded")
	}

	e2, err := localaws.StartSES(context.Background(), localaws.Options{Port: e.Port})
	awstest.Check(t, err)
	t.Cleanup(func() { e2.Stop() })
	if e2.Endpoint != e.Endpoint {
		t.Fatalf("restarted on %s, want %s", e2.Endpoint, e.Endpoint)
	}
	if err := send(); err != nil {
		t.Fatalf("send after recovery: %v", err)
	}
	if got := awstest.SESStore(t, e2.Endpoint); len(got) != 1 {
		t.Errorf("new emulator holds %d emails, want only the one sent after recovery", len(got))
	}
}

// TestDynamoRestartLosesData documents that a restarted dynalite is empty.
func TestDynamoRestartLosesData(t *testing.T) {
	t.Parallel()
	e := awstest.Dynamo(t)
	createTable(t, awstest.DynamoClient(t, e.Endpoint), "Leads")
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	e2, err := localaws.StartDynamo(context.Background(), localaws.Options{Port: e.Port})
	awstest.Check(t, err)
	t.Cleanup(func() { e2.Stop() })
	_, err = awstest.DynamoClient(t, e2.Endpoint).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("Leads")})
	var notFound *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("describe table after restart: got %v, want ResourceNotFoundException", err)
	}
}

func TestOccupiedPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	want := fmt.Sprintf("port %d on 127.0.0.1 is already in use", port)

	for name, start := range map[string]func(context.Context, localaws.Options) (*localaws.Emulator, error){
		"dynalite": localaws.StartDynamo,
		"ses":      localaws.StartSES,
		"cognito":  localaws.StartCognito,
	} {
		t.Run(name, func(t *testing.T) {
			e, err := start(context.Background(), localaws.Options{Port: port})
			if errors.Is(err, localaws.ErrNotInstalled) {
				awstest.Check(t, err)
			}
			if err == nil {
				e.Stop()
				t.Fatal("started on a taken port")
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

// TestWrapperTakenPort runs the Node wrappers themselves on a taken port, as
// when another process grabs a picked port first: they must say so and exit 3
// (which the Start functions answer with a new port), not report success.
func TestWrapperTakenPort(t *testing.T) {
	t.Parallel()
	root, err := localaws.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "infra", "node_modules")); err != nil {
		awstest.Check(t, fmt.Errorf("infra/node_modules is missing: %w", localaws.ErrNotInstalled))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		awstest.Check(t, fmt.Errorf("node: %w", localaws.ErrNotInstalled))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for _, name := range []string{"dynalite", "ses", "cognito"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			// cognito.js also takes its data directory.
			out, err := exec.CommandContext(ctx, node, filepath.Join(root, "infra", name+".js"), port, t.TempDir()).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("got %v, want exit status 3", err)
			}
			if want := "port " + port + " on 127.0.0.1 is already in use"; !strings.Contains(string(out), want) {
				t.Errorf("output %q does not say %q", out, want)
			}
		})
	}
}

func assertGone(t *testing.T, e *localaws.Emulator) {
	t.Helper()
	if localaws.Alive(e.PID) {
		t.Errorf("%s pid %d still running", e.Name, e.PID)
	}
	if listening(e.Port) {
		t.Errorf("%s port %d still accepts connections", e.Name, e.Port)
	}
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// assertLoopbackOnly reads the kernel's socket tables and checks that every
// listener on port is bound to 127.0.0.1.
func assertLoopbackOnly(t *testing.T, port int) {
	t.Helper()
	hexPort := fmt.Sprintf(":%04X", port)
	var found []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			t.Skipf("no %s: %v", table, err)
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			fields := strings.Fields(s.Text())
			// sl local_address rem_address st ...; st 0A is LISTEN.
			if len(fields) > 3 && fields[3] == "0A" && strings.HasSuffix(fields[1], hexPort) {
				found = append(found, fields[1])
			}
		}
		f.Close()
	}
	if want := []string{"0100007F" + hexPort}; !slices.Equal(found, want) {
		t.Errorf("listeners on port %d: %v, want only 127.0.0.1 (%v)", port, found, want)
	}
}
