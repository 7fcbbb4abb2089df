package e2e

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// siteChoices are the fixed-choice fields of each form of the example
// site, by the last segment of the form's action, and the list the API
// validates each against.
var siteChoices = map[string]map[string]lead.ChoiceList{
	"consultations": {
		"concerns":           lead.Concerns,
		"previousTreatments": lead.Treatments,
		"preferredContact":   lead.ContactMethods,
		"preferredTimes":     lead.PreferredTimes,
		"hearAbout":          lead.HearAbout,
	},
	"contact": {
		"preferredContact": lead.ContactMethods,
	},
}

// notListed are choice fields the API checks with a rule of its own rather
// than a lead.ChoiceList (state: the US state and territory codes).
var notListed = map[string]bool{"state": true}

// TestSiteChoicesMatchTheAPI reads examples/website/index.html and holds
// every radio button, value-carrying checkbox and <option> of both forms to
// lead's choice lists: the site must offer each value the API accepts and
// nothing it refuses. It needs no browser, so it runs without the e2e tag.
func TestSiteChoicesMatchTheAPI(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "examples", "website", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	offered, err := formChoices(f)
	if err != nil {
		t.Fatalf("index.html: %v", err)
	}
	for form, fields := range siteChoices {
		got, ok := offered[form]
		if !ok {
			t.Errorf("index.html has no form posting to /%s", form)
			continue
		}
		for field, list := range fields {
			values, ok := got[field]
			if !ok {
				t.Errorf("form /%s: no choices for %s", form, field)
				continue
			}
			for _, c := range list {
				if !slices.Contains(values, c.Value) {
					t.Errorf("form /%s: %s does not offer %q, which the API accepts", form, field, c.Value)
				}
			}
			for _, v := range values {
				if !list.Has(v) {
					t.Errorf("form /%s: %s offers %q, which the API refuses", form, field, v)
				}
			}
		}
		for field := range got {
			if _, ok := fields[field]; !ok && !notListed[field] {
				t.Errorf("form /%s: %s offers fixed choices, but this test checks it against no list", form, field)
			}
		}
	}
	for form := range offered {
		if _, ok := siteChoices[form]; !ok {
			t.Errorf("index.html has a form posting to /%s, which this test does not know", form)
		}
	}
}

// formChoices returns, for each <form> (by its action's last path
// segment), the values each control name offers as fixed choices: radio
// buttons, checkboxes with a value, and a select's options. Empty values
// (a select's "Choose..." placeholder) are left out: the API reads an
// empty answer as none given, never as a choice. Commented-out markup is
// skipped, as a browser skips it.
func formChoices(r io.Reader) (map[string]map[string][]string, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	out := map[string]map[string][]string{}
	var form, selectName string
	var option *string // the text of an <option> without a value attribute
	add := func(name, value string) error {
		if form == "" {
			return errors.New("a choice control outside any form")
		}
		if name == "" {
			return errors.New("a choice control without a name")
		}
		if value = strings.TrimSpace(value); value != "" {
			out[form][name] = append(out[form][name], value)
		}
		return nil
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := func(name string) (string, bool) {
				for _, a := range tok.Attr {
					if strings.EqualFold(a.Name.Local, name) {
						return a.Value, true
					}
				}
				return "", false
			}
			switch strings.ToLower(tok.Name.Local) {
			case "form":
				action, _ := attr("action")
				form = action[strings.LastIndex(action, "/")+1:]
				out[form] = map[string][]string{}
			case "select":
				selectName, _ = attr("name")
			case "option":
				if selectName == "" {
					return nil, errors.New("an <option> outside a named <select>")
				}
				if v, ok := attr("value"); ok {
					if err := add(selectName, v); err != nil {
						return nil, err
					}
				} else {
					option = new(string)
				}
			case "input":
				typ, _ := attr("type")
				name, _ := attr("name")
				value, hasValue := attr("value")
				switch strings.ToLower(typ) {
				case "radio":
				case "checkbox":
					if !hasValue {
						continue // a yes/no answer (inCrisis, smsConsent), not a choice
					}
				default:
					continue
				}
				if err := add(name, value); err != nil {
					return nil, err
				}
			}
		case xml.CharData:
			if option != nil {
				*option += string(tok)
			}
		case xml.EndElement:
			switch strings.ToLower(tok.Name.Local) {
			case "form":
				form = ""
			case "select":
				selectName = ""
			case "option":
				if option != nil {
					if err := add(selectName, *option); err != nil {
						return nil, err
					}
					option = nil
				}
			}
		}
	}
}
