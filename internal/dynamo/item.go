package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The item schema, in one place. Leads, idempotency claims and audit
// entries share the table, told apart by "type" and by the prefix of the
// key "pk". The GSIs are sparse:
//   - ByKindDate (kind+createdAt), ByStatusDate (status+createdAt) and
//     ByStatusQueue (status+queue) hold leads only: only leads carry kind,
//     status and queue;
//   - AuditByLead (leadId+auditAt) holds audit entries only: claims carry
//     leadId too, but never auditAt.
//
// The stream filter in template.yaml passes INSERTs with type "lead" and
// status "new".
const (
	attrPK          = "pk"
	attrType        = "type"
	attrID          = "id"
	attrKind        = "kind"
	attrStatus      = "status"
	attrCreatedAt   = "createdAt"
	attrExpiresAt   = "expiresAt" // TTL attribute, epoch seconds
	attrConsent     = "consent"
	attrNotifiedAt  = "notifiedAt"
	attrConfirmedAt = "confirmedAt"
	attrLeadID      = "leadId"
	attrBodyHash    = "bodyHash"
	attrSuspect     = "suspectedSpam" // only on a lead that has it: true

	// The notifier's bookkeeping besides notifiedAt and confirmedAt.
	// storedAt is when Put wrote the lead (createdAt is its idempotency
	// claim's time, and a keyed retry may write the lead a day after its
	// claim): the sweep's window goes by it. confirmRefusedAt records a
	// confirmation that can never be sent, so the sweep stops trying.
	attrStoredAt         = "storedAt"         // S, timeLayout
	attrConfirmRefusedAt = "confirmRefusedAt" // S, timeLayout

	// Escalation of a lead nobody picked up (escalation.go): the highest
	// level emailed (N, 1 or 2) and when.
	attrEscalationLevel = "escalationLevel"
	attrEscalatedAt     = "escalatedAt" // S, timeLayout

	// The daily digest's marker item, pk "DIGEST#<date>": claimed, then
	// sent (digest.go). It carries none of the indexes' keys.
	attrClaimedAt = "claimedAt" // S, timeLayout
	attrSentAt    = "sentAt"    // S, timeLayout

	// Staff work on a lead (the inbox).
	attrVersion = "version" // N: 1 when written by intake, +1 per change
	attrQueue   = "queue"   // S: "1#<createdAt>" for a lead in crisis, else "0#<createdAt>"
	attrHistory = "history" // L of M: status changes
	attrNotes   = "notes"   // L of M: staff notes; they expire with the lead

	// Members of a history or note entry.
	entryAt      = "at"
	entryBySub   = "bySub"
	entryByEmail = "byEmail"
	entryFrom    = "from"
	entryTo      = "to"
	entryText    = "text"

	// Audit entries, kept without expiresAt.
	attrAuditAt    = "auditAt"
	attrActorSub   = "actorSub"
	attrActorEmail = "actorEmail"
	attrAction     = "action"
	attrFrom       = "from"
	attrTo         = "to"
	attrSourceIP   = "sourceIp"
	attrUserAgent  = "userAgent"

	typeLead   = "lead"
	typeClaim  = "claim"
	typeAudit  = "audit"
	typeDigest = "digest"

	// Operations' audit entries (ops.go): an erased lead's tombstone and
	// an export's record, both without personal data.
	attrReason   = "reason"    // S: why a lead was erased, as ops gave it
	attrRequest  = "requestId" // S: ties the tombstones of one erasure request
	attrClaims   = "claims"    // N: claims erased with the lead
	attrFilter   = "filter"    // M: an export's selection (dates, kind, status, format)
	attrCount    = "leadCount" // N: leads an export wrote
	attrFinished = "finishedAt"
)

// Index names (template.yaml).
const (
	indexByKind        = "ByKindDate"
	indexByStatus      = "ByStatusDate"
	indexByStatusQueue = "ByStatusQueue"
	indexAuditByLead   = "AuditByLead"
	// indexClaimsByLead (leadId+createdAt) would hold claims only (audit
	// entries have no createdAt, leads no leadId); erasure uses it when
	// the table has it (README, "Operations").
	indexClaimsByLead = "ClaimsByLead"
)

// rowAttributes are the non-key attributes ByStatusQueue projects: what a
// row of the inbox's list shows, and nothing the person answered about
// their health or how to reach them. The template's INCLUDE projection
// must list exactly these (TestRowProjectionMatchesTemplate).
var rowAttributes = []string{
	attrID, attrKind, attrCreatedAt, "name", "firstName", "lastName", "inCrisis", attrNotifiedAt, attrVersion,
}

