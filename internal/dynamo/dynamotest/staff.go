package dynamotest

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// Transactional returns a client for the table that can run
// TransactWriteItems, which dynalite cannot: it goes through the stream
// proxy of package localstream, as the functions do in the dev stack. The
// proxy's stream records are dropped; the proxy stops with the test.
func (tbl *Table) Transactional(t testing.TB) *dynamodb.Client {
	t.Helper()
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := localstream.ConfigFromTemplate(tmpl, samtemplate.LeadsTable, samtemplate.NotifyFunction, tbl.Name)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target = tbl.Emulator.Endpoint
	cfg.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg.Deliver = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}
	s, err := localstream.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return awstest.DynamoClient(t, s.Endpoint())
}

// Counter counts the calls made through it to API, by operation, so
// tests can hold code to a budget of DynamoDB calls.
type Counter struct {
	API                                        dynamo.StaffAPI
	Puts, Gets, Updates, Queries, Transactions atomic.Int64
}

// Total is the number of calls so far.
func (c *Counter) Total() int64 {
	return c.Puts.Load() + c.Gets.Load() + c.Updates.Load() + c.Queries.Load() + c.Transactions.Load()
}

func (c *Counter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.Puts.Add(1)
	return c.API.PutItem(ctx, in, opts...)
}

func (c *Counter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.Gets.Add(1)
	return c.API.GetItem(ctx, in, opts...)
}

func (c *Counter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.Updates.Add(1)
	return c.API.UpdateItem(ctx, in, opts...)
}

func (c *Counter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.Queries.Add(1)
	return c.API.Query(ctx, in, opts...)
}

func (c *Counter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.Transactions.Add(1)
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// Items returns every item of the given type ("lead", "claim", "audit")
// in table, read straight from dynalite.
func (tbl *Table) Items(t testing.TB, table, itemType string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(tbl.Client, &dynamodb.ScanInput{TableName: &table, ConsistentRead: new(bool)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, item := range out.Items {
			if typeOf(item) == itemType {
				items = append(items, item)
			}
		}
	}
	return items
}

// Lead returns the stored item of lead id in the test's table, read
// consistently and straight from dynalite; nil when there is none.
func (tbl *Table) Lead(t testing.TB, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := tbl.Client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &tbl.Name, Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEAD#" + id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}
