package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// countingAlloc counts allocations: a shared subtree allocates its result
// once per batch instead of once per occurrence.
type countingAlloc struct {
	*memory.CheckedAllocator
	n int
}

func (c *countingAlloc) Allocate(size int) []byte { c.n++; return c.CheckedAllocator.Allocate(size) }

func TestShareCommonEvaluatesOnce(t *testing.T) {
	mem := &countingAlloc{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	defer mem.AssertSize(t, 0)
	f := arrow.PrimitiveTypes.Float64
	// a * (1 - b) twice, plus (a * (1 - b)) * a and rand() twice.
	price := func() Expr {
		return mustCall(t, "*", f, c(0, f), mustCall(t, "-", f, lit(1.0), c(1, f)))
	}
	exprs := []Expr{price(), price(), mustCall(t, "*", f, price(), c(0, f)), mustCall(t, "rand", f), mustCall(t, "rand", f)}
	shared, memo := ShareCommon(exprs)
	if memo == nil {
		t.Fatal("no subexpression shared")
	}
	if shared[0] != shared[1] {
		t.Errorf("a*(1-b) not shared: %T %T", shared[0], shared[1])
	}
	if _, ok := shared[3].(*Shared); ok {
		t.Error("rand() must not be shared")
	}
	for pass := 0; pass < 2; pass++ { // a second batch must not see the first's values
		a := col(t, mem, f, `[10, 20, null]`)
		b := col(t, mem, f, `[0.5, 0.25, 1]`)
		if pass == 1 {
			a.Release()
			a = col(t, mem, f, `[1, 2, 3]`)
		}
		batch := batchOf(a, b)
		want := make([]string, len(exprs))
		before := mem.n
		for i, e := range exprs[:3] {
			got, err := e.Eval(mem, batch)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = render(got)
			got.Release()
		}
		plain := mem.n - before
		before = mem.n
		for i, e := range shared[:3] {
			got, err := e.Eval(mem, batch)
			if err != nil {
				t.Fatal(err)
			}
			if s := render(got); s != want[i] {
				t.Errorf("pass %d expr %d: shared %s, plain %s", pass, i, s, want[i])
			}
			got.Release()
		}
		memo.Reset()
		if got := mem.n - before; got >= plain {
			t.Errorf("pass %d: shared evaluation allocated %d times, unshared %d", pass, got, plain)
		}
		batch.Release()
		a.Release()
		b.Release()
	}
}
