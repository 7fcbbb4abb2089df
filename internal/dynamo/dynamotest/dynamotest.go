// Package dynamotest gives tests a real leads table: dynalite on a free
// loopback port, with the table created from LeadsTable in template.yaml.
package dynamotest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
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
	in, err := tmpl.CreateTableInput("LeadsTable", name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Client.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	// dynalite can answer CreateTable a moment before the table takes writes.
	waiter := dynamodb.NewTableExistsWaiter(tbl.Client)
	if err := waiter.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: &name}, 10*time.Second); err != nil {
		t.Fatalf("table %s never became active: %v", name, err)
	}
	return name
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
