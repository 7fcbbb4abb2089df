// Package staff is the staff inbox's function: the page (static files
// embedded here), its sign-in settings, and the API that lists, shows and
// changes leads for signed-in staff, recording every view and change in
// the audit trail. functions/staff is only its wiring.
//
// Authorization: API Gateway's JWT authorizer verifies the Cognito access
// token; this package then requires its claims (401 without), token_use
// "access" and the staff or admin group (403 otherwise), before any read
// of the table.
package staff

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// store is the leads table as the inbox uses it. *dynamo.Staff has it.
type store interface {
	// ListLeads makes one Query per call (see dynamo.Staff.ListLeads).
	ListLeads(ctx context.Context, status lead.Status, kind lead.Kind, limit int, start *dynamo.ListKey) (dynamo.Page, error)
	// LeadForStaff reads a lead consistently (dynamo.ErrNotFound).
	LeadForStaff(ctx context.Context, id string) (lead.Lead, dynamo.Marks, error)
	// Audit is the lead's trail, newest first.
	Audit(ctx context.Context, id string) ([]lead.AuditEntry, error)
	// RecordView writes one audit entry.
	RecordView(ctx context.Context, e lead.AuditEntry) error
	// Change applies a change and its audit entries in one transaction
	// and returns the new version (dynamo.ErrNotFound, *dynamo.StaleError,
	// dynamo.ErrConflict when refused).
	Change(ctx context.Context, c dynamo.Change) (int, error)
}

// List page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// Handler answers the staff routes.
type Handler struct {
	store     store
	cursors   cursors
	retention time.Duration
	zone      *time.Location
	sla       sla.Policy
	now       func() time.Time
	log       *slog.Logger

	// For the page and config.json.
	region, userPoolID, clientID, cognitoEndpoint, timeZone string
	csp                                                     string
}

// newHandler builds a Handler on st; region is the AWS region the pool
// is in.
func newHandler(cfg Config, region string, st store, now func() time.Time, log *slog.Logger) *Handler {
	h := &Handler{
		store:           st,
		cursors:         cursors{secret: cfg.CursorSecret},
		retention:       cfg.Retention,
		zone:            time.UTC,
		now:             now,
		log:             log,
		region:          region,
		userPoolID:      cfg.UserPoolID,
		clientID:        cfg.ClientID,
		cognitoEndpoint: cfg.CognitoEndpoint,
	}
	if cfg.TimeZone != nil {
		h.zone, h.timeZone = cfg.TimeZone, cfg.TimeZone.String()
	}
	h.sla = cfg.SLA
	if h.sla.IsZero() {
		h.sla = sla.Default(cfg.TimeZone)
	}
	cognito := cfg.CognitoEndpoint
	if cognito == "" {
		cognito = "https://cognito-idp." + region + ".amazonaws.com"
	}
	h.csp = contentSecurityPolicy(cognito)
	return h
}

// Handle is the Lambda handler. Client mistakes are answered with a 4xx
// and a nil error; faults get their status (503, 500) and a nil error too,
// because API Gateway would turn an error into a bare 500.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	requestID := req.RequestContext.RequestID
	log := h.log.With("requestId", requestID, "route", req.RouteKey)
	route, param := routeOf(req)
	var resp events.APIGatewayV2HTTPResponse
	var err error
	switch route {
	case "GET /staff":
		return h.file("index.html", "text/html; charset=utf-8"), nil
	case "GET /staff/config.json":
		return h.config(), nil
	case "GET /staff/{asset}":
		if param == "config.json" {
			return h.config(), nil
		}
		if ct, ok := assets[param]; ok {
			return h.file(param, ct), nil
		}
		err = lead.Errorf(lead.CodeNotFound, "not found")
	case "GET /staff/leads", "GET /staff/leads/{id}", "PATCH /staff/leads/{id}":
		var who lead.Actor
		if who, err = actor(req); err != nil {
			break
		}
		log = log.With("actor", who.Subject)
		switch route {
		case "GET /staff/leads":
			resp, err = h.list(ctx, req)
		case "GET /staff/leads/{id}":
			resp, err = h.show(ctx, log, req, who, param)
		default:
			resp, err = h.change(ctx, log, req, who, param)
		}
	default:
		err = lead.Errorf(lead.CodeNotFound, "not found")
	}
	if err == nil {
		return resp, nil
	}
	resp = httpapi.Error(err, requestID)
	switch code := lead.ErrorCode(err); code {
	case lead.CodeUnavailable, lead.CodeInternal:
		// Causes are ours (the store): ids and codes, never lead content.
		log.Error("staff request failed", "status", resp.StatusCode, "error", err.Error())
	default:
		log.Info("staff request refused", "status", resp.StatusCode, "code", string(code))
	}
	return resp, nil
}

