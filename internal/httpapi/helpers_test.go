package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func request(contentType, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Headers: map[string]string{"content-type": contentType},
		Body:    body,
	}
}

// mapped is what a client sees of an error: the status and the body's codes.
type mapped struct {
	Status int
	Code   string
	Field  string
}

// mapErr runs err through Error, as a handler would.
func mapErr(t *testing.T, err error) mapped {
	t.Helper()
	resp := Error(err, "req-1")
	var body struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if e := json.Unmarshal([]byte(resp.Body), &body); e != nil {
		t.Fatalf("error body is not JSON: %v: %s", e, resp.Body)
	}
	return mapped{Status: resp.StatusCode, Code: body.Error, Field: body.Field}
}
