package localstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// ViaInvoke returns a Deliver that invokes a function through a Lambda
// invoke API, such as localaws.Emulator.Invoke on the Runtime Interface
// Emulator: the batch goes out as the DynamoDBEvent JSON Lambda sends, and
// the payload that comes back is read as Lambda reads it. A function error
// ({"errorMessage":...}), a timeout (the RIE's plain-text "Task timed
// out...") or any other payload that is not a DynamoDBEventResponse fails
// the whole batch.
func ViaInvoke(invoke func(ctx context.Context, payload []byte) ([]byte, error)) Deliver {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		payload, err := json.Marshal(ev)
		if err != nil {
			return resp, fmt.Errorf("encode stream event: %w", err)
		}
		out, err := invoke(ctx, payload)
		if err != nil {
			return resp, err
		}
		out = bytes.TrimSpace(out)
		var fnErr struct {
			Message *string `json:"errorMessage"`
			Type    string  `json:"errorType"`
		}
		if json.Unmarshal(out, &fnErr) == nil && fnErr.Message != nil {
			return resp, fmt.Errorf("function error %s: %s", fnErr.Type, *fnErr.Message)
		}
		if len(out) == 0 || bytes.Equal(out, []byte("null")) {
			return resp, nil // a handler that returns nothing succeeded
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			const max = 200
			if len(out) > max {
				out = out[:max]
			}
			return events.DynamoDBEventResponse{}, fmt.Errorf("function answered %q, not a DynamoDBEventResponse", out)
		}
		return resp, nil
	}
}
