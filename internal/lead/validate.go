package lead

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

// Validator checks normalised forms. It is the only user of the validator
// library in the project; its errors leave this package as FieldErrors
// named by JSON field. Build one at start-up and share it: it caches struct
// metadata and is safe for concurrent use.
type Validator struct {
	v   *validator.Validate
	now func() time.Time
	// loc is the calendar ages are counted on: the clinic's time zone.
	loc *time.Location
	// order maps each form type to its JSON field names' positions, so
	// failures are listed in form order: the validator reports struct-level
	// rules (smsConsent) after every field, embedded ones included.
	order map[reflect.Type]map[string]int
}

// NewValidator returns a Validator that counts ages on the UTC calendar
// (NewValidatorIn). now is the clock used for age checks; nil means
// time.Now.
func NewValidator(now func() time.Time) *Validator {
	return NewValidatorIn(time.UTC, now)
}

// NewValidatorIn returns a Validator whose age check counts on the
// calendar of loc, the clinic's time zone: "today" is the clinic's date,
// so at 9 p.m. in New York on 14 June someone born on 15 June 18 years
// before is still 17, although it is already 15 June in UTC. now is the
// clock used for age checks; nil means time.Now. A nil loc means UTC.
func NewValidatorIn(loc *time.Location, now func() time.Time) *Validator {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.UTC
	}
	val := &Validator{v: validator.New(validator.WithRequiredStructEnabled()), now: now, loc: loc}
	val.v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	for tag, fn := range map[string]func(string) bool{
		"singleline":     IsSingleLine,
		"multiline":      isCleanText,
		"leademail":      IsEmail,
		"usphone":        isE164US,
		"usstate":        isUSState,
		"idempotencykey": IsIdempotencyKey,
		"birthdate":      isBirthDate,
		"adult":          val.isAdult,
		"notover120":     val.isAtMost120,
	} {
		fn := fn
		if err := val.v.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return fn(fl.Field().String()) }); err != nil {
			panic(fmt.Sprintf("register validation %s: %v", tag, err)) // programming error, caught by every test
		}
	}
	// choice=<list> checks a fixed-choice answer against its ChoiceList;
	// the param is a key of choiceLists, never a method name, so nothing
	// here reaches reflect's MethodByName (see the README's size levers).
	if err := val.v.RegisterValidation("choice", func(fl validator.FieldLevel) bool {
		return choiceLists[fl.Param()].Has(fl.Field().String())
	}); err != nil {
		panic(fmt.Sprintf("register validation choice: %v", err))
	}
	val.v.RegisterStructValidation(smsConsentRule, Contact{}, Consultation{})
	val.order = map[reflect.Type]map[string]int{}
	for _, form := range []any{Contact{}, Consultation{}} {
		t := reflect.TypeOf(form)
		val.order[t] = fieldOrder(t, map[string]int{})
	}
	return val
}

// fieldOrder numbers the JSON names of t's fields in declaration order,
// descending into embedded structs where they sit.
func fieldOrder(t reflect.Type, order map[string]int) map[string]int {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			fieldOrder(f.Type, order)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, ok := order[name]; !ok && name != "" && name != "-" {
			order[name] = len(order)
		}
	}
	return order
}

// Validate returns nil or an *Error with CodeInvalid listing every failing
// field once, in form order. form must be a *Contact or *Consultation that
// has been normalised.
func (val *Validator) Validate(form any) error {
	err := val.v.Struct(form)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return fmt.Errorf("validate %T: %w", form, err)
	}
	fields := make([]FieldError, 0, len(verrs))
	seen := make(map[string]bool, len(verrs))
	for _, fe := range verrs {
		name := fe.Field()
		if i := strings.IndexByte(name, '['); i >= 0 { // concerns[2] -> concerns
			name = name[:i]
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		fields = append(fields, FieldError{Field: name, Message: message(fe)})
	}
	t := reflect.TypeOf(form)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if order := val.order[t]; order != nil {
		rank := func(name string) int {
			if i, ok := order[name]; ok {
				return i
			}
			return len(order) // not a form field: keep it last
		}
		sort.SliceStable(fields, func(i, j int) bool { return rank(fields[i].Field) < rank(fields[j].Field) })
	}
	return &Error{Code: CodeInvalid, Message: "some answers need another look", Fields: fields}
}

// choiceLists names the lists the forms' choice=<name> tags refer to. An
// unknown name holds no values, so the field fails closed (and the tests
// of every form field catch it).
var choiceLists = map[string]ChoiceList{
	"contactMethods": ContactMethods,
	"preferredTimes": PreferredTimes,
	"concerns":       Concerns,
	"treatments":     Treatments,
	"hearAbout":      HearAbout,
}

