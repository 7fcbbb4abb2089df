// Package awsconf builds the aws.Config the functions share, straight from
// the environment Lambda provides. It replaces config.LoadDefaultConfig,
// which reads shared config files and probes credential sources a Lambda
// never needs, at a cost in start-up time and binary size.
package awsconf

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Retry policy for every client: the SDK's standard mode, bounded so a
// request never outlives its caller's time budget.
const (
	MaxAttempts = 3
	MaxBackoff  = 500 * time.Millisecond
)

// idleTimeout stays below the idle timeout of AWS's load balancers, so a
// kept-alive connection is never reused just as the far side drops it.
const idleTimeout = 30 * time.Second

// FromEnv returns a config for the region and credentials in the standard
// variables (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), with one shared keep-alive HTTP client and a standard
// retryer, made anew for each client that is built from the config.
func FromEnv() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("missing environment variable AWS_REGION")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("missing environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role)")
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN")),
		HTTPClient:  HTTPClient(),
		Retryer:     NewRetryer,
	}, nil
}

// NewRetryer is the retry policy; aws.Config calls it once per client.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
	})
}

// HTTPClient returns a client with keep-alive and bounded connection set-up.
// The caller's context bounds each whole request.
func HTTPClient() *http.Client {
	return &http.Client{Transport: keepBodyReads{&http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   2 * time.Second,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       idleTimeout,
		ResponseHeaderTimeout: 10 * time.Second,
		ForceAttemptHTTP2:     true,
	}}}
}

// keepBodyReads hides the request body's WriteTo from net/http. smithy-go
// closes a request body as soon as the response arrives; net/http's writer
// may still make a last read through WriteTo, get an error from the closed
// body and drop a healthy connection, so a warm function opened a new
// connection (a TLS handshake, on AWS) every few calls. Reading through
// plain Read keeps them alive (TestConnectionsAreReused).
type keepBodyReads struct{ next *http.Transport }

func (t keepBodyReads) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r2 := *r
		r2.Body = struct{ io.ReadCloser }{r.Body}
		r = &r2
	}
	return t.next.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t keepBodyReads) CloseIdleConnections() { t.next.CloseIdleConnections() }

// Endpoint returns the endpoint override for a service from the SDK's
// standard variables, AWS_ENDPOINT_URL_<SERVICE> then AWS_ENDPOINT_URL, or
// nil to use AWS's own endpoint. service is the SDK's service id, such as
// "DynamoDB" or "SESv2".
func Endpoint(service string) *string {
	name := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
	for _, v := range []string{os.Getenv(name), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return aws.String(v)
		}
	}
	return nil
}
