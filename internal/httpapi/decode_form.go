package httpapi

import (
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// Limits on a form post. Neither form has fifty fields, and each list has
// at most a dozen options; these only stop a body from costing more to
// parse than it is worth. maxFormValues also caps a JSON list.
const (
	maxFormKeys   = 200
	maxFormValues = 500
)

// ignoredFormKeys are keys a plain HTML form page naturally sends that are
// not form fields (a named submit button, say) and are dropped rather than
// refused. There are none yet: add a key here, never a prefix, and only
// for a page that really sends it.
var ignoredFormKeys = map[string]bool{}

// decodeForm fills out from an application/x-www-form-urlencoded body.
// Lists are repeated keys; every other key must appear once.
func decodeForm(body []byte, s *schema, out reflect.Value) error {
	// Count before parsing, so thirty thousand "a&a&..." are not first
	// turned into a map. Empty pairs ("a=1&&b=2") mean nothing and are
	// dropped here, so they count against no limit either.
	var pairs []string
	for part := range strings.SplitSeq(string(body), "&") {
		if part == "" {
			continue
		}
		if len(pairs) == maxFormValues {
			return malformed("the form has too many fields", nil)
		}
		pairs = append(pairs, part)
	}
	values, err := url.ParseQuery(strings.Join(pairs, "&"))
	if err != nil {
		// ParseQuery's errors quote the bad escape; keep none of it.
		return malformed("we could not read the form; it is not properly encoded", nil)
	}
	if len(values) > maxFormKeys {
		return malformed("the form has too many fields", nil)
	}
	// Sorted, so the same body always gets the same answer.
	for _, key := range slices.Sorted(maps.Keys(values)) {
		if ignoredFormKeys[key] {
			continue
		}
		f, ok := s.fields[key]
		if !ok {
			return unknownField(key)
		}
		if err := setFormValue(f, values[key], out.FieldByIndex(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func setFormValue(f field, vals []string, v reflect.Value) error {
	for _, val := range vals {
		if err := checkText(f, val); err != nil {
			return err
		}
	}
	if f.kind == kindStrings {
		v.Set(reflect.ValueOf(slices.Clone(vals)).Convert(v.Type()))
		return nil
	}
	if len(vals) != 1 {
		return duplicate(f.name)
	}
	switch f.kind {
	case kindString:
		v.SetString(vals[0])
	case kindBool:
		b, ok := formBool(vals[0])
		if !ok {
			return malformed(f.name+" must be true or false", nil)
		}
		v.SetBool(b)
	}
	return nil
}

// formBool reads a checkbox: a browser sends "on" when it is ticked and
// nothing when not; scripts send true/false or 1/0.
func formBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "on", "1":
		return true, true
	case "false", "off", "0", "":
		return false, true
	}
	return false, false
}
