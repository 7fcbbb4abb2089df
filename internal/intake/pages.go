package intake

import (
	"html"
	"regexp"
	"strings"
	"unicode"

	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The pages a person gets when their browser posted a plain HTML form
// (no JavaScript): the thank-you page and the error page. They are built
// from constants, lead.Crisis and html.EscapeString rather than
// html/template: text/template's reflection would keep every method of
// every type in the binary (see internal/dynamo.ClientAPI), and these
// pages are small. Nothing submitted appears on them; the error page shows
// field names and our own messages only.

// thankYouPage is the page for a plain form post when no THANK_YOU_URL is
// set.
func thankYouPage(inCrisis bool) string {
	main := "<h1>Thank you. We received your request.</h1>\n"
	if inCrisis {
		main += `<section class="crisis" role="alert"><h2>` + html.EscapeString(lead.Crisis.UrgentHeading) + `</h2>
<p>` + crisisHTML(lead.Crisis.Urgent) + "</p></section>\n"
	}
	main += "<p>Someone from our care team will contact you soon.</p>\n" + crisisFooter()
	return page("Thank you", main)
}

// errorPage shows an error response's body to a person: every failing
// field by its label with our message, or the error's message.
func errorPage(body httpapi.ErrorBody) string {
	var b strings.Builder
	if len(body.Fields) > 0 {
		b.WriteString("<h1>Some answers need another look</h1>\n<ul>")
		for _, f := range body.Fields {
			b.WriteString("<li><strong>" + html.EscapeString(fieldLabel(f.Field)) + "</strong>: " + html.EscapeString(f.Message) + "</li>")
		}
		b.WriteString("</ul>\n")
	} else {
		b.WriteString("<h1>We could not take your request</h1>\n<p>" + html.EscapeString(body.Message) + "</p>\n")
	}
	if body.RequestID != "" {
		b.WriteString("<p><small>Reference: " + html.EscapeString(body.RequestID) + "</small></p>\n")
	}
	b.WriteString("<p>Please use your browser's back button to return to the form; your answers should still be there.</p>\n")
	b.WriteString(crisisFooter())
	return page("Please check your answers", b.String())
}

// crisisFooter is the crisis reminder every page for a submitter carries.
func crisisFooter() string {
	return `<section class="crisis"><p>` + crisisHTML(lead.Crisis.Reminder) + "</p></section>\n"
}

// crisisHTML escapes s and sets the crisis numbers in it in bold, so a
// person scanning the page finds them first.
func crisisHTML(s string) string {
	return crisisNumbers.ReplaceAllString(html.EscapeString(s), "<strong>$1</strong>")
}

// crisisNumbers matches lead.Crisis's numbers as whole numbers ("988",
// not the 988 in "1988").
var crisisNumbers = func() *regexp.Regexp {
	quoted := make([]string, 0, len(lead.Crisis.Numbers()))
	for _, n := range lead.Crisis.Numbers() {
		quoted = append(quoted, regexp.QuoteMeta(n))
	}
	return regexp.MustCompile(`\b(` + strings.Join(quoted, "|") + `)\b`)
}()

// fieldLabels name the fields whose words would read oddly if derived.
var fieldLabels = map[string]string{
	"smsConsent":          "Text messages",
	"consentToContact":    "Consent to contact you",
	"acknowledgedPrivacy": "Privacy notice",
	"hearAbout":           "How you heard about us",
}

// fieldLabel turns a JSON field name into words: "dateOfBirth" -> "Date of birth".
func fieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	var b strings.Builder
	for i, r := range field {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// page returns a complete, self-contained page around main, an HTML
// fragment built from constants or escaped text; title must be plain text.
func page(title, main string) string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + html.EscapeString(title) + `</title>
<style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
.crisis{border:2px solid #b00020;border-radius:.5rem;padding:1rem;margin:1.5rem 0}</style></head>
<body><main>
` + main + "</main></body></html>\n"
}
