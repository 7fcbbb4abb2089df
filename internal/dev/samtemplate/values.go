package samtemplate

import (
	"fmt"
	"math"
	"strconv"
)

// literal returns v, or the Default of the parameter v refers to: the local
// stack runs with the defaults, so a value taken from a parameter still works.
func (t *Template) literal(v any) (any, error) {
	if !isIntrinsic(v) {
		return v, nil
	}
	m := v.(map[string]any)
	name, ok := m["Ref"].(string)
	if !ok {
		for k := range m {
			return nil, fmt.Errorf("%s cannot be resolved outside CloudFormation", k)
		}
	}
	p, ok := t.Parameters[name]
	if !ok {
		return nil, fmt.Errorf("!Ref %s is not a parameter", name)
	}
	d, ok := p["Default"]
	if !ok {
		return nil, fmt.Errorf("parameter %s has no Default", name)
	}
	return d, nil
}

func (t *Template) stringValue(v any, what string) (string, error) {
	v, err := t.literal(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: got %T, want a string", what, v)
	}
	return s, nil
}

func (t *Template) int32Value(v any, what string) (int32, error) {
	v, err := t.literal(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("%s: %v is not a whole number", what, x)
		}
		n = int64(x)
	case string: // parameter defaults of Type Number are often quoted
		if n, err = strconv.ParseInt(x, 10, 32); err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
	default:
		return 0, fmt.Errorf("%s: got %T, want a number", what, v)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%s: %d is out of range", what, n)
	}
	return int32(n), nil
}

func (t *Template) boolValue(v any, what string) (bool, error) {
	v, err := t.literal(v)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("%s: %w", what, err)
		}
		return b, nil
	}
	return false, fmt.Errorf("%s: got %T, want a boolean", what, v)
}

// list returns v as a list of mappings; a missing value is an empty list.
func list(v any, what string) ([]map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	raw, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: got %T, want a list", what, v)
	}
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		if out[i], ok = e.(map[string]any); !ok {
			return nil, fmt.Errorf("%s[%d]: got %T, want a mapping", what, i, e)
		}
	}
	return out, nil
}

// isIntrinsic reports whether v is a long-form intrinsic function, which
// SAM's Globals merge treats as a single value rather than a mapping.
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || len(k) > 4 && k[:4] == "Fn::"
	}
	return false
}

// functionProperties returns a function's properties with Globals.Function
// merged in as SAM does: mappings merge (the function wins), lists
// concatenate, and any other value in the function replaces the global one.
func (t *Template) functionProperties(id string) (map[string]any, error) {
	r, ok := t.Resources[id]
	if !ok || r.Type != "AWS::Serverless::Function" {
		return nil, fmt.Errorf("no AWS::Serverless::Function %s", id)
	}
	globals, _ := t.Globals["Function"].(map[string]any)
	return mergeGlobals(globals, r.Properties).(map[string]any), nil
}

func mergeGlobals(global, local any) any {
	if global == nil {
		return local
	}
	if local == nil {
		return global
	}
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok && !isIntrinsic(gm) && !isIntrinsic(lm) {
		out := make(map[string]any, len(gm)+len(lm))
		for k, v := range gm {
			out[k] = v
		}
		for k, v := range lm {
			out[k] = mergeGlobals(gm[k], v)
		}
		return out
	}
	gl, gok := global.([]any)
	ll, lok := local.([]any)
	if gok && lok {
		return append(append([]any{}, gl...), ll...)
	}
	return local
}
