package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestStubAnswersGETRoot: the warm-up's GET / gets what the endpoints
// answer, on each service's own port, over TLS trusted through the bundle
// the functions get.
func TestStubAnswersGETRoot(t *testing.T) {
	s, env, err := newAWSStub(true, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	pem, err := os.ReadFile(envValue(env, "SSL_CERT_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the bundle")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tt := range []struct {
		url    string
		status int
		body   string
	}{
		{s.url, 200, "healthy: dynamodb."},
		{s.sesURL, 404, "Unknown operation"},
	} {
		resp, err := c.Get(tt.url + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
			t.Errorf("GET %s/ = %d %q, want %d %q", tt.url, resp.StatusCode, b, tt.status, tt.body)
		}
	}
	if s.url == s.sesURL {
		t.Error("DynamoDB and SES share a port: a function would open one connection where AWS needs two")
	}
	got := s.snapshot()
	if got["DynamoDB.GET /"] != 1 || got["SESv2.GET /"] != 1 {
		t.Errorf("calls %v, want one GET / each", got)
	}
}
