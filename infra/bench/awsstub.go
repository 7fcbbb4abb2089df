package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// awsStub answers on loopback like DynamoDB (JSON 1.0 protocol) and SES v2
// (REST JSON) answer a request that succeeded, and keeps what a cost model
// needs: calls per operation and the items written.
//
// By default it speaks TLS, as AWS does, with a certificate the functions
// trust through SSL_CERT_FILE (the system bundle plus the stub's own
// certificate, so the first request also pays for loading the roots, as on
// Lambda). DynamoDB and SES listen on ports of their own, so a function
// that calls both opens two connections, as it does on AWS.
type awsStub struct {
	ln, sesLn   net.Listener
	srv         *http.Server
	url, sesURL string // DynamoDB's endpoint, SES's: two hosts, as on AWS

	// queries answers Query (set before the first request; read-only).
	queries queryAnswers

	mu     sync.Mutex
	calls  map[string]int
	items  map[string]map[string]any // last PutItem item by its "type" attribute
	update map[string]any            // last UpdateItem input
}

func newAWSStub(useTLS bool, dir string) (*awsStub, []string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	sesLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	s := &awsStub{ln: ln, sesLn: sesLn, calls: map[string]int{}, items: map[string]map[string]any{}}
	s.srv = &http.Server{
		Handler: s,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.count("connections")
			}
		},
		ReadHeaderTimeout: 10 * time.Second,
		// DynamoDB and SES answer HTTP/1.1; an empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	var env []string
	if !useTLS {
		s.url, s.sesURL = "http://"+ln.Addr().String(), "http://"+sesLn.Addr().String()
		go s.srv.Serve(ln)
		go s.srv.Serve(sesLn)
		return s, env, nil
	}
	cert, bundle, err := stubCertificate(dir)
	if err != nil {
		ln.Close()
		sesLn.Close()
		return nil, nil, err
	}
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	s.url, s.sesURL = "https://"+ln.Addr().String(), "https://"+sesLn.Addr().String()
	go s.srv.ServeTLS(ln, "", "")
	go s.srv.ServeTLS(sesLn, "", "")
	emptyDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		return nil, nil, err
	}
	env = append(env, "SSL_CERT_FILE="+bundle, "SSL_CERT_DIR="+emptyDir)
	return s, env, nil
}

// setKeepAlive turns connection reuse on or off on the server side: off,
// every request needs a new connection (and TLS handshake), which is what a
// client without keep-alive pays.
func (s *awsStub) setKeepAlive(on bool) { s.srv.SetKeepAlivesEnabled(on) }

func (s *awsStub) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
}

// systemBundles are where Linux distributions keep their CA bundle.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu
	"/etc/pki/tls/certs/ca-bundle.crt",   // Amazon Linux, Fedora
	"/etc/ssl/ca-bundle.pem",             // openSUSE
	"/etc/ssl/cert.pem",                  // Alpine
}

// stubCertificate makes an RSA 2048 certificate for 127.0.0.1 (AWS's
// endpoints use RSA 2048 too) and writes a CA bundle holding the system's
// roots and it.
func stubCertificate(dir string) (tls.Certificate, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "leadpipe bench stub"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	var bundle bytes.Buffer
	for _, f := range systemBundles {
		if b, err := os.ReadFile(f); err == nil {
			bundle.Write(b)
			bundle.WriteString("\n")
			break
		}
	}
	bundle.Write(certPEM)
	path := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(path, bundle.Bytes(), 0o644); err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path, nil
}

func (s *awsStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		s.root(w, r)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); strings.HasPrefix(target, "DynamoDB_20120810.") {
		s.dynamo(w, strings.TrimPrefix(target, "DynamoDB_20120810."), body)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v2/email/outbound-emails" {
		s.count("SESv2.SendEmail")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"MessageId":"bench-message"}`)
		return
	}
	s.count("unknown " + r.Method + " " + r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"message":"the bench stub does not know this call"}`)
}

// root answers GET /, the request a function's connection warm-up sends:
// unauthenticated, it does no work. DynamoDB's endpoints answer it with 200
// and a "healthy" line; SES's stub answers 404 with an error, as an
// endpoint without such a page would. Either leaves the connection open.
func (s *awsStub) root(w http.ResponseWriter, r *http.Request) {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && a.String() == s.sesLn.Addr().String() {
		s.count("SESv2.GET /")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Unknown operation"}`)
		return
	}
	s.count("DynamoDB.GET /")
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "healthy: dynamodb.us-east-1.amazonaws.com ")
}

func (s *awsStub) dynamo(w http.ResponseWriter, op string, body []byte) {
	s.count("DynamoDB." + op)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	out := `{}`
	switch op {
	case "PutItem":
		if item, ok := in["Item"].(map[string]any); ok {
			typ, _ := attrString(item["type"])
			s.mu.Lock()
			s.items[typ] = item
			s.mu.Unlock()
		}
	case "UpdateItem":
		s.mu.Lock()
		s.update = in
		s.mu.Unlock()
	case "GetItem":
		// The lead exists and carries no marks yet: the notifier's normal
		// path. (Intake reads only when a claim is held, which never
		// happens here: every invocation has its own idempotency key.)
		if key, ok := in["Key"].(map[string]any); ok {
			b, _ := json.Marshal(map[string]any{"Item": key})
			out = string(b)
		}
	case "Query":
		// The staff list's page (see queryAnswers).
		b, _ := json.Marshal(s.queries.answer(in))
		out = string(b)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	io.WriteString(w, out)
}

func attrString(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := m["S"].(string)
	return s, ok
}

func (s *awsStub) count(op string) {
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
}

// snapshot returns a copy of the call counts.
func (s *awsStub) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// item returns the last item written with the given "type" attribute.
func (s *awsStub) item(typ string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[typ]
}

func (s *awsStub) lastUpdate() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.update
}
