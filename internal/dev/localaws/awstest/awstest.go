// Package awstest gives tests the local AWS emulators of package localaws and
// SDK clients pointed at them.
//
// Each helper starts a fresh emulator on a free 127.0.0.1 port and stops it in
// t.Cleanup. When an emulator is not installed the test is skipped, unless
// LEADPIPE_REQUIRE_EMULATORS=1 (set by make test and CI), which fails it
// instead, so a missing install step can never pass silently.
package awstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
)

// RequireEnv is the environment variable that turns a missing emulator from
// a skip into a failure.
const RequireEnv = "LEADPIPE_REQUIRE_EMULATORS"

// Dynamo starts dynalite for the test and stops it when the test ends.
func Dynamo(t testing.TB) *localaws.Emulator {
	t.Helper()
	return start(t, func(ctx context.Context) (*localaws.Emulator, error) {
		return localaws.StartDynamo(ctx, localaws.Options{})
	})
}

// SES starts aws-ses-v2-local for the test and stops it when the test ends.
func SES(t testing.TB) *localaws.Emulator {
	t.Helper()
	return start(t, func(ctx context.Context) (*localaws.Emulator, error) {
		return localaws.StartSES(ctx, localaws.Options{})
	})
}

// Cognito starts cognito-local for the test and stops it when the test ends.
func Cognito(t testing.TB) *localaws.Emulator {
	t.Helper()
	return start(t, func(ctx context.Context) (*localaws.Emulator, error) {
		return localaws.StartCognito(ctx, localaws.Options{})
	})
}

// RIE starts the Lambda Runtime Interface Emulator running opts.Binary for
// the test and stops it when the test ends. Without opts.Log the function's
// output goes to t.Log.
func RIE(t testing.TB, opts localaws.RIEOptions) *localaws.Emulator {
	t.Helper()
	if opts.Log == nil {
		opts.Log = testLog{t}
	}
	return start(t, func(ctx context.Context) (*localaws.Emulator, error) {
		return localaws.StartRIE(ctx, opts)
	})
}

// Check handles an error from a localaws Start function: when it says an
// emulator is not installed it skips the test, or fails it if RequireEnv is 1;
// any other non-nil error fails the test.
func Check(t testing.TB, err error) {
	t.Helper()
	switch {
	case err == nil:
	case !errors.Is(err, localaws.ErrNotInstalled):
		t.Fatal(err)
	case os.Getenv(RequireEnv) == "1":
		t.Fatalf("%v (%s=1: emulators are required)", err, RequireEnv)
	default:
		t.Skipf("skipped: %v", err)
	}
}

func start(t testing.TB, fn func(context.Context) (*localaws.Emulator, error)) *localaws.Emulator {
	t.Helper()
	e, err := fn(context.Background())
	Check(t, err)
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// Bootstrap builds the Lambda function in package pkg (a path such as
// "./functions/contact", relative to the module root) the way it is deployed,
// for linux with -tags lambda.norpc, and returns the binary's path in a
// temporary directory.
func Bootstrap(t testing.TB, pkg string) string {
	t.Helper()
	root, err := localaws.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Config is an aws.Config for the emulators: region us-east-1 and dummy
// static credentials, never read from the environment or ~/.aws.
func Config() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
}

// DynamoClient returns a DynamoDB client for the emulator at endpoint.
func DynamoClient(t testing.TB, endpoint string) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// SESClient returns an SES v2 client for the emulator at endpoint.
func SESClient(t testing.TB, endpoint string) *sesv2.Client {
	t.Helper()
	return sesv2.NewFromConfig(Config(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// SentEmail is one mail captured by aws-ses-v2-local, as GET /store lists it.
// Optional fields of the request come back empty, never null: lists are [] and
// a missing body part is "".
type SentEmail struct {
	MessageID string `json:"messageId"` // the MessageId SendEmail returned, "ses-<9 digits>"
	From      string `json:"from"`      // FromEmailAddress as sent
	// ReplyTo is ReplyToAddresses as sent.
	ReplyTo     []string          `json:"replyTo"`
	Destination EmailDestination  `json:"destination"`
	Subject     string            `json:"subject"`
	Body        EmailBody         `json:"body"`
	Headers     []EmailHeader     `json:"headers"`     // Simple.Headers, if any
	Attachments []EmailAttachment `json:"attachments"` // Simple.Attachments, if any
	At          int64             `json:"at"`          // Unix time in seconds when it was captured
}

// EmailDestination is the Destination of a SentEmail.
type EmailDestination struct {
	To  []string `json:"to"`
	Cc  []string `json:"cc"`
	Bcc []string `json:"bcc"`
}

// EmailBody holds a SentEmail's body parts: Simple.Body.Text.Data and
// Simple.Body.Html.Data.
type EmailBody struct {
	Text string `json:"text"`
	HTML string `json:"html"`
}

// EmailHeader is a custom header of a SentEmail.
type EmailHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EmailAttachment is an attachment of a SentEmail.
type EmailAttachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	Content     string `json:"content"` // base64
}

// SESStore returns the mail captured by the SES emulator at endpoint, oldest
// first.
func SESStore(t testing.TB, endpoint string) []SentEmail {
	t.Helper()
	var store struct {
		Emails []SentEmail `json:"emails"`
	}
	resp, err := http.Get(strings.TrimSuffix(endpoint, "/") + "/store")
	if err != nil {
		t.Fatalf("read SES store: %v", err)
	}
	defer resp.Body.Close()
	if err := decode(resp, &store); err != nil {
		t.Fatalf("read SES store: %v", err)
	}
	return store.Emails
}

// ClearSES empties the SES emulator's store of captured mail (and templates).
func ClearSES(t testing.TB, endpoint string) {
	t.Helper()
	resp, err := http.Post(strings.TrimSuffix(endpoint, "/")+"/clear-store", "application/json", nil)
	if err != nil {
		t.Fatalf("clear SES store: %v", err)
	}
	defer resp.Body.Close()
	if err := decode(resp, nil); err != nil {
		t.Fatalf("clear SES store: %v", err)
	}
}

func decode(resp *http.Response, v any) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(body, v)
}

// testLog writes a process's output to the test log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Buffer is a bytes.Buffer safe for a process's output copier (or several
// goroutines) to write while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