// markAttributes are the non-key attributes both ByKindDate and
// ByStatusDate project: ids, the notifier's and escalation's marks and
// flags, what the sweep, escalation and the digest filter and list by.
// No answer, name or phone number: a reader that sends or exports a lead
// reads it whole from the table (getWhole).
var markAttributes = []string{
	attrID, attrType, attrStoredAt, attrNotifiedAt, attrConfirmedAt, attrConfirmRefusedAt,
	attrEscalatedAt, attrEscalationLevel, "inCrisis", attrSuspect, attrVersion,
}

// IndexAttributes returns the non-key attributes the template's INCLUDE
// projection of index ByKindDate or ByStatusDate must list exactly
// (nil for another index): markAttributes plus the other index's hash
// key, and for ByKindDate email, which erasure's find-by-address filters
// on.
func IndexAttributes(index string) []string {
	out := append([]string(nil), markAttributes...)
	switch index {
	case indexByKind:
		return append(out, attrStatus, "email")
	case indexByStatus:
		return append(out, attrKind)
	}
	return nil
}

// RowAttributes returns the attributes the list index projects besides
// its keys, for the template test.
func RowAttributes() []string { return append([]string(nil), rowAttributes...) }

// timeLayout has a fixed width, so createdAt sorts as text in the GSIs.
const timeLayout = "2006-01-02T15:04:05.000Z"

func leadKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: sval("LEAD#" + id)}
}

func claimKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: sval("CLAIM#" + key)}
}

// queueValue is a lead's sort key in ByStatusQueue: a descending query
// lists leads in crisis first, then the others, each newest first.
func queueValue(inCrisis bool, createdAt time.Time) string {
	p := "0#"
	if inCrisis {
		p = "1#"
	}
	return p + createdAt.UTC().Format(timeLayout)
}

// Form fields are listed once, as accessors, and used both ways.
type (
	textField struct {
		name string
		get  func(*lead.Lead) *string
	}
	listField struct {
		name string
		get  func(*lead.Lead) *[]string
	}
	boolField struct {
		name string
		get  func(*lead.Lead) *bool
	}
)

var contactText = []textField{
	{"name", func(l *lead.Lead) *string { return &l.Contact.Name }},
	{"email", func(l *lead.Lead) *string { return &l.Contact.Email }},
	{"phone", func(l *lead.Lead) *string { return &l.Contact.Phone }},
	{"message", func(l *lead.Lead) *string { return &l.Contact.Message }},
	{"preferredContact", func(l *lead.Lead) *string { return &l.Contact.PreferredContact }},
}

var contactBool = []boolField{
	{"smsConsent", func(l *lead.Lead) *bool { return &l.Contact.SMSConsent }},
}

var consultationText = []textField{
	{"firstName", func(l *lead.Lead) *string { return &l.Consultation.FirstName }},
	{"lastName", func(l *lead.Lead) *string { return &l.Consultation.LastName }},
	{"email", func(l *lead.Lead) *string { return &l.Consultation.Email }},
	{"phone", func(l *lead.Lead) *string { return &l.Consultation.Phone }},
	{"dateOfBirth", func(l *lead.Lead) *string { return &l.Consultation.DateOfBirth }},
	{"state", func(l *lead.Lead) *string { return &l.Consultation.State }},
	{"currentMedications", func(l *lead.Lead) *string { return &l.Consultation.CurrentMedications }},
	{"medicalHistory", func(l *lead.Lead) *string { return &l.Consultation.MedicalHistory }},
	{"preferredContact", func(l *lead.Lead) *string { return &l.Consultation.PreferredContact }},
	{"hearAbout", func(l *lead.Lead) *string { return &l.Consultation.HearAbout }},
	{"referringProvider", func(l *lead.Lead) *string { return &l.Consultation.ReferringProvider }},
	{"message", func(l *lead.Lead) *string { return &l.Consultation.Message }},
}

var consultationList = []listField{
	{"concerns", func(l *lead.Lead) *[]string { return &l.Consultation.Concerns }},
	{"previousTreatments", func(l *lead.Lead) *[]string { return &l.Consultation.PreviousTreatments }},
	{"preferredTimes", func(l *lead.Lead) *[]string { return &l.Consultation.PreferredTimes }},
}

var consultationBool = []boolField{
	{"inCrisis", func(l *lead.Lead) *bool { return &l.Consultation.InCrisis }},
	{"consentToContact", func(l *lead.Lead) *bool { return &l.Consultation.ConsentToContact }},
	{"acknowledgedPrivacy", func(l *lead.Lead) *bool { return &l.Consultation.AcknowledgedPrivacy }},
	{"smsConsent", func(l *lead.Lead) *bool { return &l.Consultation.SMSConsent }},
}

