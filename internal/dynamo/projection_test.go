package dynamo_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The template's ByKindDate and ByStatusDate project exactly what
// IndexAttributes lists.
func TestDateIndexesMatchTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ByKindDate", "ByStatusDate"} {
		i := slices.IndexFunc(in.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndex) bool { return aws.ToString(g.IndexName) == name })
		if i < 0 {
			t.Errorf("template has no %s index", name)
			continue
		}
		p := in.GlobalSecondaryIndexes[i].Projection
		got, want := slices.Sorted(slices.Values(p.NonKeyAttributes)), slices.Sorted(slices.Values(dynamo.IndexAttributes(name)))
		if p.ProjectionType != types.ProjectionTypeInclude || !reflect.DeepEqual(got, want) {
			t.Errorf("%s projection = %s %v, want INCLUDE %v", name, p.ProjectionType, got, want)
		}
	}
}

// dynalite keeps only the INCLUDE projection in ByKindDate and
// ByStatusDate, as DynamoDB does: an index item has no answers, name or
// phone (and email only in ByKindDate).
func TestDateIndexesHoldNoAnswers(t *testing.T) {
	f := newStaffFixture(t)
	f.put(t, sampleConsultation(lead.NewID(t0)))
	for _, q := range []struct{ index, key, value string }{
		{"ByKindDate", "kind", "consultation"},
		{"ByStatusDate", "status", "new"},
	} {
		out, err := f.tbl.Client.Query(context.Background(), &dynamodb.QueryInput{
			TableName: &f.tbl.Name, IndexName: aws.String(q.index),
			KeyConditionExpression:    aws.String("#k = :v"),
			ExpressionAttributeNames:  map[string]string{"#k": q.key},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: q.value}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != 1 {
			t.Fatalf("%s holds %d items, want 1", q.index, len(out.Items))
		}
		allowed := append(dynamo.IndexAttributes(q.index), "pk", "kind", "status", "createdAt")
		for a := range out.Items[0] {
			if !slices.Contains(allowed, a) {
				t.Errorf("the %s item holds %q", q.index, a)
			}
		}
		if _, ok := out.Items[0]["id"]; !ok {
			t.Errorf("the %s item has no id: %v", q.index, out.Items[0])
		}
	}
}