// choiceMessages are the refusals of a choice, built once: "must be one
// of: " and the list's values in form order.
var choiceMessages = func() map[string]string {
	m := make(map[string]string, len(choiceLists))
	for name, list := range choiceLists {
		values := make([]string, len(list))
		for i, c := range list {
			values[i] = c.Value
		}
		m[name] = "must be one of: " + strings.Join(values, ", ")
	}
	return m
}()

// smsConsentRule: texting someone needs their consent to texts, and
// calling or texting them needs a number (the contact form's phone is
// optional otherwise).
func smsConsentRule(sl validator.StructLevel) {
	var preferred, phone string
	var consent bool
	switch f := sl.Current().Interface().(type) {
	case Contact:
		preferred, consent, phone = f.PreferredContact, f.SMSConsent, f.Phone
	case Consultation:
		preferred, consent, phone = f.PreferredContact, f.SMSConsent, f.Phone
	}
	if (preferred == "phone" || preferred == "text") && phone == "" {
		sl.ReportError(phone, "phone", "Phone", "phoneforcontact", "")
	}
	if preferred == "text" && !consent {
		sl.ReportError(consent, "smsConsent", "SMSConsent", "smsconsent", "")
	}
}

// message turns a validator failure into words for a person. It never
// quotes the submitted value.
func message(fe validator.FieldError) string {
	isList := fe.Kind() == reflect.Slice
	switch fe.Tag() {
	case "required":
		if fe.Kind() == reflect.Bool {
			return "please tick this box to continue"
		}
		if isList {
			return "please choose at least one"
		}
		return "this field is required"
	case "min":
		return "please choose at least one"
	case "max":
		if isList {
			return fmt.Sprintf("please choose at most %s", fe.Param())
		}
		return fmt.Sprintf("must be at most %s characters", fe.Param())
	case "choice":
		if m, ok := choiceMessages[fe.Param()]; ok {
			return m
		}
	case "unique":
		return "please choose each option only once"
	case "singleline":
		return "must be a single line of plain text"
	case "multiline":
		return "contains characters we cannot accept; please use plain text"
	case "leademail":
		return "must be a valid email address"
	case "usphone":
		return "must be a US phone number, such as (410) 555-0134"
	case "usstate":
		return "must be a two-letter US state or territory code, such as MD"
	case "birthdate":
		return "must be a real date written YYYY-MM-DD, such as 1988-04-12"
	case "adult":
		return "you must be 18 or older to request a consultation"
	case "notover120":
		return "must be within the last 120 years; please check the year"
	case "idempotencykey":
		return "must be 1 to 128 letters, digits, '.', '_', ':' or '-'"
	case "phoneforcontact":
		return "please give a phone number, or choose email as the way to reach you"
	case "smsconsent":
		return "please agree to text messages, or choose another way for us to reach you"
	}
	return "is not valid"
}

// maxCombiningRun caps combining marks on one base character: real scripts
// need a few, "zalgo" floods need hundreds.
const maxCombiningRun = 4

// IsSingleLine reports whether s is one line of plain text: no control or
// format characters (CR, LF, NUL, U+0085, bidi overrides, zero-width
// characters), no line or paragraph separators, no replacement characters
// left by broken encodings, no floods of combining marks.
func IsSingleLine(s string) bool {
	return plainText(s, false)
}

// isCleanText is IsSingleLine that also allows LF and tab.
func isCleanText(s string) bool {
	return plainText(s, true)
}

func plainText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	run := 0
	var prev rune
	for i, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			run, prev = 0, r
			continue
		}
		if multiline && joinerInText(s, i, r, prev) {
			run, prev = 0, r
			continue
		}
		prev = r
		switch {
		case r == utf8.RuneError,
			unicode.Is(unicode.Cc, r), // C0, DEL, C1 (incl. U+0085)
			unicode.Is(unicode.Cf, r), // bidi controls, zero-width, BOM, soft hyphen
			unicode.Is(unicode.Zl, r), // U+2028
			unicode.Is(unicode.Zp, r), // U+2029
			unicode.Is(unicode.Co, r), // private use
			r >= 0xFFF0 && r <= 0xFFFF:
			return false
		case unicode.Is(unicode.M, r):
			// All marks count, spacing ones (Mc) too: counting only Mn and
			// Me let "a" + ("\u0301"×4 + "\u0903")×N through, a flood the
			// cap is meant to stop.
			run++
			if run > maxCombiningRun {
				return false
			}
		default:
			run = 0
		}
	}
	return true
}

