package intake

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentSubmissions(t *testing.T) {
	f := newFixture(t, "")
	var retried atomic.Int32
	run := func(n int, req func(i int) string) []string {
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := loadEvent(t, "contact-json.json")
				ev.Body, ev.Headers["idempotency-key"] = req(i), ""
				// Like the website: a 503 is retried with the same body. One
				// local dynalite on a busy laptop does time out under this load.
				resp, err := f.contact.Handle(context.Background(), ev)
				for attempt := 1; attempt < 5 && err == nil && resp.StatusCode == 503; attempt++ {
					retried.Add(1)
					time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
					resp, err = f.contact.Handle(context.Background(), ev)
				}
				if err != nil || resp.StatusCode != 201 {
					t.Errorf("submission %d: %d %s %v", i, resp.StatusCode, resp.Body, err)
					return
				}
				ids[i] = parse(t, resp).ID
			}()
		}
		wg.Wait()
		t.Logf("%d submissions, %d retries after 503", n, retried.Load())
		return ids
	}
	body := loadEvent(t, "contact-json.json").Body

	t.Run("the same submission 20 times at once is one lead", func(t *testing.T) {
		ids := run(20, func(int) string { return body })
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("got ids %q and %q, want one", ids[0], id)
			}
		}
		if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
			t.Fatalf("leads = %d, want 1", n)
		}
	})
	t.Run("200 different submissions at once are 200 leads", func(t *testing.T) {
		ids := run(200, func(i int) string {
			return strings.Replace(body, "jordan.avery@", fmt.Sprintf("person%03d@", i), 1)
		})
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		if len(seen) != 200 {
			t.Errorf("distinct ids = %d, want 200", len(seen))
		}
		if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 201 {
			t.Fatalf("leads = %d, want 201 (200 + the one before)", n)
		}
	})
}
