package localstream_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// getItem reads an item straight from dynalite; nil when there is none.
func (f *fixture) getItem(t *testing.T, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.direct.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.table, Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func status(item map[string]types.AttributeValue) string {
	v, _ := item["status"].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

// setStatus is an update of a lead's status conditioned on the status it
// has now.
func (f *fixture) setStatus(id, from, to string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &f.table,
		Key:                       map[string]types.AttributeValue{"pk": s("LEAD#" + id)},
		UpdateExpression:          aws.String("SET #s = :to"),
		ConditionExpression:       aws.String("#s = :from"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": s(from), ":to": s(to)},
	}}
}

func (f *fixture) putNew(pk string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           &f.table,
		Item:                map[string]types.AttributeValue{"pk": s(pk), "type": s("audit")},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

func TestTransactionApplies(t *testing.T) {
	f := newFixture(t, &recorder{}, nil)
	l := f.put(t, newLead(lead.StatusNew))
	f.wait(t)
	_, err := f.db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{f.setStatus(l.ID, "new", "contacted"), f.putNew("AUDIT#1")},
	})
	if err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	if got := status(f.getItem(t, "LEAD#"+l.ID)); got != "contacted" {
		t.Errorf("lead status = %q, want contacted", got)
	}
	if f.getItem(t, "AUDIT#1") == nil {
		t.Error("the transaction's put is not stored")
	}
}

func TestTransactionCancelledRollsBack(t *testing.T) {
	f := newFixture(t, &recorder{}, nil)
	a := f.put(t, newLead(lead.StatusNew))
	b := f.put(t, newLead(lead.StatusNew))
	f.wait(t)
	before := f.getItem(t, "LEAD#"+a.ID)

	// Item 0 changes a, item 1 creates an item, item 2's condition fails
	// (b is new, not contacted): all of it must be undone.
	_, err := f.db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			f.setStatus(a.ID, "new", "contacted"), f.putNew("AUDIT#2"), f.setStatus(b.ID, "contacted", "scheduled"),
		},
	})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("error = %v (%T), want *types.TransactionCanceledException", err, err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if want := []string{"None", "None", "ConditionalCheckFailed"}; !reflect.DeepEqual(codes, want) {
		t.Errorf("CancellationReasons = %v, want %v", codes, want)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "TransactionCanceledException" ||
		!strings.Contains(apiErr.ErrorMessage(), "ConditionalCheckFailed") {
		t.Errorf("API error = %v, want code TransactionCanceledException naming the reason", err)
	}

	if after := f.getItem(t, "LEAD#"+a.ID); !reflect.DeepEqual(after, before) {
		t.Errorf("lead a after the cancelled transaction = %v, want it as before: %v", after, before)
	}
	if f.getItem(t, "AUDIT#2") != nil {
		t.Error("the cancelled transaction's put is still stored")
	}
	if got := status(f.getItem(t, "LEAD#"+b.ID)); got != "new" {
		t.Errorf("lead b status = %q, want new", got)
	}
}

func TestTransactionRefusals(t *testing.T) {
	f := newFixture(t, &recorder{}, nil)
	l := f.put(t, newLead(lead.StatusNew))
	f.wait(t)
	for _, tt := range []struct {
		name  string
		items []types.TransactWriteItem
		want  string
	}{
		{"two operations on one item", []types.TransactWriteItem{f.setStatus(l.ID, "new", "contacted"), f.setStatus(l.ID, "new", "spam")},
			"multiple operations on one item"},
		{"a put and an update of one item", []types.TransactWriteItem{f.putNew("LEAD#" + l.ID), f.setStatus(l.ID, "new", "spam")},
			"multiple operations on one item"},
		{"condition check", []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
			TableName: &f.table, Key: map[string]types.AttributeValue{"pk": s("LEAD#" + l.ID)}, ConditionExpression: aws.String("attribute_exists(pk)"),
		}}}, "not emulated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: tt.items})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" || !strings.Contains(apiErr.ErrorMessage(), tt.want) {
				t.Fatalf("error = %v, want ValidationException mentioning %q", err, tt.want)
			}
			if got := status(f.getItem(t, "LEAD#"+l.ID)); got != "new" {
				t.Errorf("lead status = %q after a refused transaction, want new", got)
			}
		})
	}
}

// A bad expression in any item refuses the whole transaction with
// dynalite's own error, and what was applied before it is undone.
func TestTransactionValidationErrorRollsBack(t *testing.T) {
	f := newFixture(t, &recorder{}, nil)
	l := f.put(t, newLead(lead.StatusNew))
	f.wait(t)
	bad := f.setStatus(l.ID, "new", "contacted")
	bad.Update.UpdateExpression = aws.String("SET #s = :nope")
	_, err := f.db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{f.putNew("AUDIT#3"), bad},
	})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		t.Fatalf("error = %v, want ValidationException", err)
	}
	if f.getItem(t, "AUDIT#3") != nil {
		t.Error("the put before the bad item is still stored")
	}
}

// A lead put in a transaction reaches the stream like a PutItem; one put
// in a cancelled transaction never does.
func TestTransactionPutsAreStreamed(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec, nil)
	other := f.put(t, newLead(lead.StatusNew))
	f.wait(t)
	kept, lost := newLead(lead.StatusNew), newLead(lead.StatusNew)
	putLead := func(l lead.Lead) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: &f.table, Item: leadItem(t, f, l)}}
	}
	ctx := context.Background()
	if _, err := f.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{putLead(kept)}}); err != nil {
		t.Fatal(err)
	}
	_, err := f.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{putLead(lost), f.setStatus(other.ID, "spam", "new")},
	})
	if err == nil {
		t.Fatal("transaction with a failing condition succeeded")
	}
	f.wait(t)
	var ids []string
	for _, batch := range rec.got() {
		for _, r := range batch {
			ids = append(ids, leadID(t, r))
		}
	}
	if want := []string{other.ID, kept.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("delivered leads = %v, want %v (the cancelled put must not be delivered)", ids, want)
	}
}

// leadItem returns the item the lead store writes for l: it is stored
// straight in dynalite (past the stream), read and removed again.
func leadItem(t *testing.T, f *fixture, l lead.Lead) map[string]types.AttributeValue {
	t.Helper()
	ctx := context.Background()
	if err := dynamo.New(f.direct, f.table).Put(ctx, l); err != nil {
		t.Fatal(err)
	}
	item := f.getItem(t, "LEAD#"+l.ID)
	if _, err := f.direct.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.table, Key: map[string]types.AttributeValue{"pk": s("LEAD#" + l.ID)}}); err != nil {
		t.Fatal(err)
	}
	return item
}