// routeOf names the route of req and its path parameter. API Gateway
// sets RouteKey to the template's route; with a $default route the
// method and path are matched here instead.
func routeOf(req events.APIGatewayV2HTTPRequest) (route, param string) {
	if req.RouteKey != "" && req.RouteKey != "$default" {
		switch req.RouteKey {
		case "GET /staff/{asset}":
			param = req.PathParameters["asset"]
		case "GET /staff/leads/{id}", "PATCH /staff/leads/{id}":
			param = req.PathParameters["id"]
		}
		return req.RouteKey, param
	}
	method := req.RequestContext.HTTP.Method
	path := req.RawPath
	if stage := req.RequestContext.Stage; stage != "" && stage != "$default" {
		path = strings.TrimPrefix(path, "/"+stage)
	}
	switch {
	case path == "/staff" || path == "/staff/leads" || path == "/staff/config.json":
		return method + " " + path, ""
	case strings.HasPrefix(path, "/staff/leads/"):
		id := strings.TrimPrefix(path, "/staff/leads/")
		if id == "" || strings.Contains(id, "/") {
			return "", ""
		}
		return method + " /staff/leads/{id}", id
	case strings.HasPrefix(path, "/staff/"):
		asset := strings.TrimPrefix(path, "/staff/")
		if asset == "" || strings.Contains(asset, "/") {
			return "", ""
		}
		return method + " /staff/{asset}", asset
	}
	return "", ""
}

// list answers GET /staff/leads: one page of one status, in crisis first,
// newest first.
func (h *Handler) list(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	q := req.QueryStringParameters
	status, kind, limit := lead.StatusNew, lead.Kind(q["kind"]), DefaultLimit
	var fields []lead.FieldError
	if v, ok := q["status"]; ok && v != "" {
		status = lead.Status(v)
		if !status.Valid() {
			fields = append(fields, lead.FieldError{Field: "status", Message: "must be one of " + statusNames()})
		}
	}
	if kind != "" && kind != lead.KindContact && kind != lead.KindConsultation {
		fields = append(fields, lead.FieldError{Field: "kind", Message: "must be contact or consultation"})
	}
	if v, ok := q["limit"]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			fields = append(fields, lead.FieldError{Field: "limit", Message: "must be a whole number from 1 to " + strconv.Itoa(MaxLimit)})
		}
		limit = n
	}
	if fields != nil {
		return events.APIGatewayV2HTTPResponse{}, &lead.Error{Code: lead.CodeInvalid, Message: "some filters need another look", Fields: fields}
	}
	var start *dynamo.ListKey
	if c := q["cursor"]; c != "" {
		k, err := h.cursors.decode(status, kind, c)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, &lead.Error{Code: lead.CodeMalformed,
				Message: "this list position is not valid for these filters; start again from the first page", Err: err}
		}
		start = &k
	}
	page, err := h.store.ListLeads(ctx, status, kind, limit, start)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body := listBody{Leads: make([]rowBody, 0, len(page.Rows))}
	now := h.now()
	for _, r := range page.Rows {
		body.Leads = append(body.Leads, h.row(r, now))
	}
	if page.Next != nil {
		body.Next = h.cursors.encode(status, kind, *page.Next)
	}
	return httpapi.JSON(http.StatusOK, body), nil
}

func notFound() *lead.Error { return lead.Errorf(lead.CodeNotFound, "there is no lead with this id") }

// read reads a lead for staff; an id that cannot be a lead's is not
// looked up.
func (h *Handler) read(ctx context.Context, id string) (lead.Lead, dynamo.Marks, error) {
	if !dynamo.IsLeadID(id) {
		return lead.Lead{}, dynamo.Marks{}, notFound()
	}
	l, m, err := h.store.LeadForStaff(ctx, id)
	if errors.Is(err, dynamo.ErrNotFound) {
		return l, m, notFound()
	}
	return l, m, err
}

