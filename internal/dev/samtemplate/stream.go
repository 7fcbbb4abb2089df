package samtemplate

import (
	"encoding/json"
	"fmt"
	"sort"
)

// StreamEvent is a function's DynamoDB stream event source as deployed, for
// a local stream emulator to deliver records the way Lambda would.
type StreamEvent struct {
	Name string // event name under the function's Events
	// Patterns are the FilterCriteria patterns, JSON as written in the
	// template; a record is delivered when any of them matches (see Match).
	Patterns                   []string
	BatchSize                  int32
	MaximumRetryAttempts       int32
	MaximumRecordAgeInSeconds  int32
	BisectBatchOnFunctionError bool
	ReportBatchItemFailures    bool // FunctionResponseTypes has ReportBatchItemFailures
}

// StreamEvent returns the single event of Type DynamoDB on the function
// functionID. Values taken from parameters resolve to their defaults.
func (t *Template) StreamEvent(functionID string) (StreamEvent, error) {
	props, err := t.functionProperties(functionID)
	if err != nil {
		return StreamEvent{}, err
	}
	events, _ := props["Events"].(map[string]any)
	var names []string
	for name, e := range events {
		if m, ok := e.(map[string]any); ok && m["Type"] == "DynamoDB" {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		sort.Strings(names)
		return StreamEvent{}, fmt.Errorf("function %s: got DynamoDB events %q, want exactly one", functionID, names)
	}

	ev := StreamEvent{Name: names[0]}
	errorf := func(format string, a ...any) error {
		return fmt.Errorf("function %s event %s: "+format, append([]any{functionID, ev.Name}, a...)...)
	}
	p, ok := events[ev.Name].(map[string]any)["Properties"].(map[string]any)
	if !ok {
		return StreamEvent{}, errorf("no Properties")
	}
	// Lambda's defaults apply where the template is silent: 100 records,
	// infinite retries (-1) and age (-1).
	ev.BatchSize, ev.MaximumRetryAttempts, ev.MaximumRecordAgeInSeconds = 100, -1, -1
	for key, dst := range map[string]*int32{
		"BatchSize":                 &ev.BatchSize,
		"MaximumRetryAttempts":      &ev.MaximumRetryAttempts,
		"MaximumRecordAgeInSeconds": &ev.MaximumRecordAgeInSeconds,
	} {
		if v, ok := p[key]; ok {
			if *dst, err = t.int32Value(v, key); err != nil {
				return StreamEvent{}, errorf("%w", err)
			}
		}
	}
	if v, ok := p["BisectBatchOnFunctionError"]; ok {
		if ev.BisectBatchOnFunctionError, err = t.boolValue(v, "BisectBatchOnFunctionError"); err != nil {
			return StreamEvent{}, errorf("%w", err)
		}
	}
	if rts, ok := p["FunctionResponseTypes"].([]any); ok {
		for _, rt := range rts {
			if rt == "ReportBatchItemFailures" {
				ev.ReportBatchItemFailures = true
			}
		}
	}

	if fc, ok := p["FilterCriteria"]; ok {
		m, ok := fc.(map[string]any)
		if !ok {
			return StreamEvent{}, errorf("FilterCriteria is not a mapping")
		}
		filters, err := list(m["Filters"], "FilterCriteria.Filters")
		if err != nil {
			return StreamEvent{}, errorf("%w", err)
		}
		for i, f := range filters {
			pat, err := t.stringValue(f["Pattern"], fmt.Sprintf("FilterCriteria.Filters[%d].Pattern", i))
			if err != nil {
				return StreamEvent{}, errorf("%w", err)
			}
			// A pattern that is not a JSON object fails the deploy; catch it here.
			var obj map[string]any
			if err := json.Unmarshal([]byte(pat), &obj); err != nil {
				return StreamEvent{}, errorf("filter %d: %w", i, err)
			}
			ev.Patterns = append(ev.Patterns, pat)
		}
	}
	return ev, nil
}

// Match reports whether Lambda would deliver record, the JSON of one stream
// record as Lambda sees it (events.DynamoDBEventRecord marshals to that):
// true when there are no patterns or any pattern matches.
//
// Only what Lambda calls equality matching is supported: nested objects and
// arrays of literal values. A pattern using an operator such as prefix,
// anything-but or exists gives an error rather than a wrong answer.
func (e StreamEvent) Match(record []byte) (bool, error) {
	if len(e.Patterns) == 0 {
		return true, nil
	}
	var rec map[string]any
	if err := json.Unmarshal(record, &rec); err != nil {
		return false, fmt.Errorf("match record: %w", err)
	}
	for _, p := range e.Patterns {
		var pat map[string]any
		if err := json.Unmarshal([]byte(p), &pat); err != nil {
			return false, fmt.Errorf("match pattern %s: %w", p, err)
		}
		ok, err := matchObject(pat, rec)
		if err != nil {
			return false, fmt.Errorf("match pattern %s: %w", p, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func matchObject(pat, rec map[string]any) (bool, error) {
	// Check the whole pattern even after a mismatch, so an unsupported
	// operator is reported whatever the record holds.
	all := true
	for key, pv := range pat {
		rv, present := rec[key]
		switch want := pv.(type) {
		case map[string]any:
			sub, _ := rv.(map[string]any)
			ok, err := matchObject(want, sub)
			if err != nil {
				return false, err
			}
			all = all && present && ok
		case []any:
			ok, err := matchValues(want, rv)
			if err != nil {
				return false, err
			}
			all = all && present && ok
		default:
			return false, fmt.Errorf("key %q: pattern values must be objects or arrays, got %v", key, pv)
		}
	}
	return all, nil
}

func matchValues(allowed []any, rv any) (bool, error) {
	values := []any{rv}
	if arr, ok := rv.([]any); ok {
		values = arr
	}
	found := false
	for _, a := range allowed {
		switch a.(type) {
		case string, float64, bool, nil:
		default:
			return false, fmt.Errorf("%v is not a literal; operators are not supported", a)
		}
		for _, v := range values {
			if a == v {
				found = true
			}
		}
	}
	return found, nil
}
