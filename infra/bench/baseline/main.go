// Command baseline is the floor the functions are measured against: an
// empty aws-lambda-go function, built with the functions' flags.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev json.RawMessage) (string, error) { return "ok", nil })
}
