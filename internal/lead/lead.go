// Package lead is the domain of the pipeline: what the website's two forms
// carry, how a submission is normalised and validated, and what a stored lead
// holds. It imports no AWS code; adapters (httpapi, dynamo, sesmail) depend on
// it, never the other way round.
package lead

import "time"

// Kind says which form a lead came from.
type Kind string

// The two forms.
const (
	KindContact      Kind = "contact"
	KindConsultation Kind = "consultation"
)

// Status is where a lead stands. Intake only ever writes New or Spam.
type Status string

// Statuses written by intake.
const (
	StatusNew  Status = "new"
	StatusSpam Status = "spam"
)

// Attribution is where the visitor came from. Both forms carry it.
type Attribution struct {
	UTMSource   string `json:"utmSource" validate:"max=200,singleline"`
	UTMMedium   string `json:"utmMedium" validate:"max=200,singleline"`
	UTMCampaign string `json:"utmCampaign" validate:"max=200,singleline"`
	UTMTerm     string `json:"utmTerm" validate:"max=200,singleline"`
	UTMContent  string `json:"utmContent" validate:"max=200,singleline"`
	LandingPage string `json:"landingPage" validate:"max=2000,singleline"`
	Referrer    string `json:"referrer" validate:"max=2000,singleline"`
}

// Controls are the fields that steer intake rather than describe the person:
// the honeypot, the client's idempotency key and the bot-check token. They
// are never stored.
type Controls struct {
	// Website is a honeypot: hidden from people, filled in by bots. It has
	// no rules on purpose: a 422 naming it would tell a bot where the trap
	// is (the body size cap bounds it).
	Website        string `json:"website"`
	SubmissionID   string `json:"submissionId" validate:"omitempty,max=128,idempotencykey"`
	TurnstileToken string `json:"cf-turnstile-response" validate:"max=4096"`
}

// Contact is the short contact form (POST /contact).
type Contact struct {
	Name             string `json:"name" validate:"required,max=100,singleline"`
	Email            string `json:"email" validate:"required,max=254,leademail"`
	Phone            string `json:"phone" validate:"omitempty,usphone"`
	Message          string `json:"message" validate:"required,max=5000,multiline"`
	PreferredContact string `json:"preferredContact" validate:"omitempty,choice=contactMethods"`
	SMSConsent       bool   `json:"smsConsent"`
	Attribution
	Controls
}

// Consultation is the consultation request (POST /consultations): what the
// clinic assesses at the first consultation.
type Consultation struct {
	FirstName           string   `json:"firstName" validate:"required,max=60,singleline"`
	LastName            string   `json:"lastName" validate:"required,max=60,singleline"`
	Email               string   `json:"email" validate:"required,max=254,leademail"`
	Phone               string   `json:"phone" validate:"required,usphone"`
	DateOfBirth         string   `json:"dateOfBirth" validate:"required,birthdate,adult,notover120"`
	State               string   `json:"state" validate:"required,usstate"`
	Concerns            []string `json:"concerns" validate:"required,min=1,max=8,unique,dive,choice=concerns"`
	PreviousTreatments  []string `json:"previousTreatments" validate:"max=13,unique,dive,choice=treatments"`
	CurrentMedications  string   `json:"currentMedications" validate:"max=1000,multiline"`
	MedicalHistory      string   `json:"medicalHistory" validate:"max=2000,multiline"`
	PreferredContact    string   `json:"preferredContact" validate:"omitempty,choice=contactMethods"`
	PreferredTimes      []string `json:"preferredTimes" validate:"max=3,unique,dive,choice=preferredTimes"`
	HearAbout           string   `json:"hearAbout" validate:"omitempty,choice=hearAbout"`
	ReferringProvider   string   `json:"referringProvider" validate:"max=120,singleline"`
	Message             string   `json:"message" validate:"max=2000,multiline"`
	InCrisis            bool     `json:"inCrisis"`
	ConsentToContact    bool     `json:"consentToContact" validate:"required"`
	AcknowledgedPrivacy bool     `json:"acknowledgedPrivacy" validate:"required"`
	SMSConsent          bool     `json:"smsConsent"`
	Attribution
	Controls
}

// Consent records what the person agreed to, when, and from where: the
// clinic's evidence that it may call or text them back.
type Consent struct {
	ConsentToContact    bool
	AcknowledgedPrivacy bool
	SMSConsent          bool
	At                  time.Time
	ClientIP            string
	UserAgent           string
	LandingPage         string
}

// Lead is one stored submission. Exactly one of Contact and Consultation is
// set, matching Kind. Controls are cleared before a lead is built.
type Lead struct {
	ID           string
	Kind         Kind
	Status       Status
	CreatedAt    time.Time
	ExpiresAt    time.Time
	Contact      *Contact
	Consultation *Consultation
	Consent      Consent
	Attribution  Attribution
	// SuspectedSpam marks a lead that filled the honeypot but said the
	// person is in crisis: it is stored and notified as new (autofill and
	// assistive tools fill hidden fields too), and staff see the flag.
	SuspectedSpam bool

	// Staff work on the lead (the inbox). Version counts changes: a new
	// lead is version 1, and every change must name the version it saw.
	Version int
	History []StatusChange
	Notes   []Note
}

// Email is the submitter's validated address.
func (l Lead) Email() string {
	if l.Consultation != nil {
		return l.Consultation.Email
	}
	if l.Contact != nil {
		return l.Contact.Email
	}
	return ""
}

// InCrisis reports whether the submitter said they are in crisis now.
func (l Lead) InCrisis() bool {
	return l.Consultation != nil && l.Consultation.InCrisis
}
