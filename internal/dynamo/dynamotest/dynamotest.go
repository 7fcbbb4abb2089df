// Package dynamotest gives tests a real leads table: dynalite on a free
// loopback port, with the table created from LeadsTable in template.yaml.
package dynamotest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// Table is a leads table in a running dynalite.
type Table struct {
	Emulator *localaws.Emulator
	Client   *dynamodb.Client
	Name     string
}

var tableSeq atomic.Int64

// New starts dynalite for the test and creates a leads table in it.
func New(t testing.TB) *Table {
	t.Helper()
	emu := awstest.Dynamo(t)
	db := awstest.DynamoClient(t, emu.Endpoint)
	tbl := &Table{Emulator: emu, Client: db}
	tbl.Name = tbl.Create(t)
	return tbl
}

// Create makes another leads table in the same dynalite and returns its
// name, for tests that need a fresh table without a fresh process.
func (tbl *Table) Create(t testing.TB) string {
	t.Helper()
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("leads-test-%d", tableSeq.Add(1))
	if err := CreateLeadsTable(context.Background(), tbl.Client, tmpl, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// CreateLeadsTable creates table name as template.yaml's LeadsTable
// (keys, indexes) in the DynamoDB db talks to, and waits until it takes
// writes. It is for tools without a testing.TB, such as the bench command.
func CreateLeadsTable(ctx context.Context, db *dynamodb.Client, tmpl *samtemplate.Template, name string) error {
	in, err := tmpl.CreateTableInput("LeadsTable", name)
	if err != nil {
		return err
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	// dynalite can answer CreateTable a moment before the table takes writes.
	waiter := dynamodb.NewTableExistsWaiter(db)
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, 10*time.Second); err != nil {
		return fmt.Errorf("table %s never became active: %w", name, err)
	}
	return nil
}

// PutLeads writes leads to table as intake stores them (dynamo.LeadItem),
// with BatchWriteItem, 25 items a request on 4 connections, sending
// unprocessed items again up to 10 times. It is how benchmarks and the
// bench command fill a table with thousands of leads in seconds.
func PutLeads(ctx context.Context, db *dynamodb.Client, table string, leads []lead.Lead) error {
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	for range 4 {
		wg.Go(func() {
			for batch := range batches {
				req := map[string][]types.WriteRequest{table: batch}
				for tries := 0; len(req) > 0; tries++ {
					if tries == 10 {
						once.Do(func() { failed = fmt.Errorf("put leads: items still unprocessed after %d tries", tries) })
						break
					}
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
					if err != nil {
						once.Do(func() { failed = fmt.Errorf("put leads: %w", err) })
						break
					}
					req = out.UnprocessedItems
				}
			}
		})
	}
	for start := 0; start < len(leads); start += 25 {
		var batch []types.WriteRequest
		for _, l := range leads[start:min(start+25, len(leads))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: dynamo.LeadItem(l)}})
		}
		batches <- batch
	}
	close(batches)
	wg.Wait()
	return failed
}

// Count returns how many items of the given type ("lead", "claim" or
// "audit") the table holds. Tests use it to prove that nothing was stored
// twice.
func (tbl *Table) Count(t testing.TB, table, itemType string) int {
	t.Helper()
	return len(tbl.Items(t, table, itemType))
}

func typeOf(item map[string]types.AttributeValue) string {
	if s, ok := item["type"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
