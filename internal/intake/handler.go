// Package intake is the HTTP side of both intake functions: it turns an
// API Gateway v2 request into a lead.Service call and the outcome into the
// response the website expects, JSON or, for a browser posting a plain
// form, a page (pages.go). functions/contact and functions/consultation
// differ only in the form they pass in.
package intake

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/metrics"
	"github.com/clinicleads/leadpipe/internal/turnstile"
)

// Handler answers one form's submissions.
type Handler struct {
	Service     *lead.Service
	NewForm     func() lead.Form
	ThankYouURL string // where plain form posts are sent after success; empty: a built-in page
	Log         *slog.Logger
	Metrics     *metrics.Counter // the counts below, by form kind; nil counts nothing
}

// Metrics (internal/metrics). A fault answer is a 5xx with a nil Lambda
// error, which the function's Errors metric never sees: these counts are
// what ops' alarms watch.
const (
	// metricFaults counts every 5xx answer: the store down or throttled,
	// a verifier that cannot answer, a programming error.
	metricFaults = "IntakeFaults"
	// metricTurnstileConfig counts siteverify answers that blame the
	// secret or Cloudflare (turnstile.ErrMisconfigured): every visitor is
	// turned away until ops act.
	metricTurnstileConfig = "TurnstileConfigFaults"
	// metricSpam counts stored submissions that filled the honeypot, so a
	// jump (autofill catching people) is seen.
	metricSpam = "SpamCaught"
)

// receivedBody answers a stored submission. Crisis resources go back with
// every one that says the person is in crisis, so the website can show
// them at once, before anyone calls.
type receivedBody struct {
	ID     string           `json:"id"`
	Status string           `json:"status"`
	Crisis *lead.CrisisInfo `json:"crisis,omitempty"`
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
			log.Info("lead received", "leadId", receipt.ID, "kind", form.Kind(), "honeypot", receipt.Spam)
			if receipt.Spam {
				h.Metrics.Count(metricSpam, string(form.Kind()))
			}
			resp := h.received(req, format, receipt)
			if resp.StatusCode >= 500 {
				// Only a ThankYouURL that ConfigFromEnv would refuse gets here.
				log.Error("lead saved, answer failed", "leadId", receipt.ID, "status", resp.StatusCode)
				h.Metrics.Count(metricFaults, string(form.Kind()))
			}
			return resp, nil
		}
	}
	resp := httpapi.Error(err, requestID)
	if format == httpapi.FormatForm && httpapi.WantsHTML(req) {
		// A browser without JavaScript: a page to read, not raw JSON.
		resp = httpapi.ErrorPage(err, requestID, errorPage)
	}
	if resp.StatusCode < 500 {
		log.Info("submission rejected", "status", resp.StatusCode, "code", string(lead.ErrorCode(err)))
		return resp, nil
	}
	// Causes are ours (store, config): their text holds no submitted value.
	log.Error("submission failed", "status", resp.StatusCode, "error", err.Error())
	h.Metrics.Count(metricFaults, string(form.Kind()))
	if errors.Is(err, turnstile.ErrMisconfigured) {
		h.Metrics.Count(metricTurnstileConfig, string(form.Kind()))
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
		body.Crisis = &lead.Crisis
	}
	return httpapi.JSON(http.StatusCreated, body)
}
