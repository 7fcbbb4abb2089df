package lead

// Choice is one allowed answer of a fixed-choice field: the value the form
// sends and stores, and the words staff read.
type Choice struct {
	Value string
	Label string
}

// ChoiceList is the one list of allowed answers of a field. Validation,
// the emails and the staff inbox all read it, so a value can never be
// accepted without a label, or labelled without being accepted.
type ChoiceList []Choice

// The forms' fixed choices, in the order the forms show them.
var (
	ContactMethods = ChoiceList{{"email", "Email"}, {"phone", "Phone call"}, {"text", "Text message"}}
	PreferredTimes = ChoiceList{{"morning", "Morning"}, {"afternoon", "Afternoon"}, {"evening", "Evening"}}
	Concerns       = ChoiceList{
		{"depression", "Depression"},
		{"treatment_resistant_depression", "Treatment-resistant depression"},
		{"anxiety", "Anxiety"},
		{"ptsd", "PTSD"},
		{"ocd", "OCD"},
		{"bipolar_depression", "Bipolar depression"},
		{"chronic_pain", "Chronic pain"},
		{"other", "Other"},
	}
	Treatments = ChoiceList{
		{"ssri", "SSRI"},
		{"snri", "SNRI"},
		{"bupropion", "Bupropion"},
		{"tricyclic", "Tricyclic"},
		{"maoi", "MAOI"},
		{"antipsychotic_augmentation", "Antipsychotic augmentation"},
		{"psychotherapy", "Psychotherapy"},
		{"tms", "TMS"},
		{"ect", "ECT"},
		{"esketamine", "Esketamine"},
		{"ketamine", "Ketamine"},
		{"other", "Other"},
		{"none", "None"},
	}
	HearAbout = ChoiceList{
		{"search", "Search engine"},
		{"social", "Social media"},
		{"referral_provider", "Referred by a provider"},
		{"friend_family", "Friend or family"},
		{"advertisement", "Advertisement"},
		{"other", "Other"},
	}
)

// Has reports whether v is one of the list's values.
func (cl ChoiceList) Has(v string) bool {
	for _, c := range cl {
		if c.Value == v {
			return true
		}
	}
	return false
}

// Label returns v's label, or v itself for a value the list does not have
// (validation never lets one through; old items might hold one).
func (cl ChoiceList) Label(v string) string {
	for _, c := range cl {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

// Labels returns the labels of vs, in order.
func (cl ChoiceList) Labels(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = cl.Label(v)
	}
	return out
}
