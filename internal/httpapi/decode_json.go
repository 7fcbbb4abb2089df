package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// decodeJSON fills out from a JSON object in one pass over its tokens,
// checked against s as they come. It never descends into a value it does
// not expect, so nesting costs nothing and a deep document is refused at
// its first bracket. body is valid UTF-8 (readBody checked).
func decodeJSON(body []byte, s *schema, out reflect.Value) error {
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		return malformed("the form must not start with a byte order mark", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // a number is only ever refused; never round it on the way
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return malformed("the form arrived empty; please fill it in and send it again", nil)
		}
		return syntaxError(err)
	}
	if tok != json.Delim('{') {
		return malformed("the form must be sent as one JSON object", nil)
	}
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		if tok == json.Delim('}') {
			break
		}
		key, ok := tok.(string)
		if !ok { // Token enforces string keys; be sure anyway
			return malformed("the form is not valid JSON", nil)
		}
		f, ok := s.fields[key]
		if !ok {
			return unknownField(key)
		}
		if seen[key] {
			return duplicate(key)
		}
		seen[key] = true
		if err := decodeJSONValue(dec, f, out.FieldByIndex(f.index)); err != nil {
			return err
		}
	}
	// Exactly one value: a second object or stray bytes after the first
	// would otherwise be ignored, and they mean the client sent something
	// else than it thinks.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed("the form must be sent as exactly one JSON object, with nothing after it", nil)
	}
	return nil
}

// decodeJSONValue reads the value of field f into v. null means absent.
func decodeJSONValue(dec *json.Decoder, f field, v reflect.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if tok == nil {
		return nil
	}
	switch f.kind {
	case kindString:
		str, ok := tok.(string)
		if !ok {
			return wrongType(f)
		}
		if err := checkText(f, str); err != nil {
			return err
		}
		v.SetString(str)
	case kindBool:
		b, ok := tok.(bool)
		if !ok {
			return wrongType(f)
		}
		v.SetBool(b)
	case kindStrings:
		if tok != json.Delim('[') {
			return wrongType(f)
		}
		list := []string{} // [] stays an empty list, as encoding/json has it
		for {
			tok, err := dec.Token()
			if err != nil {
				return syntaxError(err)
			}
			if tok == json.Delim(']') {
				break
			}
			str, ok := tok.(string)
			if !ok { // null, numbers, nested lists and objects alike
				return wrongType(f)
			}
			if err := checkText(f, str); err != nil {
				return err
			}
			if len(list) == maxFormValues {
				return malformed(f.name+" has too many values", nil)
			}
			list = append(list, str)
		}
		v.Set(reflect.ValueOf(list).Convert(v.Type()))
	}
	return nil
}

// syntaxError hides encoding/json's text, which quotes the offending
// character, and keeps only the offset for logs.
func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		err = fmt.Errorf("json syntax error at byte %d", se.Offset)
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("json ends early")
	} else {
		err = errors.New("json token error") // Token's own errors quote the character too
	}
	return malformed("the form is not valid JSON", err)
}

func wrongType(f field) error {
	switch f.kind {
	case kindBool:
		return malformed(f.name+" must be true or false", nil)
	case kindStrings:
		return malformed(f.name+" must be a list of text values", nil)
	}
	return malformed(f.name+" must be text", nil)
}