// joinerInText reports whether r, at byte i of s, is a zero-width joiner
// or non-joiner between two visible characters: how emoji sequences
// ("👩‍⚕️", "🏳️‍🌈") and Persian or Indic words are spelled. Free text allows
// them there; one-line fields and joiners at an edge or beside a space
// (where they only hide things) stay refused.
func joinerInText(s string, i int, r, prev rune) bool {
	if r != '\u200C' && r != '\u200D' {
		return false
	}
	next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
	visible := func(c rune) bool {
		return c != 0 && c != utf8.RuneError && !unicode.IsSpace(c) && !unicode.Is(unicode.Cf, c) && !unicode.Is(unicode.Cc, c)
	}
	return visible(prev) && visible(next)
}

// IsEmail reports whether s is a bare address a person can be mailed at:
// no display name, quotes, angle brackets, comments, spaces or second
// address; a dot-atom local part of at most 64 ASCII characters and a
// domain of lower-case ASCII letters, digits and hyphens with a top-level
// part of letters (or an "xn--" IDN top-level domain). Internationalised
// addresses are accepted in their ASCII (punycode) form only: SES and many
// mail systems do not take SMTPUTF8 local parts, and Unicode invites
// look-alike addresses.
func IsEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	// "=?" opens an RFC 2047 encoded word. It is legal atext, but some mail
	// software decodes it even inside an address, so "=?utf-8?q?a=40evil.com?=@b.com"
	// can be read as an address at another domain. No real mailbox needs it.
	if strings.Contains(local, "=?") {
		return false
	}
	for _, part := range strings.Split(local, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isAtext(part[i]) {
				return false
			}
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for i, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for j := 0; j < len(label); j++ {
			c := label[j]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
		if i == len(labels)-1 && (len(label) < 2 || strings.ContainsAny(label, "0123456789-")) && !isIDNLabel(label) {
			return false
		}
	}
	return true
}

// isIDNLabel reports whether label is an A-label ("xn--p1ai" is .рф).
// The caller has checked it holds only letters, digits and inner hyphens.
func isIDNLabel(label string) bool {
	return len(label) > 4 && strings.HasPrefix(label, "xn--")
}

// isAtext is RFC 5322 atext minus the characters that mean trouble in mail
// headers and HTML ('/', '`', '{', '|', '}' and '=' are legal but unusual;
// they stay allowed, quotes and angle brackets are not atext anyway).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isE164US(s string) bool {
	// +1, then a NANP area code and exchange that do not start with 0 or 1.
	if len(s) != 12 || s[:2] != "+1" || s[2] < '2' || s[5] < '2' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var usStates = func() map[string]bool {
	m := map[string]bool{}
	for _, code := range strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
		MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
		DC PR GU VI AS MP`) {
		m[code] = true
	}
	return m
}()

func isUSState(s string) bool { return usStates[s] }

// IsIdempotencyKey accepts what browsers' crypto.randomUUID and most client
// libraries produce, and nothing that needs escaping anywhere.
func IsIdempotencyKey(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0) {
			return false
		}
	}
	return true
}

// The date of birth has three rules, each with its own message, checked
// in this order (the field's tag): a real calendar date as YYYY-MM-DD,
// then 18 or older, then not over 120. The age rules pass a value that is
// not a date, so only the first failure is reported.

// isBirthDate: a real calendar date as YYYY-MM-DD.
func isBirthDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// isAdult: 18 or older on the clinic's today (a future date is not).
func (val *Validator) isAdult(s string) bool {
	age, ok := val.age(s)
	return !ok || age >= 18
}

// isAtMost120: not older than 120 on the clinic's today.
func (val *Validator) isAtMost120(s string) bool {
	age, ok := val.age(s)
	return !ok || age <= 120
}

// age is the age in whole years of someone born on dob (YYYY-MM-DD) on
// today's date in the clinic's time zone; ok is false when dob is not a
// date.
func (val *Validator) age(dob string) (age int, ok bool) {
	born, err := time.Parse(time.DateOnly, dob)
	if err != nil {
		return 0, false
	}
	today := val.now().In(val.loc)
	age = today.Year() - born.Year()
	if !sameOrLaterMonthDay(today, born) {
		age--
	}
	return age, true
}

// sameOrLaterMonthDay compares month and day only, so leap years do not
// shift birthdays by a day.
func sameOrLaterMonthDay(today, dob time.Time) bool {
	if today.Month() != dob.Month() {
		return today.Month() > dob.Month()
	}
	return today.Day() >= dob.Day()
}
