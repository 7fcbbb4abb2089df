package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// cognitoCallTimeout bounds one call to cognito-local, which answers from a
// local file store.
const cognitoCallTimeout = 10 * time.Second

// CognitoError is an error answer of the Cognito API, such as
// NotAuthorizedException for a wrong password.
type CognitoError struct {
	Op      string // the operation called, such as InitiateAuth
	Status  int    // the HTTP status
	Type    string // the error's __type
	Message string
}

func (e *CognitoError) Error() string {
	return fmt.Sprintf("cognito %s: %d %s: %s", e.Op, e.Status, e.Type, e.Message)
}

// CognitoCall calls the Cognito user pools operation op (such as
// "CreateUserPool" or "InitiateAuth") at endpoint with in as its JSON
// request, and decodes the answer into out (which may be nil). The call is
// unsigned: cognito-local checks no signature, and this is for it alone.
// An error answer is a *CognitoError.
func CognitoCall(ctx context.Context, endpoint, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cognitoCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &CognitoError{Op: op, Status: resp.StatusCode}
		var shape struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(answer, &shape) == nil && (shape.Type != "" || shape.Message != "") {
			e.Type, e.Message = shape.Type, shape.Message
		} else {
			e.Message = string(bytes.TrimSpace(answer))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("cognito %s: decode the answer: %w", op, err)
	}
	return nil
}
