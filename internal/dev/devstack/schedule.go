package devstack

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
)

// scheduledTimeout is the notify function's timeout in template.yaml: each
// scheduled run gets as long as it has on AWS.
const scheduledTimeout = 60 * time.Second

// schedule runs the notify function's scheduled run every SweepInterval,
// as the template's schedule does on AWS, until the stack stops. Here one
// run ends before the next starts; on AWS two may overlap, which the runs'
// marks allow for.
func (s *stack) schedule(context.Context) error {
	if s.sweep == nil || s.cfg.SweepInterval <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.SweepInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.runScheduled(ctx)
			}
		}
	}()
	s.onStop(func() error {
		cancel()
		<-done
		return nil
	})
	return nil
}

// runScheduled is one scheduled invocation. The function logs what it did
// to stdout, as on Lambda; a failed run is logged here too, as Lambda
// would report it.
func (s *stack) runScheduled(stack context.Context) {
	ctx, cancel := context.WithTimeout(stack, scheduledTimeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newUUID(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + samtemplate.NotifyFunction,
	})
	res, err := s.sweep(ctx)
	if err != nil && stack.Err() == nil { // not when the stack is stopping
		s.log.Warn("scheduled run of the notify function failed", "error", err)
		return
	}
	s.log.Debug("scheduled run of the notify function", "result", res)
}
