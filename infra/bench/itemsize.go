package main

import (
	"strings"
	"unicode/utf8"
)

// DynamoDB sizes items for capacity units by these rules (DynamoDB
// Developer Guide, "Item sizes and formats"): an attribute is its name's
// UTF-8 length plus its value's size; a string is its UTF-8 length; a
// number is about one byte per two significant digits plus one; a boolean
// or null is one byte; a list or map is 3 bytes plus, per element, one byte
// and the element (map keys count as names); a set is the sum of its
// members.

// itemSize returns the size of an item in DynamoDB's JSON wire form
// (attribute name -> {"S": ...} and so on), as the stub received it.
func itemSize(item map[string]any) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v any) int {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return 0
	}
	for typ, x := range m {
		switch typ {
		case "S":
			s, _ := x.(string)
			return len(s)
		case "N":
			s, _ := x.(string)
			return numberSize(s)
		case "B":
			s, _ := x.(string) // base64 on the wire
			return len(s) * 3 / 4
		case "BOOL", "NULL":
			return 1
		case "L":
			list, _ := x.([]any)
			n := 3
			for _, e := range list {
				n += 1 + valueSize(e)
			}
			return n
		case "M":
			mm, _ := x.(map[string]any)
			n := 3
			for k, e := range mm {
				n += 1 + len(k) + valueSize(e)
			}
			return n
		case "SS", "NS", "BS":
			list, _ := x.([]any)
			n := 0
			for _, e := range list {
				s, _ := e.(string)
				switch typ {
				case "SS":
					n += len(s)
				case "NS":
					n += numberSize(s)
				default:
					n += len(s) * 3 / 4
				}
			}
			return n
		}
	}
	return 0
}

// numberSize: one byte per two significant digits, plus one.
func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	mant, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := strings.ReplaceAll(mant, ".", "")
	digits = strings.TrimLeft(digits, "0")
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return 1
	}
	return (utf8.RuneCountInString(digits)+1)/2 + 1
}

// sizeAfterSet returns item's size after SET name = value.
func sizeAfterSet(item map[string]any, name string, value any) int {
	n := itemSize(item)
	if old, ok := item[name]; ok {
		n -= len(name) + valueSize(old)
	}
	return n + len(name) + valueSize(value)
}

// setAttrs reads the attributes an UpdateItem input sets ("SET #a = :v,
// ..."), resolving #names and :values.
func setAttrs(in map[string]any) map[string]any {
	expr, _ := in["UpdateExpression"].(string)
	names, _ := in["ExpressionAttributeNames"].(map[string]any)
	values, _ := in["ExpressionAttributeValues"].(map[string]any)
	out := map[string]any{}
	rest, ok := strings.CutPrefix(strings.TrimSpace(expr), "SET ")
	if !ok {
		return out
	}
	for _, part := range strings.Split(rest, ",") {
		lhs, rhs, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		name := strings.TrimSpace(lhs)
		if n, ok := names[name].(string); ok {
			name = n
		}
		out[name] = values[strings.TrimSpace(rhs)]
	}
	return out
}

// units returns how many capacity units of size unit an item of n bytes
// needs (at least one).
func units(n, unit int) int {
	if n <= 0 {
		return 1
	}
	return (n + unit - 1) / unit
}
