package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// stubLeads is how many leads the stub answers Query from: more than a
// page of the largest limit the staff list allows (100, plus the one the
// store asks for to know there is a next page).
const stubLeads = 200

// queryAnswers are the stub's answers to Query, by index name: the leads
// of benchdata.InboxLeads that carry the index's keys, projected as the
// template's index projects them, in ascending order of its sort key. The
// stub ignores the key condition and the start key (its every lead is
// "new"; the functions measured ask for a first page), but honours
// ScanIndexForward and Limit, and returns LastEvaluatedKey when it cut
// the answer short, as DynamoDB does. An index no lead is in (the audit
// trail's) answers no items.
type queryAnswers map[string]stubIndex

// stubIndex is one index's items in the JSON protocol's form, and the
// names of the attributes that make up its LastEvaluatedKey.
type stubIndex struct {
	keys []string
	rows []map[string]any
}

func newQueryAnswers(tmpl *samtemplate.Template) (queryAnswers, error) {
	in, err := tmpl.CreateTableInput("LeadsTable", "Leads")
	if err != nil {
		return nil, err
	}
	leads, err := benchdata.InboxLeads(stubLeads)
	if err != nil {
		return nil, err
	}
	items := make([]map[string]types.AttributeValue, len(leads))
	for i, l := range leads {
		items[i] = dynamo.LeadItem(l)
	}
	var tableKeys []string
	for _, k := range in.KeySchema {
		tableKeys = append(tableKeys, deref(k.AttributeName))
	}
	out := queryAnswers{}
	for _, g := range in.GlobalSecondaryIndexes {
		var indexKeys []string
		for _, k := range g.KeySchema {
			indexKeys = append(indexKeys, deref(k.AttributeName))
		}
		if len(indexKeys) != 2 {
			continue // no sort key: not an index the functions page through
		}
		keep := func(string) bool { return true } // ProjectionType ALL
		if p := g.Projection; p != nil && p.ProjectionType != types.ProjectionTypeAll {
			attrs := append(append(slices.Clone(tableKeys), indexKeys...), p.NonKeyAttributes...)
			keep = func(name string) bool { return slices.Contains(attrs, name) }
		}
		var rows []map[string]types.AttributeValue
		for _, item := range items {
			if item[indexKeys[0]] == nil || item[indexKeys[1]] == nil {
				continue
			}
			row := map[string]types.AttributeValue{}
			for name, v := range item {
				if keep(name) {
					row[name] = v
				}
			}
			rows = append(rows, row)
		}
		sortKey := indexKeys[1]
		slices.SortStableFunc(rows, func(a, b map[string]types.AttributeValue) int {
			return strings.Compare(attrS(a[sortKey]), attrS(b[sortKey]))
		})
		var wire []map[string]any
		for _, r := range rows {
			w, err := wireItem(r)
			if err != nil {
				return nil, fmt.Errorf("index %s: %w", deref(g.IndexName), err)
			}
			wire = append(wire, w)
		}
		out[deref(g.IndexName)] = stubIndex{keys: append(slices.Clone(tableKeys), indexKeys...), rows: wire}
	}
	return out, nil
}

// answer is the Query output for the request in (the JSON the SDK sent).
func (q queryAnswers) answer(in map[string]any) map[string]any {
	name, _ := in["IndexName"].(string)
	index := q[name]
	rows := slices.Clone(index.rows)
	if forward, ok := in["ScanIndexForward"].(bool); ok && !forward {
		slices.Reverse(rows)
	}
	out := map[string]any{}
	if limit, ok := in["Limit"].(float64); ok && int(limit) < len(rows) {
		rows = rows[:int(limit)]
		last := rows[len(rows)-1]
		lek := map[string]any{}
		for _, k := range index.keys {
			lek[k] = last[k]
		}
		out["LastEvaluatedKey"] = lek
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	out["Items"] = rows
	out["Count"] = len(rows)
	out["ScannedCount"] = len(rows)
	return out
}

func attrS(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// wireItem is an item as DynamoDB's JSON protocol carries it:
// {"name": {"S": "..."}, ...}.
func wireItem(item map[string]types.AttributeValue) (map[string]any, error) {
	out := make(map[string]any, len(item))
	for name, v := range item {
		w, err := wireValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		out[name] = w
	}
	return out, nil
}

func wireValue(v types.AttributeValue) (map[string]any, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberL:
		list := make([]any, len(v.Value))
		for i, e := range v.Value {
			w, err := wireValue(e)
			if err != nil {
				return nil, err
			}
			list[i] = w
		}
		return map[string]any{"L": list}, nil
	case *types.AttributeValueMemberM:
		m, err := wireItem(v.Value)
		if err != nil {
			return nil, err
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("attribute value %T is not one the stub writes", v)
}
