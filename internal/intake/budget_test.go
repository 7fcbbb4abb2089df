package intake_test

import "testing"

// Allocation budgets per request: the measurement plus about 25% (go1.26.10,
// validator v10.26.0, aws-sdk-go-v2 dynamodb v1.74.0). An allocation count
// does not depend on the machine, so unlike timings it can be a test. If a
// change needs more, look at `go test -bench . -benchmem ./internal/...`
// first: the budget is there to make growth a decision.
//
// Measured: contact 219 (decode+validate+item build) and 237 (handler),
// consultation 459 and 477. Most are the JSON decoder's tokens (Decode is
// about two thirds: 136 and 331) and the validator.
var allocBudget = map[string]struct{ work, handle float64 }{
	"contact":      {work: 275, handle: 300},
	"consultation": {work: 575, handle: 600},
}

func TestAllocBudget(t *testing.T) {
	for _, p := range newPerRequest(t) {
		budget, ok := allocBudget[p.name]
		if !ok {
			t.Fatalf("no allocation budget for %s", p.name)
		}
		t.Run(p.name, func(t *testing.T) {
			work := testing.AllocsPerRun(200, func() { p.work(t) })
			handle := testing.AllocsPerRun(200, func() { p.handle(t) })
			t.Logf("%s: %.0f allocations for decode+validate+item build (budget %.0f), %.0f for the whole handler (budget %.0f)",
				p.name, work, budget.work, handle, budget.handle)
			if work > budget.work {
				t.Errorf("%s: decode+validate+item build allocates %.0f times per request, budget %.0f", p.name, work, budget.work)
			}
			if handle > budget.handle {
				t.Errorf("%s: the handler allocates %.0f times per request, budget %.0f", p.name, handle, budget.handle)
			}
		})
	}
}