var attributionText = []textField{
	{"utmSource", func(l *lead.Lead) *string { return &l.Attribution.UTMSource }},
	{"utmMedium", func(l *lead.Lead) *string { return &l.Attribution.UTMMedium }},
	{"utmCampaign", func(l *lead.Lead) *string { return &l.Attribution.UTMCampaign }},
	{"utmTerm", func(l *lead.Lead) *string { return &l.Attribution.UTMTerm }},
	{"utmContent", func(l *lead.Lead) *string { return &l.Attribution.UTMContent }},
	{"landingPage", func(l *lead.Lead) *string { return &l.Attribution.LandingPage }},
	{"referrer", func(l *lead.Lead) *string { return &l.Attribution.Referrer }},
}

func fieldsFor(k lead.Kind) ([]textField, []listField, []boolField) {
	if k == lead.KindConsultation {
		return consultationText, consultationList, consultationBool
	}
	return contactText, nil, contactBool
}

// leadItem is the stored form of l. Empty optional fields are left out.
func leadItem(l lead.Lead) map[string]types.AttributeValue {
	item := leadKey(l.ID)
	item[attrType] = sval(typeLead)
	item[attrID] = sval(l.ID)
	item[attrKind] = sval(string(l.Kind))
	item[attrStatus] = sval(string(l.Status))
	item[attrCreatedAt] = sval(l.CreatedAt.UTC().Format(timeLayout))
	item[attrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(l.ExpiresAt.Unix(), 10)}
	item[attrVersion] = nval(max(l.Version, 1))
	item[attrQueue] = sval(queueValue(l.InCrisis(), l.CreatedAt))
	if len(l.History) > 0 {
		item[attrHistory] = historyList(l.History)
	}
	if len(l.Notes) > 0 {
		item[attrNotes] = noteList(l.Notes)
	}
	texts, lists, bools := fieldsFor(l.Kind)
	for _, f := range append(texts, attributionText...) {
		if v := *f.get(&l); v != "" {
			item[f.name] = sval(v)
		}
	}
	for _, f := range lists {
		if v := *f.get(&l); len(v) > 0 {
			list := make([]types.AttributeValue, len(v))
			for i, e := range v {
				list[i] = sval(e)
			}
			item[f.name] = &types.AttributeValueMemberL{Value: list}
		}
	}
	for _, f := range bools {
		item[f.name] = &types.AttributeValueMemberBOOL{Value: *f.get(&l)}
	}
	if l.SuspectedSpam {
		item[attrSuspect] = &types.AttributeValueMemberBOOL{Value: true}
	}
	c := l.Consent
	item[attrConsent] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"consentToContact":    &types.AttributeValueMemberBOOL{Value: c.ConsentToContact},
		"acknowledgedPrivacy": &types.AttributeValueMemberBOOL{Value: c.AcknowledgedPrivacy},
		"smsConsent":          &types.AttributeValueMemberBOOL{Value: c.SMSConsent},
		"at":                  sval(c.At.UTC().Format(timeLayout)),
		"clientIp":            sval(c.ClientIP),
		"userAgent":           sval(c.UserAgent),
		"landingPage":         sval(c.LandingPage),
	}}
	return item
}

// LeadItem is the item Put stores for l, less storedAt (the sweep then
// goes by createdAt), for tools that write many leads at once with
// BatchWriteItem (seeders, benchmarks). Put is the way to store one lead:
// it never overwrites.
func LeadItem(l lead.Lead) map[string]types.AttributeValue { return leadItem(l) }

