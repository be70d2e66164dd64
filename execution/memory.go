package execution

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// QueryAllocator accounts all Arrow buffers of one query against a limit.
// memory.Allocator cannot return an error, so exceeding the limit panics
// with a *qerr.Error of kind ResourceExhausted; the instrumented stream
// wrapper (Instrument) recovers it and fails only that query.
type QueryAllocator struct {
	base   memory.Allocator
	parent *QueryAllocator // set for an operator's view (see Operator)
	limit  int64           // <= 0: unlimited
	used   atomic.Int64
	peak   atomic.Int64
}

// NewQueryAllocator wraps base with a byte limit (<= 0 for none).
func NewQueryAllocator(base memory.Allocator, limit int64) *QueryAllocator {
	if base == nil {
		base = memory.NewGoAllocator()
	}
	return &QueryAllocator{base: base, limit: limit}
}

// Operator returns a view of a for one operator (EXPLAIN ANALYZE): bytes
// allocated or reserved through it count against a (and its limit) and
// also in the view's own Used/Peak, until freed — whoever releases the
// buffer, since an Arrow buffer frees through the allocator that made it.
func (a *QueryAllocator) Operator() *QueryAllocator {
	return &QueryAllocator{base: a.base, parent: a}
}

func (a *QueryAllocator) reserve(n int64) {
	if err := a.tryReserve(n); err != nil {
		panic(err)
	}
}

// tryReserve counts n bytes, or nothing and returns the limit error.
func (a *QueryAllocator) tryReserve(n int64) *qerr.Error {
	if a.parent != nil {
		if err := a.parent.tryReserve(n); err != nil {
			return err // nothing counted here yet
		}
	}
	used := a.used.Add(n)
	if a.limit > 0 && n > 0 && used > a.limit {
		a.used.Add(-n)
		if a.parent != nil {
			a.parent.Unreserve(n)
		}
		return &qerr.Error{Kind: qerr.ResourceExhausted, Msg: fmt.Sprintf(
			"query memory limit exceeded: %d bytes in use, %d more requested, limit %d (raise --query-memory-limit)",
			used-n, n, a.limit)}
	}
	for {
		p := a.peak.Load()
		if used <= p || a.peak.CompareAndSwap(p, used) {
			break
		}
	}
	return nil
}

// Reserve accounts n bytes held outside Arrow buffers (hash tables, Go
// slices); call Release(n) when freed. Panics like Allocate over the limit.
func (a *QueryAllocator) Reserve(n int64) { a.reserve(n) }

// TryReserve is Reserve that reports false (reserving nothing) instead of
// panicking over the limit: operators that can spill ask before growing.
func (a *QueryAllocator) TryReserve(n int64) bool { return a.tryReserve(n) == nil }

// Fits reports whether n more bytes would fit under the query's limit now
// (reserving nothing).
func (a *QueryAllocator) Fits(n int64) bool {
	if !a.TryReserve(n) {
		return false
	}
	a.Unreserve(n)
	return true
}

// Limited reports whether the query has a memory limit.
func (a *QueryAllocator) Limited() bool {
	for ; a != nil; a = a.parent {
		if a.limit > 0 {
			return true
		}
	}
	return false
}

// Unreserve returns bytes taken with Reserve.
func (a *QueryAllocator) Unreserve(n int64) {
	for ; a != nil; a = a.parent {
		a.used.Add(-n)
	}
}

func (a *QueryAllocator) Allocate(size int) []byte {
	a.reserve(int64(size))
	return a.base.Allocate(size)
}

func (a *QueryAllocator) Reallocate(size int, b []byte) []byte {
	a.reserve(int64(size - len(b)))
	return a.base.Reallocate(size, b)
}

func (a *QueryAllocator) Free(b []byte) {
	a.Unreserve(int64(len(b)))
	a.base.Free(b)
}

// Used returns the bytes currently accounted.
func (a *QueryAllocator) Used() int64 { return a.used.Load() }

// Peak returns the highest accounted usage.
func (a *QueryAllocator) Peak() int64 { return a.peak.Load() }

// NodeMemory is a node's view of the memory its queries hold: the sum of
// the allocators of the queries still running. A query that ends is
// settled: what its allocator still counts (buffers lost to a recovered
// panic, or a real leak) leaves the node's figure, so one failed query
// does not inflate it for every later one; Lost keeps the total so tests
// can still see leaks.
type NodeMemory struct {
	mu   sync.Mutex
	live map[*QueryAllocator]struct{}
	lost atomic.Int64
}

// Track counts a in the node's figure until Settle(a).
func (m *NodeMemory) Track(a *QueryAllocator) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live == nil {
		m.live = map[*QueryAllocator]struct{}{}
	}
	m.live[a] = struct{}{}
}

// Settle stops counting a (the query has ended) and returns the bytes it
// still held, which are added to Lost. Frees through a afterwards change
// only a's own figure. Settling twice returns 0 the second time.
func (m *NodeMemory) Settle(a *QueryAllocator) int64 {
	m.mu.Lock()
	_, ok := m.live[a]
	delete(m.live, a)
	m.mu.Unlock()
	if !ok {
		return 0
	}
	n := a.Used()
	m.lost.Add(n)
	return n
}

// Used returns the bytes the running queries hold now.
func (m *NodeMemory) Used() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for a := range m.live {
		n += a.Used()
	}
	return n
}

// Lost returns the bytes queries still held when they were settled, in
// total since the node started.
func (m *NodeMemory) Lost() int64 { return m.lost.Load() }
