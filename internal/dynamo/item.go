package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The item schema, in one place. Leads and idempotency claims share the
// table, told apart by "type" and by the prefix of the key "pk". The GSIs
// (ByKindDate: kind+createdAt, ByStatusDate: status+createdAt) are sparse:
// only leads carry kind and status. The stream filter in template.yaml
// passes INSERTs with type "lead" and status "new".
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

	typeLead  = "lead"
	typeClaim = "claim"
)

// timeLayout has a fixed width, so createdAt sorts as text in the GSIs.
const timeLayout = "2006-01-02T15:04:05.000Z"

func leadKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: sval("LEAD#" + id)}
}

func claimKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: sval("CLAIM#" + key)}
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

func sval(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

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
