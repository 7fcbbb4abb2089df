package sesmail

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newFakeSuppressionList answers GetSuppressedDestination like SES v2:
// 200 with the destination for the addresses in listed (address ->
// reason), 404 NotFoundException for the others, and 500 for every
// address in failing.
func newFakeSuppressionList(t *testing.T, listed map[string]string, failing ...string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	const prefix = "/v2/email/suppression/addresses/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, prefix) {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		addr, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), prefix))
		if err != nil {
			t.Errorf("path %s: %v", r.URL.EscapedPath(), err)
		}
		w.Header().Set("Content-Type", "application/json")
		for _, f := range failing {
			if f == addr {
				w.Header().Set("X-Amzn-ErrorType", "InternalServiceErrorException")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"message":"internal error"}`)
				return
			}
		}
		reason, ok := listed[addr]
		if !ok {
			w.Header().Set("X-Amzn-ErrorType", "NotFoundException:http://internal.amazon.com/coral/com.amazonaws.sesv2/")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"Email address `+addr+` does not exist on your suppression list."}`)
			return
		}
		_, _ = io.WriteString(w, `{"SuppressedDestination":{"EmailAddress":"`+addr+`","Reason":"`+reason+`","LastUpdateTime":1764748800,"Attributes":{"MessageId":"0100018e-test","FeedbackId":"0100018e-feedback"}}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestSuppressedThroughTheSDK(t *testing.T) {
	srv, requests := newFakeSuppressionList(t,
		map[string]string{"frontdesk@clinic.example": "BOUNCE", "Nurse+leads@clinic.example": "COMPLAINT"},
		"broken@clinic.example")
	s := &SuppressionList{Client: GetSuppressedDestinationFunc(testClient(srv.URL).GetSuppressedDestination), CallTimeout: 5 * time.Second}
	for _, c := range []struct {
		address string
		reason  string
		listed  bool
		code    string // ErrorCode of the error; "" for none
	}{
		{"frontdesk@clinic.example", "BOUNCE", true, ""},
		{"Nurse+leads@clinic.example", "COMPLAINT", true, ""},
		{"intake@clinic.example", "", false, ""},
		{"broken@clinic.example", "", false, "InternalServiceErrorException"},
	} {
		reason, listed, err := s.Suppressed(context.Background(), c.address)
		if reason != c.reason || listed != c.listed || ErrorCode(err) != c.code {
			t.Errorf("Suppressed(%s) = %q, %v, %v; want %q, %v, code %q", c.address, reason, listed, err, c.reason, c.listed, c.code)
		}
	}
	// testClient retries a 500 three times; the others take one request.
	if got := requests.Load(); got != 3+3 {
		t.Errorf("%d requests, want 6", got)
	}
}

func TestSuppressedRespectsItsTimeout(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	s := &SuppressionList{Client: GetSuppressedDestinationFunc(testClient(srv.URL).GetSuppressedDestination), CallTimeout: 200 * time.Millisecond}
	start := time.Now()
	_, listed, err := s.Suppressed(context.Background(), "frontdesk@clinic.example")
	if took := time.Since(start); took > 2*time.Second || err == nil || listed || ErrorCode(err) != "timeout" {
		t.Errorf("after %v: listed %v, err %v (code %q); want a timeout within the call timeout", took, listed, err, ErrorCode(err))
	}
}
