// Package intake is the HTTP side of both intake functions: it turns an
// API Gateway v2 request into a lead.Service call and the outcome into the
// response the website expects, JSON or, for a browser posting a plain
// form, a page (pages.go). functions/contact and functions/consultation
// differ only in the form they pass in.
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
			log.Info("lead received", "leadId", receipt.ID, "kind", form.Kind())
			return h.received(req, format, receipt), nil
		}
	}
	resp := httpapi.Error(err, requestID)
	if format == httpapi.FormatForm && httpapi.WantsHTML(req) {
		// A browser without JavaScript: a page to read, not raw JSON.
		resp = httpapi.ErrorPage(err, requestID, errorPage)
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
		body.Crisis = &lead.Crisis
	}
	return httpapi.JSON(http.StatusCreated, body)
}
