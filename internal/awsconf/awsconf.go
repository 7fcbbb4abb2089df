// Package awsconf builds the aws.Config the functions share from the AWS
// settings Lambda puts in a function's environment. It replaces
// config.LoadDefaultConfig, which reads shared config files and probes
// credential sources a Lambda never needs, at a cost in start-up time and
// binary size.
//
// The settings are read once, by FromEnv, from the getenv each function's
// configuration is read with (os.Getenv in main), and kept in the function's
// Config: nothing here reads the process environment, so a test or the dev
// stack builds functions for the emulators by handing them a map.
package awsconf

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
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

// Settings are a function's AWS settings: region, credentials and endpoint
// overrides. The zero value has no region and no credentials; FromEnv makes
// a usable one. Printing Settings never shows the credentials.
type Settings struct {
	// Region is AWS_REGION, else AWS_DEFAULT_REGION.
	Region string

	accessKeyID, secretAccessKey, sessionToken string

	// endpoint is AWS_ENDPOINT_URL; endpoints holds AWS_ENDPOINT_URL_<SERVICE>
	// by service id, for the services named to FromEnv.
	endpoint  string
	endpoints map[string]string
}

// FromEnv reads the settings with getenv: the region (AWS_REGION, else
// AWS_DEFAULT_REGION), the credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; Lambda sets them from the
// function's role) and the SDK's endpoint overrides, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> for each of services (the SDK's service ids,
// such as dynamodb.ServiceID). Every error names the variable.
func FromEnv(getenv func(string) string, services ...string) (Settings, error) {
	s := Settings{
		Region:          strings.TrimSpace(getenv("AWS_REGION")),
		accessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		secretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		sessionToken:    getenv("AWS_SESSION_TOKEN"),
	}
	if s.Region == "" {
		s.Region = strings.TrimSpace(getenv("AWS_DEFAULT_REGION"))
	}
	if s.Region == "" {
		return Settings{}, errors.New("missing environment variable AWS_REGION")
	}
	if s.accessKeyID == "" || s.secretAccessKey == "" {
		return Settings{}, errors.New("missing environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role)")
	}
	var err error
	if s.endpoint, err = endpointURL(getenv, "AWS_ENDPOINT_URL"); err != nil {
		return Settings{}, err
	}
	for _, svc := range services {
		u, err := endpointURL(getenv, EndpointVariable(svc))
		if err != nil {
			return Settings{}, err
		}
		if u != "" {
			if s.endpoints == nil {
				s.endpoints = map[string]string{}
			}
			s.endpoints[svc] = u
		}
	}
	return s, nil
}

// EndpointVariable is the SDK's variable that overrides the endpoint of a
// service: "DynamoDB" gives AWS_ENDPOINT_URL_DYNAMODB, "SESv2"
// AWS_ENDPOINT_URL_SESV2.
func EndpointVariable(service string) string {
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
}

// endpointURL reads an endpoint override, which must be an absolute http(s)
// URL: a typo here would otherwise surface as a confusing error on the
// first request.
func endpointURL(getenv func(string) string, name string) (string, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s must be an absolute http(s) URL such as http://127.0.0.1:8000", name)
	}
	return v, nil
}

// Config returns an aws.Config for the settings, with a new keep-alive HTTP
// client (shared by every client built from this config) and a standard
// retryer, made anew for each client.
func (s Settings) Config() aws.Config {
	return aws.Config{
		Region:      s.Region,
		Credentials: credentials.NewStaticCredentialsProvider(s.accessKeyID, s.secretAccessKey, s.sessionToken),
		HTTPClient:  HTTPClient(),
		Retryer:     NewRetryer,
	}
}

// Endpoint returns the endpoint override for service: its own variable (if
// service was named to FromEnv) or else AWS_ENDPOINT_URL, or nil to use
// AWS's own endpoint.
func (s Settings) Endpoint(service string) *string {
	if u := s.endpoints[service]; u != "" {
		return aws.String(u)
	}
	if s.endpoint != "" {
		return aws.String(s.endpoint)
	}
	return nil
}

// String describes the settings without the credentials, so a config
// printed in a log or a test failure never shows a secret.
func (s Settings) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "region %s", s.Region)
	if s.accessKeyID != "" {
		b.WriteString(", credentials set")
	}
	if s.endpoint != "" {
		fmt.Fprintf(&b, ", endpoint %s", s.endpoint)
	}
	for _, svc := range slices.Sorted(maps.Keys(s.endpoints)) {
		fmt.Fprintf(&b, ", %s endpoint %s", svc, s.endpoints[svc])
	}
	return b.String()
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
