package httpapi

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// kind is what a form field holds. Forms are flat: text, yes/no and lists
// of text; anything else is a programming error in the form struct.
type kind int

const (
	kindString kind = iota + 1
	kindBool
	kindStrings
)

// field is one settable field of a form struct, named as in JSON.
type field struct {
	name  string
	kind  kind
	index []int // for reflect.Value.FieldByIndex; runs through embedded structs
}

// schema is a form struct's fields by their exact JSON names. Decoding
// against it, not against encoding/json's case-insensitive matching, is
// what makes "EMAIL" an unknown field rather than the email.
type schema struct {
	typ    reflect.Type
	fields map[string]field
}

type schemaEntry struct {
	s   *schema
	err error
}

var schemas sync.Map // reflect.Type -> schemaEntry

// schemaFor returns the schema of the struct type t, built once.
func schemaFor(t reflect.Type) (*schema, error) {
	if e, ok := schemas.Load(t); ok {
		e := e.(schemaEntry)
		return e.s, e.err
	}
	s, err := buildSchema(t)
	schemas.Store(t, schemaEntry{s, err})
	return s, err
}

// buildSchema follows encoding/json's naming: the json tag's name or the Go
// name, "-" skips, untagged embedded structs lend their fields, and a
// shallower field hides a deeper one of the same name. Where encoding/json
// would silently drop two same-depth fields of one name, this refuses.
func buildSchema(t reflect.Type) (*schema, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("form type %v is not a struct", t)
	}
	s := &schema{typ: t, fields: map[string]field{}}
	var all []field
	var walk func(t reflect.Type, prefix []int) error
	walk = func(t reflect.Type, prefix []int) error {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			index := append(append([]int(nil), prefix...), i)
			if sf.Anonymous && name == "" {
				if sf.Type.Kind() != reflect.Struct {
					return fmt.Errorf("form type %v: embedded %s must be a struct, not %v", s.typ, sf.Name, sf.Type)
				}
				if err := walk(sf.Type, index); err != nil {
					return err
				}
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if strings.Contains(opts, "string") {
				return fmt.Errorf("form type %v: field %s: the json \",string\" option is not supported", s.typ, sf.Name)
			}
			k, err := kindOf(sf.Type)
			if err != nil {
				return fmt.Errorf("form type %v: field %s: %w", s.typ, sf.Name, err)
			}
			all = append(all, field{name: name, kind: k, index: index})
		}
		return nil
	}
	if err := walk(t, nil); err != nil {
		return nil, err
	}
	tied := map[string]bool{}
	for _, f := range all {
		prev, ok := s.fields[f.name]
		switch {
		case !ok || len(f.index) < len(prev.index):
			s.fields[f.name] = f
			delete(tied, f.name)
		case len(f.index) == len(prev.index):
			tied[f.name] = true
		}
	}
	for name := range tied {
		return nil, fmt.Errorf("form type %v: two fields named %q at the same depth", s.typ, name)
	}
	return s, nil
}

func kindOf(t reflect.Type) (kind, error) {
	switch {
	case t.Kind() == reflect.String:
		return kindString, nil
	case t.Kind() == reflect.Bool:
		return kindBool, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return kindStrings, nil
	}
	return 0, fmt.Errorf("type %v is not supported; use string, bool or []string", t)
}

// duplicate names a repeated key; only schema names get this far, never a
// client's unknown key.
func duplicate(name string) error {
	return malformed("a field appears twice: "+name+"; please send it once", nil)
}

// checkText refuses NUL and U+FFFD. The body was valid UTF-8, so U+FFFD is
// there either literally or, far likelier, because encoding/json replaced a
// lone surrogate (\ud800); either way it is not what the person typed.
// Invalid UTF-8 can only come from form escapes (%ff) and is refused the
// same way.
func checkText(f field, s string) error {
	if strings.ContainsRune(s, 0) || strings.ContainsRune(s, '\uFFFD') || !utf8.ValidString(s) {
		return malformed(f.name+" contains a character we cannot read; please use plain text", nil)
	}
	return nil
}
