package execution

import (
	"sync"
	"time"
)

// OperatorMetrics are the EXPLAIN ANALYZE figures of one operator summed
// over its partitions.
type OperatorMetrics struct {
	Rows, Batches, Bytes int64
	Elapsed              time.Duration
	// PeakMemory is the most bytes the operator held at once over all its
	// partitions: Arrow buffers it allocated and that were still alive
	// (its output batches until their consumer releases them included)
	// plus Go memory it reserved (hash tables, sort indices).
	PeakMemory int64
	// SpilledBytes were written to SpillFiles temporary files (sort,
	// aggregate) when the operator went over its share of the memory limit.
	SpilledBytes, SpillFiles int64
}

// MetricsSet collects metrics per operator, keyed by the physical plan node
// (its pointer), so every partition of one operator adds to one entry.
type MetricsSet struct {
	mu     sync.Mutex
	ops    map[any]*OperatorMetrics
	allocs map[any]*QueryAllocator
}

func NewMetricsSet() *MetricsSet {
	return &MetricsSet{ops: map[any]*OperatorMetrics{}, allocs: map[any]*QueryAllocator{}}
}

// alloc returns operator id's view of parent, one shared by all its
// partitions so that its peak is the operator's, not one partition's.
func (s *MetricsSet) alloc(id any, parent *QueryAllocator) *QueryAllocator {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.allocs[id]
	if a == nil {
		a = parent.Operator()
		s.allocs[id] = a
	}
	return a
}

// Add merges m into the metrics of operator id.
func (s *MetricsSet) Add(id any, m OperatorMetrics) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.ops[id]
	if cur == nil {
		cur = &OperatorMetrics{}
		s.ops[id] = cur
	}
	cur.Rows += m.Rows
	cur.Batches += m.Batches
	cur.Bytes += m.Bytes
	cur.Elapsed += m.Elapsed
	cur.SpilledBytes += m.SpilledBytes
	cur.SpillFiles += m.SpillFiles
	if m.PeakMemory > cur.PeakMemory {
		cur.PeakMemory = m.PeakMemory
	}
}

// Get returns the metrics of operator id.
func (s *MetricsSet) Get(id any) (OperatorMetrics, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.ops[id]
	if !ok {
		return OperatorMetrics{}, false
	}
	return *m, true
}
