package lead

// CrisisResource is one place a person in crisis can turn to at once.
type CrisisResource struct {
	Name   string `json:"name"`           // who they are: "988 Suicide & Crisis Lifeline"
	Action string `json:"action"`         // what to do, as a short sentence: "Call or text 988"
	Phone  string `json:"phone"`          // the number to call
	Text   string `json:"text,omitempty"` // the number to text, when texting works
	URL    string `json:"url,omitempty"`  // its website, when it has one
}

// CrisisInfo is everything the pipeline tells a person about getting help
// now. Its JSON is the "crisis" object of the API's answer to a
// submission that says the person is in crisis (the README's contract).
type CrisisInfo struct {
	// Message is said first to someone who told us they are in crisis.
	Message   string           `json:"message"`
	Resources []CrisisResource `json:"resources"`
	// Reminder is the one sentence every page and email a submitter gets
	// carries, whatever they answered.
	Reminder string `json:"-"`
	// UrgentHeading and Urgent are the notice on the thank-you page of a
	// person who said they are in crisis.
	UrgentHeading string `json:"-"`
	Urgent        string `json:"-"`
}

// Crisis is the one statement of the crisis resources: the API's answer,
// the submitter's pages and the confirmation email all read it, so a
// number changes in one place. Reminder and Urgent name every resource's
// number (a test holds them to it). Treat it as read-only.
var Crisis = CrisisInfo{
	Message: "You are not alone. If you are thinking about harming yourself, please reach out now; you do not have to wait for our call.",
	Resources: []CrisisResource{
		{Name: "988 Suicide & Crisis Lifeline", Action: "Call or text 988", Phone: "988", Text: "988", URL: "https://988lifeline.org"},
		{Name: "Emergency services", Action: "In an emergency, call 911", Phone: "911"},
	},
	Reminder:      "If you are in crisis, call or text 988 (Suicide & Crisis Lifeline). In an emergency, call 911.",
	UrgentHeading: "You do not have to wait for our call",
	Urgent:        "If you are thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline) now. In an emergency, call 911.",
}

// Numbers returns the distinct phone and text numbers of the resources, in
// order: what a page sets in bold.
func (c CrisisInfo) Numbers() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.Resources {
		for _, n := range []string{r.Phone, r.Text} {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
