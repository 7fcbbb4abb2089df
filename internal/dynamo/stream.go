package dynamo

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// IsLeadImage reports whether a stream image is a lead item (not, say, an
// idempotency claim).
func IsLeadImage(img map[string]events.DynamoDBAttributeValue) bool {
	v, ok := img[attrType]
	return ok && v.DataType() == events.DataTypeString && v.String() == typeLead
}

// LeadFromImage parses a stream record's NewImage with the same schema the
// store writes.
func LeadFromImage(img map[string]events.DynamoDBAttributeValue) (lead.Lead, error) {
	item := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		av, err := fromStream(v)
		if err != nil {
			return lead.Lead{}, fmt.Errorf("stream image attribute %q: %w", k, err)
		}
		item[k] = av
	}
	return leadFromItem(item)
}

// fromStream converts the types the schema uses (S, N, BOOL, L, M, SS);
// anything else is not ours.
func fromStream(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return sval(v.String()), nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeList:
		list := v.List()
		out := make([]types.AttributeValue, len(list))
		for i, e := range list {
			av, err := fromStream(e)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m := v.Map()
		out := make(map[string]types.AttributeValue, len(m))
		for k, e := range m {
			av, err := fromStream(e)
			if err != nil {
				return nil, err
			}
			out[k] = av
		}
		return &types.AttributeValueMemberM{Value: out}, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
}

// StreamImage converts a stored item into a stream image, as DynamoDB
// Streams would deliver it. The local stream emulator uses it.
func StreamImage(item map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		ev, err := toStream(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = ev
	}
	return out, nil
}

func toStream(v types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			ev, err := toStream(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, err
			}
			list[i] = ev
		}
		return events.NewListAttribute(list), nil
	case *types.AttributeValueMemberM:
		m := make(map[string]events.DynamoDBAttributeValue, len(v.Value))
		for k, e := range v.Value {
			ev, err := toStream(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, err
			}
			m[k] = ev
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute type %T", v)
}

// LeadImage is the stream image of l as the store writes it: for tests and
// sample events.
func LeadImage(l lead.Lead) (map[string]events.DynamoDBAttributeValue, error) {
	return StreamImage(leadItem(l))
}

// ClaimImage is the stream image of an idempotency claim as the store
// writes it: for tests of what the stream delivers.
func ClaimImage(c lead.Claim) (map[string]events.DynamoDBAttributeValue, error) {
	return StreamImage(claimItem(c))
}
