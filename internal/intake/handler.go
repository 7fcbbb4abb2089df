// Package intake is the HTTP side of both intake functions: it turns an
// API Gateway v2 request into a lead.Service call and the outcome into the
// response the website expects. functions/contact and
// functions/consultation differ only in the form they pass in.
package intake

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// Handler answers one form's submissions.
type Handler struct {
	Service     *lead.Service
	NewForm     func() lead.Form
	ThankYouURL string // where plain form posts are sent after success; empty: a built-in page
	Log         *slog.Logger
}

// Crisis resources go back with every submission that says the person is
// in crisis, so the website can show them at once, before anyone calls.
type crisisInfo struct {
	Message   string           `json:"message"`
	Resources []crisisResource `json:"resources"`
}

type crisisResource struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	Phone  string `json:"phone"`
	Text   string `json:"text,omitempty"`
	URL    string `json:"url,omitempty"`
}

var crisis = &crisisInfo{
	Message: "You are not alone. If you are thinking about harming yourself, please reach out now; you do not have to wait for our call.",
	Resources: []crisisResource{
		{Name: "988 Suicide & Crisis Lifeline", Action: "Call or text 988", Phone: "988", Text: "988", URL: "https://988lifeline.org"},
		{Name: "Emergency services", Action: "In an emergency, call 911", Phone: "911"},
	},
}

type receivedBody struct {
	ID     string      `json:"id"`
	Status string      `json:"status"`
	Crisis *crisisInfo `json:"crisis,omitempty"`
}

// Handle is the Lambda handler. Client mistakes are answered with a 4xx and
// a nil error; the error return stays nil for faults too, because API
// Gateway would turn it into a bare 500 without our JSON body.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	requestID := req.RequestContext.RequestID
	log := h.Log.With("requestId", requestID, "route", req.RouteKey)

	form := h.NewForm()
	format, err := httpapi.Decode(req, form)
	if err == nil {
		var receipt lead.Receipt
		receipt, err = h.Service.Submit(ctx, form, lead.Request{
			IdempotencyKey: strings.TrimSpace(httpapi.Header(req, "idempotency-key")),
			ClientIP:       req.RequestContext.HTTP.SourceIP,
			UserAgent:      req.RequestContext.HTTP.UserAgent,
		})
		if err == nil {
			// The lead id is logged; nothing the person typed is.
			log.Info("lead received", "leadId", receipt.ID, "kind", form.Kind())
			return h.received(req, format, receipt), nil
		}
	}
	resp := httpapi.Error(err, requestID)
	if format == httpapi.FormatForm && httpapi.WantsHTML(req) {
		// A browser without JavaScript: a page to read, not raw JSON.
		resp = httpapi.ErrorPage(err, requestID)
	}
	switch code := lead.ErrorCode(err); code {
	case lead.CodeUnavailable, lead.CodeInternal:
		// Causes are ours (store, config): their text holds no submitted value.
		log.Error("submission failed", "status", resp.StatusCode, "error", err.Error())
	default:
		log.Info("submission rejected", "status", resp.StatusCode, "code", string(code))
	}
	return resp, nil
}

func (h *Handler) received(req events.APIGatewayV2HTTPRequest, format httpapi.Format, r lead.Receipt) events.APIGatewayV2HTTPResponse {
	if format == httpapi.FormatForm && !httpapi.WantsJSON(req) {
		// A plain HTML form: send the browser on. The URL is configuration
		// and never carries anything submitted.
		if h.ThankYouURL != "" {
			return httpapi.Redirect(h.ThankYouURL)
		}
		return httpapi.HTML(http.StatusOK, thankYouPage(r.InCrisis))
	}
	body := receivedBody{ID: r.ID, Status: "received"}
	if r.InCrisis {
		body.Crisis = crisis
	}
	return httpapi.JSON(http.StatusCreated, body)
}

// thankYouPage is the page for a plain form post when no THANK_YOU_URL is
// set. It holds nothing submitted.
func thankYouPage(inCrisis bool) string {
	main := "<h1>Thank you. We received your request.</h1>\n"
	if inCrisis {
		main += `<section class="crisis" role="alert"><h2>You do not have to wait for our call</h2>
<p>If you are thinking about harming yourself, call or text <strong>988</strong> (Suicide &amp; Crisis Lifeline) now. In an emergency, call <strong>911</strong>.</p></section>
`
	}
	main += "<p>Someone from our care team will contact you soon.</p>\n" + httpapi.CrisisFooter
	return httpapi.Page("Thank you", main)
}
