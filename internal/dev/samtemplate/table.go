package samtemplate

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTableInput turns the AWS::DynamoDB::Table resource logicalID into a
// CreateTable request for a table called tableName, so a local DynamoDB gets
// the same keys, indexes, billing mode and stream as the deployed table.
//
// Settings that need the deployed stack or a separate call are left out:
// the KMS key (a reference to another resource), deletion protection (local
// tests drop their tables), point-in-time recovery, tags, and time to live
// (see TimeToLiveAttribute).
func (t *Template) CreateTableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	p, err := t.tableProperties(logicalID)
	if err != nil {
		return nil, err
	}
	if tableName == "" {
		return nil, fmt.Errorf("table %s: empty table name", logicalID)
	}
	errorf := func(format string, a ...any) error {
		return fmt.Errorf("table %s: "+format, append([]any{logicalID}, a...)...)
	}

	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName)}
	attrs, err := list(p["AttributeDefinitions"], "AttributeDefinitions")
	if err != nil {
		return nil, errorf("%w", err)
	}
	for i, a := range attrs {
		name, err := t.stringValue(a["AttributeName"], fmt.Sprintf("AttributeDefinitions[%d].AttributeName", i))
		if err != nil {
			return nil, errorf("%w", err)
		}
		typ, err := t.stringValue(a["AttributeType"], fmt.Sprintf("AttributeDefinitions[%d].AttributeType", i))
		if err != nil {
			return nil, errorf("%w", err)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(name),
			AttributeType: types.ScalarAttributeType(typ),
		})
	}
	if in.KeySchema, err = t.keySchema(p["KeySchema"], "KeySchema"); err != nil {
		return nil, errorf("%w", err)
	}
	if len(in.KeySchema) == 0 {
		return nil, errorf("no KeySchema")
	}
	if v, ok := p["BillingMode"]; ok {
		mode, err := t.stringValue(v, "BillingMode")
		if err != nil {
			return nil, errorf("%w", err)
		}
		in.BillingMode = types.BillingMode(mode)
	}
	if in.ProvisionedThroughput, err = t.throughput(p["ProvisionedThroughput"], "ProvisionedThroughput"); err != nil {
		return nil, errorf("%w", err)
	}

	gsis, err := list(p["GlobalSecondaryIndexes"], "GlobalSecondaryIndexes")
	if err != nil {
		return nil, errorf("%w", err)
	}
	for i, g := range gsis {
		what := fmt.Sprintf("GlobalSecondaryIndexes[%d]", i)
		idx := types.GlobalSecondaryIndex{}
		if idx.IndexName, idx.KeySchema, idx.Projection, err = t.index(g, what); err != nil {
			return nil, errorf("%w", err)
		}
		if idx.ProvisionedThroughput, err = t.throughput(g["ProvisionedThroughput"], what+".ProvisionedThroughput"); err != nil {
			return nil, errorf("%w", err)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, idx)
	}
	lsis, err := list(p["LocalSecondaryIndexes"], "LocalSecondaryIndexes")
	if err != nil {
		return nil, errorf("%w", err)
	}
	for i, l := range lsis {
		idx := types.LocalSecondaryIndex{}
		if idx.IndexName, idx.KeySchema, idx.Projection, err = t.index(l, fmt.Sprintf("LocalSecondaryIndexes[%d]", i)); err != nil {
			return nil, errorf("%w", err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, idx)
	}

	// In CloudFormation a StreamSpecification means the stream is on.
	if v, ok := p["StreamSpecification"]; ok {
		spec, ok := v.(map[string]any)
		if !ok {
			return nil, errorf("StreamSpecification is not a mapping")
		}
		view, err := t.stringValue(spec["StreamViewType"], "StreamSpecification.StreamViewType")
		if err != nil {
			return nil, errorf("%w", err)
		}
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(view),
		}
	}
	return in, nil
}

// TimeToLiveAttribute returns the attribute the table logicalID expires
// items by, or "" when time to live is off. The store writes this attribute,
// so its tests can check the name against the template.
func (t *Template) TimeToLiveAttribute(logicalID string) (string, error) {
	p, err := t.tableProperties(logicalID)
	if err != nil {
		return "", err
	}
	v, ok := p["TimeToLiveSpecification"]
	if !ok {
		return "", nil
	}
	spec, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("table %s: TimeToLiveSpecification is not a mapping", logicalID)
	}
	if enabled, err := t.boolValue(spec["Enabled"], "TimeToLiveSpecification.Enabled"); err != nil {
		return "", fmt.Errorf("table %s: %w", logicalID, err)
	} else if !enabled {
		return "", nil
	}
	name, err := t.stringValue(spec["AttributeName"], "TimeToLiveSpecification.AttributeName")
	if err != nil {
		return "", fmt.Errorf("table %s: %w", logicalID, err)
	}
	return name, nil
}

func (t *Template) tableProperties(logicalID string) (map[string]any, error) {
	r, ok := t.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("no resource %s in template", logicalID)
	}
	if r.Type != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("resource %s is %s, not AWS::DynamoDB::Table", logicalID, r.Type)
	}
	return r.Properties, nil
}

func (t *Template) keySchema(v any, what string) ([]types.KeySchemaElement, error) {
	elems, err := list(v, what)
	if err != nil {
		return nil, err
	}
	var out []types.KeySchemaElement
	for i, e := range elems {
		name, err := t.stringValue(e["AttributeName"], fmt.Sprintf("%s[%d].AttributeName", what, i))
		if err != nil {
			return nil, err
		}
		kt, err := t.stringValue(e["KeyType"], fmt.Sprintf("%s[%d].KeyType", what, i))
		if err != nil {
			return nil, err
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyType(kt)})
	}
	return out, nil
}

func (t *Template) index(m map[string]any, what string) (*string, []types.KeySchemaElement, *types.Projection, error) {
	name, err := t.stringValue(m["IndexName"], what+".IndexName")
	if err != nil {
		return nil, nil, nil, err
	}
	keys, err := t.keySchema(m["KeySchema"], what+".KeySchema")
	if err != nil {
		return nil, nil, nil, err
	}
	proj, ok := m["Projection"].(map[string]any)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%s.Projection is not a mapping", what)
	}
	pt, err := t.stringValue(proj["ProjectionType"], what+".Projection.ProjectionType")
	if err != nil {
		return nil, nil, nil, err
	}
	p := &types.Projection{ProjectionType: types.ProjectionType(pt)}
	if raw, ok := proj["NonKeyAttributes"].([]any); ok {
		for i, a := range raw {
			s, err := t.stringValue(a, fmt.Sprintf("%s.Projection.NonKeyAttributes[%d]", what, i))
			if err != nil {
				return nil, nil, nil, err
			}
			p.NonKeyAttributes = append(p.NonKeyAttributes, s)
		}
	}
	return aws.String(name), keys, p, nil
}

func (t *Template) throughput(v any, what string) (*types.ProvisionedThroughput, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a mapping", what)
	}
	r, err := t.int32Value(m["ReadCapacityUnits"], what+".ReadCapacityUnits")
	if err != nil {
		return nil, err
	}
	w, err := t.int32Value(m["WriteCapacityUnits"], what+".WriteCapacityUnits")
	if err != nil {
		return nil, err
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(r)), WriteCapacityUnits: aws.Int64(int64(w))}, nil
}
