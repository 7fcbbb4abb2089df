package staff_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/staff"
)

// benchLeads is how many leads BenchmarkListPage lists from.
const benchLeads = 10_000

// seed writes n new leads (benchdata.InboxLeads: every other a contact,
// every 20th in crisis), as the bench command does for its list figure.
func seed(b *testing.B, tbl *dynamotest.Table, n int) {
	b.Helper()
	leads, err := benchdata.InboxLeads(n)
	if err != nil {
		b.Fatal(err)
	}
	if err := dynamotest.PutLeads(context.Background(), tbl.Client, tbl.Name, leads); err != nil {
		b.Fatalf("seed: %v", err)
	}
}

// BenchmarkListPage is one page (50 rows) of GET /staff/leads over 10,000
// new leads in dynalite, through the whole handler: claims, cursor, the
// Query, the JSON. It walks the pages in order and starts over at the end.
// Reported: time per page, its p50 and p95, and DynamoDB calls per page.
// `go test -run '^$' -bench BenchmarkListPage ./internal/staff/`; it seeds
// for a few seconds and then runs the default benchtime.
func BenchmarkListPage(b *testing.B) {
	tbl := dynamotest.New(b)
	seed(b, tbl, benchLeads)
	calls := &dynamotest.Counter{API: dynamo.StaffClientAPI(tbl.Client)}
	cfg := testConfig()
	h := staff.NewWithStore(cfg, "us-east-1", dynamo.NewStaff(calls, tbl.Name), time.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))

	for _, kind := range []string{"", "contact"} {
		name := "all"
		if kind != "" {
			name = "kind=" + kind
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			query := map[string]string{"limit": "50"}
			if kind != "" {
				query["kind"] = kind
			}
			var lat []time.Duration
			rows, pages := 0, 0
			before := calls.Total()
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				resp, err := h.Handle(ctx, listReq(query))
				lat = append(lat, time.Since(start))
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("list: %v %d %s", err, resp.StatusCode, resp.Body)
				}
				body := decode[listJSON](b, resp)
				rows += len(body.Leads)
				pages++
				if body.Next == nil {
					delete(query, "cursor")
				} else {
					query["cursor"] = *body.Next
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(calls.Total()-before)/float64(pages), "calls/page")
			b.ReportMetric(float64(rows)/float64(pages), "rows/page")
		})
	}
}
