package devstack

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/notify"
	"github.com/clinicleads/leadpipe/internal/staff"
)

// httpFunctions are the template's functions behind HTTP API routes, by
// logical ID, each built by the constructors its Lambda main uses. A new
// function is one line here; the routes come from template.yaml.
var httpFunctions = map[string]HTTPFunction{
	"ContactFunction":      intakeFunction(func() lead.Form { return new(lead.Contact) }),
	"ConsultationFunction": intakeFunction(func() lead.Form { return new(lead.Consultation) }),
	"StaffFunction":        handlerOf(staff.ConfigFromEnv, staff.New),
}

// HTTPHandler is a Lambda handler behind the HTTP API (payload format 2.0).
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// HTTPFunction builds a function's handler from its environment: getenv
// answers the variables template.yaml sets on it, plus the AWS settings
// that point it at the emulators (AWS_REGION, dummy credentials,
// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SESV2).
type HTTPFunction func(getenv func(string) string) (HTTPHandler, error)

// httpHandler is what the functions' New returns.
type httpHandler interface {
	Handle(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

// handlerOf makes an HTTPFunction of a function's two constructors, as its
// main calls them: config reads the environment, build makes the handler.
func handlerOf[C any, H httpHandler](config func(getenv func(string) string) (C, error), build func(C) (H, error)) HTTPFunction {
	return func(getenv func(string) string) (HTTPHandler, error) {
		c, err := config(getenv)
		if err != nil {
			return nil, err
		}
		h, err := build(c)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	}
}

// intakeFunction is a form's function, as its main builds it.
func intakeFunction(newForm func() lead.Form) HTTPFunction {
	return handlerOf(intake.ConfigFromEnv, func(c intake.Config) (*intake.Handler, error) { return intake.New(c, newForm) })
}

// Notifier is the notify function in process: Deliver takes the stream's
// batches; Sweep, when not nil, is its scheduled run.
type Notifier struct {
	Deliver localstream.Deliver
	Sweep   func(context.Context) (any, error)
}

// NewNotifier builds the notify function's handlers, in process, from the
// function's environment, like HTTPFunction.
type NewNotifier func(getenv func(string) string) (Notifier, error)

// newNotifier is the default NewNotifier: the notify function's own code,
// built as functions/notify's main builds it, except that the check of
// the staff addresses against SES's suppression list is off
// (aws-ses-v2-local has none).
func newNotifier(getenv func(string) string) (Notifier, error) {
	cfg, err := notify.ConfigFromEnv(getenv)
	if err != nil {
		return Notifier{}, err
	}
	cfg.SkipSuppressionCheck = true
	h, err := notify.New(cfg)
	if err != nil {
		return Notifier{}, err
	}
	return Notifier{Deliver: h.Handle, Sweep: func(ctx context.Context) (any, error) { return h.Sweep(ctx) }}, nil
}
