package execution

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// TestOperatorAllocator checks an operator's view: its own used/peak, the
// query's total and limit, and nothing left counted after a refused
// allocation.
func TestOperatorAllocator(t *testing.T) {
	base := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer base.AssertSize(t, 0)
	q := NewQueryAllocator(base, 1000)
	a, b := q.Operator(), q.Operator()

	x := a.Allocate(300)
	b.Reserve(200)
	if a.Used() != 300 || b.Used() != 200 || q.Used() != 500 {
		t.Fatalf("used a=%d b=%d query=%d", a.Used(), b.Used(), q.Used())
	}
	x = a.Reallocate(600, x)
	if a.Used() != 600 || q.Used() != 800 {
		t.Fatalf("after reallocate: a=%d query=%d", a.Used(), q.Used())
	}
	func() {
		defer func() {
			e, ok := recover().(*qerr.Error)
			if !ok || e.Kind != qerr.ResourceExhausted {
				t.Errorf("over the query limit: recovered %v", e)
			}
		}()
		b.Reserve(300)
	}()
	if b.Used() != 200 || q.Used() != 800 {
		t.Errorf("refused reserve counted: b=%d query=%d", b.Used(), q.Used())
	}
	a.Free(x)
	b.Unreserve(200)
	if a.Used() != 0 || b.Used() != 0 || q.Used() != 0 {
		t.Errorf("after free: a=%d b=%d query=%d", a.Used(), b.Used(), q.Used())
	}
	if a.Peak() != 600 || b.Peak() != 200 || q.Peak() != 800 {
		t.Errorf("peaks a=%d b=%d query=%d, want 600 200 800", a.Peak(), b.Peak(), q.Peak())
	}
}