// leadFromItem is the inverse of leadItem.
func leadFromItem(item map[string]types.AttributeValue) (lead.Lead, error) {
	if str(item[attrType]) != typeLead {
		return lead.Lead{}, fmt.Errorf("item is not a lead")
	}
	l := lead.Lead{
		ID:     str(item[attrID]),
		Kind:   lead.Kind(str(item[attrKind])),
		Status: lead.Status(str(item[attrStatus])),
	}
	l.SuspectedSpam = boolean(item[attrSuspect])
	switch l.Kind {
	case lead.KindContact:
		l.Contact = &lead.Contact{}
	case lead.KindConsultation:
		l.Consultation = &lead.Consultation{}
	default:
		return lead.Lead{}, fmt.Errorf("lead %s: unknown kind", l.ID)
	}
	var err error
	if l.CreatedAt, err = time.Parse(timeLayout, str(item[attrCreatedAt])); err != nil {
		return lead.Lead{}, fmt.Errorf("lead %s: createdAt: %w", l.ID, err)
	}
	if n, ok := item[attrExpiresAt].(*types.AttributeValueMemberN); ok {
		secs, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return lead.Lead{}, fmt.Errorf("lead %s: expiresAt: %w", l.ID, err)
		}
		l.ExpiresAt = time.Unix(secs, 0).UTC()
	}
	if l.Version, err = version(item); err != nil {
		return lead.Lead{}, fmt.Errorf("lead %s: %w", l.ID, err)
	}
	l.History = historyFromItem(item[attrHistory])
	l.Notes = notesFromItem(item[attrNotes])
	texts, lists, bools := fieldsFor(l.Kind)
	for _, f := range append(texts, attributionText...) {
		*f.get(&l) = str(item[f.name])
	}
	for _, f := range lists {
		if list, ok := item[f.name].(*types.AttributeValueMemberL); ok {
			out := make([]string, 0, len(list.Value))
			for _, e := range list.Value {
				out = append(out, str(e))
			}
			*f.get(&l) = out
		}
	}
	for _, f := range bools {
		*f.get(&l) = boolean(item[f.name])
	}
	if l.Contact != nil {
		l.Contact.Attribution = l.Attribution
	} else {
		l.Consultation.Attribution = l.Attribution
	}
	if m, ok := item[attrConsent].(*types.AttributeValueMemberM); ok {
		c := m.Value
		l.Consent = lead.Consent{
			ConsentToContact:    boolean(c["consentToContact"]),
			AcknowledgedPrivacy: boolean(c["acknowledgedPrivacy"]),
			SMSConsent:          boolean(c["smsConsent"]),
			ClientIP:            str(c["clientIp"]),
			UserAgent:           str(c["userAgent"]),
			LandingPage:         str(c["landingPage"]),
		}
		l.Consent.At, _ = time.Parse(timeLayout, str(c["at"])) // informational; a bad value leaves it zero
	}
	return l, nil
}

func claimItem(c lead.Claim) map[string]types.AttributeValue {
	item := claimKey(c.Key)
	item[attrType] = sval(typeClaim)
	item[attrLeadID] = sval(c.LeadID)
	item[attrBodyHash] = sval(c.BodyHash)
	item[attrCreatedAt] = sval(c.CreatedAt.UTC().Format(timeLayout))
	item[attrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(c.ExpiresAt.Unix(), 10)}
	return item
}

func claimFromItem(key string, item map[string]types.AttributeValue) (lead.Claim, error) {
	c := lead.Claim{Key: key, LeadID: str(item[attrLeadID]), BodyHash: str(item[attrBodyHash])}
	var err error
	if c.CreatedAt, err = time.Parse(timeLayout, str(item[attrCreatedAt])); err != nil {
		return lead.Claim{}, fmt.Errorf("claim createdAt: %w", err)
	}
	if n, ok := item[attrExpiresAt].(*types.AttributeValueMemberN); ok {
		secs, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return lead.Claim{}, fmt.Errorf("claim expiresAt: %w", err)
		}
		c.ExpiresAt = time.Unix(secs, 0).UTC()
	}
	if c.LeadID == "" || c.BodyHash == "" {
		return lead.Claim{}, fmt.Errorf("claim is incomplete")
	}
	return c, nil
}

// version reads a lead's version; a lead stored before versions existed
// is version 1.
func version(item map[string]types.AttributeValue) (int, error) {
	n, ok := item[attrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return 1, nil
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("version %q is not a positive whole number", n.Value)
	}
	return v, nil
}

func historyList(h []lead.StatusChange) *types.AttributeValueMemberL {
	out := make([]types.AttributeValue, len(h))
	for i, c := range h {
		out[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			entryAt:      sval(c.At.UTC().Format(timeLayout)),
			entryBySub:   sval(c.By.Subject),
			entryByEmail: sval(c.By.Email),
			entryFrom:    sval(string(c.From)),
			entryTo:      sval(string(c.To)),
		}}
	}
	return &types.AttributeValueMemberL{Value: out}
}

func noteList(notes []lead.Note) *types.AttributeValueMemberL {
	out := make([]types.AttributeValue, len(notes))
	for i, n := range notes {
		out[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			entryAt:      sval(n.At.UTC().Format(timeLayout)),
			entryBySub:   sval(n.By.Subject),
			entryByEmail: sval(n.By.Email),
			entryText:    sval(n.Text),
		}}
	}
	return &types.AttributeValueMemberL{Value: out}
}

