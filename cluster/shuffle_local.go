package cluster

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/planner/stages"
)

// LocalShuffle keeps one query's shuffle output in memory: the batches every
// producer task of a stage wrote for each output partition. The scheduler
// starts a consumer stage only after all its producer stages finished, so a
// Read sees complete data. (Spilling to IPC files under the work dir and
// serving partitions to other nodes over Flight come with distribution.)
type LocalShuffle struct {
	schemas map[int]*arrow.Schema // stage → output schema

	mu    sync.Mutex
	parts map[shuffleKey][]arrow.RecordBatch
	// once: stages each of whose partitions exactly one task reads, once
	// (ConsumeOnRead); Read hands those batches over.
	once map[int]bool
}

type shuffleKey struct{ stage, partition int }

// NewLocalShuffle returns an empty store; schemas gives each producer
// stage's output schema (needed to read a partition nobody wrote to).
func NewLocalShuffle(schemas map[int]*arrow.Schema) *LocalShuffle {
	return &LocalShuffle{schemas: schemas, parts: map[shuffleKey][]arrow.RecordBatch{}}
}

func (s *LocalShuffle) Writer(ctx context.Context, stage, inputPartition int) (execution.ShuffleWriter, error) {
	return &localWriter{s: s, stage: stage}, nil
}

// Read streams the partition's batches. Several consumers may read one
// partition (broadcast), so each reader gets its own references and the store
// keeps the originals until ReleaseStage or Release.
func (s *LocalShuffle) Read(ctx context.Context, stage, partition int) (execution.Stream, error) {
	k := shuffleKey{stage, partition}
	s.mu.Lock()
	batches := append([]arrow.RecordBatch(nil), s.parts[k]...)
	if s.once[stage] {
		// The only reader: the batches are freed as it consumes them
		// (a hash join's build copies and drops them one by one).
		delete(s.parts, k)
		s.mu.Unlock()
		return execution.NewBatchStream(s.schemas[stage], batches), nil
	}
	s.mu.Unlock()
	for _, b := range batches {
		b.Retain()
	}
	return execution.NewBatchStream(s.schemas[stage], batches), nil
}

// ConsumeOnRead lets Read hand over the partitions of the stages graph
// reads exactly once per partition: one ShuffleRead node in all of graph,
// in a stage other than the final one (held results may read the final
// stage's inputs again), neither broadcast nor read by a consumer with a
// different partition count (a join reads a one-partition build side from
// every partition), nor under a recursive CTE (which re-runs its recursive
// term). The single-node scheduler has no retries, so nothing reads them
// again.
func (s *LocalShuffle) ConsumeOnRead(graph []*stages.Stage) {
	reads, ok := map[int]int{}, map[int]bool{}
	var walk func(p physical.Plan, st *stages.Stage, final, rec bool)
	walk = func(p physical.Plan, st *stages.Stage, final, rec bool) {
		switch n := p.(type) {
		case *physical.ShuffleRead:
			reads[n.Stage]++
			ok[n.Stage] = reads[n.Stage] == 1 && !final && !rec && !n.Broadcast && n.Partitions == st.Partitions
		case *physical.RecursiveCTE:
			rec = true
		}
		for _, c := range p.Children() {
			walk(c, st, final, rec)
		}
	}
	for i, st := range graph {
		walk(st.Root, st, i == len(graph)-1, false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.once = map[int]bool{}
	for stage, o := range ok {
		s.once[stage] = o && reads[stage] == 1
	}
}

// ReleaseStage frees a stage's output once every consumer task finished.
func (s *LocalShuffle) ReleaseStage(stage int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, bs := range s.parts {
		if k.stage != stage {
			continue
		}
		for _, b := range bs {
			b.Release()
		}
		delete(s.parts, k)
	}
}

// Release frees every batch still held (query end, failure or cancel).
func (s *LocalShuffle) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, bs := range s.parts {
		for _, b := range bs {
			b.Release()
		}
		delete(s.parts, k)
	}
}

type localWriter struct {
	s       *LocalShuffle
	stage   int
	pending map[int][]arrow.RecordBatch
}

func (w *localWriter) Put(partition int, b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	b.Retain()
	if w.pending == nil {
		w.pending = map[int][]arrow.RecordBatch{}
	}
	w.pending[partition] = append(w.pending[partition], b)
	return nil
}

// Close publishes the task's output at once, so a retried task never leaves
// half of its output behind.
func (w *localWriter) Close() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for p, bs := range w.pending {
		k := shuffleKey{w.stage, p}
		w.s.parts[k] = append(w.s.parts[k], bs...)
	}
	w.pending = nil
	return nil
}

func (w *localWriter) Abort() {
	for _, bs := range w.pending {
		for _, b := range bs {
			b.Release()
		}
	}
	w.pending = nil
}
