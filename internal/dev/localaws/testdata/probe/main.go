// Command probe is a throwaway Lambda function for localaws's RIE test: it
// reports what a function sees of its environment and deadline, and fails or
// sleeps on request so the test can see how the RIE reports a function error
// or a timeout.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Fail    bool   `json:"fail"`
	Echo    string `json:"echo"`
	SleepMs int    `json:"sleepMs"`
}

type response struct {
	Echo         string `json:"echo"`
	PID          int    `json:"pid"`
	Timeout      string `json:"timeout"`
	Probe        string `json:"probe"`
	Home         string `json:"home"`
	FunctionName string `json:"functionName"`
	RequestID    string `json:"requestId"`
	DeadlineInMs int64  `json:"deadlineInMs"`
}

func handle(ctx context.Context, req request) (response, error) {
	time.Sleep(time.Duration(req.SleepMs) * time.Millisecond)
	if req.Fail {
		return response{}, errors.New("probe failed on request")
	}
	resp := response{
		Echo:         req.Echo,
		PID:          os.Getpid(),
		Timeout:      os.Getenv("AWS_LAMBDA_FUNCTION_TIMEOUT"),
		Probe:        os.Getenv("LEADPIPE_PROBE"),
		Home:         os.Getenv("HOME"),
		FunctionName: lambdacontext.FunctionName,
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		resp.RequestID = lc.AwsRequestID
	}
	if d, ok := ctx.Deadline(); ok {
		resp.DeadlineInMs = time.Until(d).Milliseconds()
	}
	return resp, nil
}

func main() {
	lambda.Start(handle)
}