// entries returns the maps of a list attribute; anything else in it is
// skipped (it is not ours).
func entries(v types.AttributeValue) []map[string]types.AttributeValue {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]map[string]types.AttributeValue, 0, len(l.Value))
	for _, e := range l.Value {
		if m, ok := e.(*types.AttributeValueMemberM); ok {
			out = append(out, m.Value)
		}
	}
	return out
}

func historyFromItem(v types.AttributeValue) []lead.StatusChange {
	var out []lead.StatusChange
	for _, m := range entries(v) {
		at, _ := time.Parse(timeLayout, str(m[entryAt])) // informational; a bad value leaves it zero
		out = append(out, lead.StatusChange{
			At: at, By: lead.Actor{Subject: str(m[entryBySub]), Email: str(m[entryByEmail])},
			From: lead.Status(str(m[entryFrom])), To: lead.Status(str(m[entryTo])),
		})
	}
	return out
}

func notesFromItem(v types.AttributeValue) []lead.Note {
	var out []lead.Note
	for _, m := range entries(v) {
		at, _ := time.Parse(timeLayout, str(m[entryAt]))
		out = append(out, lead.Note{At: at, By: lead.Actor{Subject: str(m[entryBySub]), Email: str(m[entryByEmail])}, Text: str(m[entryText])})
	}
	return out
}

// auditItem is the stored form of an audit entry. It is built from
// lead.AuditEntry, which has no field for a note's text or a form answer,
// so neither can reach the trail; and it has no expiresAt, so the table's
// TTL never deletes it. token makes the key unique among entries of one
// lead at one millisecond.
func auditItem(e lead.AuditEntry, token string) map[string]types.AttributeValue {
	at := e.At.UTC().Format(timeLayout)
	item := map[string]types.AttributeValue{
		attrPK:         sval("AUDIT#" + e.LeadID + "#" + at + "#" + token),
		attrType:       sval(typeAudit),
		attrLeadID:     sval(e.LeadID),
		attrAuditAt:    sval(at),
		attrActorSub:   sval(e.Actor.Subject),
		attrActorEmail: sval(e.Actor.Email),
		attrAction:     sval(string(e.Action)),
		attrSourceIP:   sval(e.SourceIP),
		attrUserAgent:  sval(e.UserAgent),
	}
	if e.From != "" {
		item[attrFrom] = sval(string(e.From))
	}
	if e.To != "" {
		item[attrTo] = sval(string(e.To))
	}
	return item
}

func auditFromItem(item map[string]types.AttributeValue) (lead.AuditEntry, error) {
	if str(item[attrType]) != typeAudit {
		return lead.AuditEntry{}, fmt.Errorf("item is not an audit entry")
	}
	at, err := time.Parse(timeLayout, str(item[attrAuditAt]))
	if err != nil {
		return lead.AuditEntry{}, fmt.Errorf("audit entry auditAt: %w", err)
	}
	return lead.AuditEntry{
		LeadID:    str(item[attrLeadID]),
		At:        at,
		Actor:     lead.Actor{Subject: str(item[attrActorSub]), Email: str(item[attrActorEmail])},
		Action:    lead.AuditAction(str(item[attrAction])),
		From:      lead.Status(str(item[attrFrom])),
		To:        lead.Status(str(item[attrTo])),
		SourceIP:  str(item[attrSourceIP]),
		UserAgent: str(item[attrUserAgent]),
	}, nil
}

// rowFromItem reads a list row from ByStatusQueue's projection.
func rowFromItem(item map[string]types.AttributeValue) (LeadRow, error) {
	r := LeadRow{
		ID:        str(item[attrID]),
		Kind:      lead.Kind(str(item[attrKind])),
		Status:    lead.Status(str(item[attrStatus])),
		Name:      str(item["name"]),
		FirstName: str(item["firstName"]),
		LastName:  str(item["lastName"]),
		InCrisis:  boolean(item["inCrisis"]),
	}
	var err error
	if r.CreatedAt, err = time.Parse(timeLayout, str(item[attrCreatedAt])); err != nil {
		return LeadRow{}, fmt.Errorf("lead %s: createdAt: %w", r.ID, err)
	}
	if r.Version, err = version(item); err != nil {
		return LeadRow{}, fmt.Errorf("lead %s: %w", r.ID, err)
	}
	r.NotifiedAt, _ = time.Parse(timeLayout, str(item[attrNotifiedAt]))
	return r, nil
}

func sval(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func nval(v int) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.Itoa(v)}
}

func str(v types.AttributeValue) string {
	if sv, ok := v.(*types.AttributeValueMemberS); ok {
		return sv.Value
	}
	return ""
}

func boolean(v types.AttributeValue) bool {
	b, ok := v.(*types.AttributeValueMemberBOOL)
	return ok && b.Value
}