// show answers GET /staff/leads/{id}. The view is recorded before
// anything of the lead is shown: when the audit entry cannot be written,
// the answer is 503 and holds nothing of it.
func (h *Handler) show(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, who lead.Actor, id string) (events.APIGatewayV2HTTPResponse, error) {
	l, m, err := h.read(ctx, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	viewed := h.entry(req, who, l.ID, lead.AuditViewed)
	if err := h.store.RecordView(ctx, viewed); err != nil {
		if lead.ErrorCode(err) != lead.CodeUnavailable {
			err = lead.Unavailable(err) // fail closed, whatever the cause
		}
		return events.APIGatewayV2HTTPResponse{}, err
	}
	trail, err := h.store.Audit(ctx, l.ID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	log.Info("lead viewed", "leadId", l.ID)
	return httpapi.JSON(http.StatusOK, h.detail(l, m, withWritten(trail, viewed), h.now())), nil
}

// entry is an audit entry for who doing action to lead id now.
func (h *Handler) entry(req events.APIGatewayV2HTTPRequest, who lead.Actor, id string, action lead.AuditAction) lead.AuditEntry {
	return lead.AuditEntry{
		LeadID:    id,
		At:        h.now().UTC().Truncate(time.Millisecond), // the stored precision
		Actor:     who,
		Action:    action,
		SourceIP:  req.RequestContext.HTTP.SourceIP,
		UserAgent: req.RequestContext.HTTP.UserAgent,
	}
}

// change answers PATCH /staff/leads/{id}: a status move and/or a note,
// made only against the version the staff member saw.
func (h *Handler) change(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, who lead.Actor, id string) (events.APIGatewayV2HTTPResponse, error) {
	if !dynamo.IsLeadID(id) {
		return events.APIGatewayV2HTTPResponse{}, notFound()
	}
	p, err := decodePatch(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	l, m, err := h.read(ctx, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if p.Version != l.Version {
		return events.APIGatewayV2HTTPResponse{}, stale(l.Version)
	}
	if p.Status != "" && !lead.CanMove(l.Status, p.Status) {
		return events.APIGatewayV2HTTPResponse{}, lead.Errorf(lead.CodeConflict,
			"a lead cannot go from %s to %s", l.Status.Label(), p.Status.Label())
	}
	base := h.entry(req, who, l.ID, "")
	c := dynamo.Change{
		LeadID: l.ID, Seen: l.Version, From: l.Status, To: p.Status, Note: p.Note,
		At: base.At, Actor: who, SourceIP: base.SourceIP, UserAgent: base.UserAgent,
	}
	if l.Status == lead.StatusSpam && p.Status == lead.StatusNew {
		// Rescued: the short spam retention gives way to the normal one.
		c.ExpiresAt = l.CreatedAt.Add(h.retention)
	}
	v, err := h.store.Change(ctx, c)
	var se *dynamo.StaleError
	switch {
	case errors.As(err, &se):
		return events.APIGatewayV2HTTPResponse{}, stale(se.Version)
	case errors.Is(err, dynamo.ErrConflict):
		return events.APIGatewayV2HTTPResponse{}, lead.Errorf(lead.CodeConflict, "this lead changed status meanwhile; reload it")
	case errors.Is(err, dynamo.ErrNotFound):
		return events.APIGatewayV2HTTPResponse{}, notFound()
	case err != nil:
		return events.APIGatewayV2HTTPResponse{}, err
	}

	// The lead as the transaction left it; no second read needed.
	var written []lead.AuditEntry
	l.Version = v
	if p.Status != "" {
		l.History = append(l.History, lead.StatusChange{At: c.At, By: who, From: l.Status, To: p.Status})
		e := base
		e.Action, e.From, e.To = lead.AuditStatusChanged, l.Status, p.Status
		written = append(written, e)
		l.Status = p.Status
		if !c.ExpiresAt.IsZero() {
			l.ExpiresAt = c.ExpiresAt
		}
	}
	if p.Note != "" {
		l.Notes = append(l.Notes, lead.Note{At: c.At, By: who, Text: p.Note})
		e := base
		e.Action = lead.AuditNoteAdded
		written = append(written, e)
	}
	log.Info("lead changed", "leadId", l.ID, "from", string(c.From), "to", string(p.Status), "note", p.Note != "", "version", v)
	trail, err := h.store.Audit(ctx, l.ID)
	if err != nil {
		// The change is stored; say so rather than fail the request.
		log.Warn("audit trail not read after a change", "leadId", l.ID, "error", err.Error())
		trail = nil
	}
	return httpapi.JSON(http.StatusOK, h.detail(l, m, withWritten(trail, written...), h.now())), nil
}

func stale(current int) *lead.Error {
	return &lead.Error{Code: lead.CodeStaleVersion, Version: current,
		Message: "someone else changed this lead; reload it and try again"}
}
