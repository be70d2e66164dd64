package cluster

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
)

// system.queries and system.tasks: the distributed queries this node
// coordinates (running and the most recent finished ones) and every task
// attempt of them, with the node it ran on. system.worker_tasks: the
// tasks this node ran for peers' queries (running and the most recent
// ended ones), as the worker saw them.

type queryRecord struct {
	ID          string
	Coordinator string
	Stages      int
	Tasks       int
	Started     time.Time
	Ended       time.Time
	State       string // running | succeeded | failed | canceled
	Error       string
	tasks       []*taskRecord
	stageStates []StageState // by stage ID
}

// stageSummary renders the stages' states, e.g. "0:succeeded 1:running 2:unresolved".
func (r *queryRecord) stageSummary() string {
	parts := make([]string, len(r.stageStates))
	for i, s := range r.stageStates {
		parts[i] = fmt.Sprintf("%d:%s", i, s)
	}
	return strings.Join(parts, " ")
}

func (r *queryRecord) finished() bool { return r.State != "running" }

type taskRecord struct {
	q                         *queryRecord
	Stage, Partition, Attempt int
	Node                      string
	State                     string // running | succeeded | failed
	Rows, Bytes               int64
	Started, Ended            time.Time
	Error                     string
}

func (d *Dist) recordTask(q *queryRecord, stage, partition, attempt int, node string) *taskRecord {
	t := &taskRecord{q: q, Stage: stage, Partition: partition, Attempt: attempt, Node: node, State: "running", Started: time.Now()}
	d.mu.Lock()
	q.tasks = append(q.tasks, t)
	d.mu.Unlock()
	return t
}

// rescheduled drops the record of an attempt a leaving node refused (the
// attempt number is used again elsewhere).
func (d *Dist) rescheduled(t *taskRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ts := t.q.tasks
	for i, x := range ts {
		if x == t {
			t.q.tasks = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
}

func (d *Dist) endTask(t *taskRecord, res taskResult, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t.Ended = time.Now()
	t.Rows, t.Bytes = res.Rows, res.Bytes
	if err != nil {
		t.State, t.Error = "failed", err.Error()
		return
	}
	t.State = "succeeded"
}

// workerTaskRecord is a task this node ran for a peer's query
// (system.worker_tasks): the worker's view, where system.tasks is the
// coordinator's.
type workerTaskRecord struct {
	TaskSpec
	State                  string // running | succeeded | failed | refused
	Rows, Bytes, ReadBytes int64
	Started, Ended         time.Time
	Error                  string
}

// recentWorkerTasks bounds the ended tasks system.worker_tasks keeps.
const recentWorkerTasks = 1000

func (d *Dist) workerTaskStarted(spec *TaskSpec) *workerTaskRecord {
	r := &workerTaskRecord{TaskSpec: *spec, State: "running", Started: time.Now()}
	r.Fragment, r.Inputs = nil, nil // not shown; may be large
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ran = append(d.ran, r)
	if n := len(d.ran) - recentWorkerTasks; n > 0 {
		// Drop the oldest ended records.
		kept := d.ran[:0]
		for _, x := range d.ran {
			if n > 0 && x.State != "running" {
				n--
				continue
			}
			kept = append(kept, x)
		}
		clear(d.ran[len(kept):])
		d.ran = kept
	}
	return r
}

func (d *Dist) workerTaskEnded(r *workerTaskRecord, res taskResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r.Ended, r.Rows, r.Bytes, r.ReadBytes, r.Error = time.Now(), res.Rows, res.Bytes, res.ReadBytes, res.Error
	switch {
	case res.Refused:
		r.State = "refused"
	case res.Error != "":
		r.State = "failed"
	default:
		r.State = "succeeded"
	}
}

var (
	workerTasksSchema = arrow.NewSchema([]arrow.Field{
		{Name: "query_id", Type: arrow.BinaryTypes.String},
		{Name: "coordinator", Type: arrow.BinaryTypes.String},
		{Name: "coordinator_instance", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "stage", Type: arrow.PrimitiveTypes.Int64},
		{Name: "partition", Type: arrow.PrimitiveTypes.Int64},
		{Name: "attempt", Type: arrow.PrimitiveTypes.Int64},
		{Name: "state", Type: arrow.BinaryTypes.String},
		{Name: "rows", Type: arrow.PrimitiveTypes.Int64},
		{Name: "bytes", Type: arrow.PrimitiveTypes.Int64},
		{Name: "read_bytes", Type: arrow.PrimitiveTypes.Int64},
		{Name: "started", Type: arrow.BinaryTypes.String},
		{Name: "elapsed_ms", Type: arrow.PrimitiveTypes.Int64},
		{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	queriesSchema = arrow.NewSchema([]arrow.Field{
		{Name: "query_id", Type: arrow.BinaryTypes.String},
		{Name: "coordinator", Type: arrow.BinaryTypes.String},
		{Name: "state", Type: arrow.BinaryTypes.String},
		{Name: "stages", Type: arrow.PrimitiveTypes.Int64},
		{Name: "tasks", Type: arrow.PrimitiveTypes.Int64},
		{Name: "tasks_done", Type: arrow.PrimitiveTypes.Int64},
		{Name: "started", Type: arrow.BinaryTypes.String},
		{Name: "elapsed_ms", Type: arrow.PrimitiveTypes.Int64},
		{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "stage_states", Type: arrow.BinaryTypes.String},
	}, nil)
	tasksSchema = arrow.NewSchema([]arrow.Field{
		{Name: "query_id", Type: arrow.BinaryTypes.String},
		{Name: "stage", Type: arrow.PrimitiveTypes.Int64},
		{Name: "partition", Type: arrow.PrimitiveTypes.Int64},
		{Name: "attempt", Type: arrow.PrimitiveTypes.Int64},
		{Name: "node", Type: arrow.BinaryTypes.String},
		{Name: "state", Type: arrow.BinaryTypes.String},
		{Name: "rows", Type: arrow.PrimitiveTypes.Int64},
		{Name: "bytes", Type: arrow.PrimitiveTypes.Int64},
		{Name: "elapsed_ms", Type: arrow.PrimitiveTypes.Int64},
		{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
)

// Stats is this node's load as ping reports it (system.nodes): memory of
// the tasks it runs for peers (the caller adds its engine's queries'),
// distributed queries it coordinates, shuffle output it holds.
func (d *Dist) Stats() NodeStats {
	var spilled int64
	filepath.WalkDir(d.shuffleDir, func(_ string, e fs.DirEntry, err error) error { //nolint:errcheck // files come and go
		if err == nil && e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".lock") {
			if fi, err := e.Info(); err == nil {
				spilled += fi.Size()
			}
		}
		return nil
	})
	return NodeStats{QueryMemory: d.mem.Used(), Coordinating: int64(d.coordinating()), ShuffleMemory: d.store.MemoryInUse(), ShuffleSpilled: spilled}
}

func elapsed(start, end time.Time) int64 {
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(start).Milliseconds()
}

func appendNullable(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}

func (d *Dist) registerSystemTables() error {
	cat := d.cfg.Catalog
	if err := cat.RegisterSystemTable(catalog.SystemSchema, "queries", queriesSchema, func(ctx context.Context) ([]arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, queriesSchema)
		defer b.Release()
		d.mu.Lock()
		for _, r := range d.records {
			done := 0
			for _, t := range r.tasks {
				if t.State == "succeeded" {
					done++
				}
			}
			b.Field(0).(*array.StringBuilder).Append(r.ID)
			b.Field(1).(*array.StringBuilder).Append(r.Coordinator)
			b.Field(2).(*array.StringBuilder).Append(r.State)
			b.Field(3).(*array.Int64Builder).Append(int64(r.Stages))
			b.Field(4).(*array.Int64Builder).Append(int64(r.Tasks))
			b.Field(5).(*array.Int64Builder).Append(int64(done))
			b.Field(6).(*array.StringBuilder).Append(r.Started.UTC().Format("2006-01-02 15:04:05.000"))
			b.Field(7).(*array.Int64Builder).Append(elapsed(r.Started, r.Ended))
			appendNullable(b.Field(8).(*array.StringBuilder), r.Error)
			b.Field(9).(*array.StringBuilder).Append(r.stageSummary())
		}
		d.mu.Unlock()
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	}); err != nil {
		return err
	}
	if err := cat.RegisterSystemTable(catalog.SystemSchema, "worker_tasks", workerTasksSchema, func(ctx context.Context) ([]arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, workerTasksSchema)
		defer b.Release()
		d.mu.Lock()
		for _, r := range d.ran {
			b.Field(0).(*array.StringBuilder).Append(r.QueryID)
			b.Field(1).(*array.StringBuilder).Append(r.CoordinatorNode)
			appendNullable(b.Field(2).(*array.StringBuilder), r.CoordinatorInstance)
			b.Field(3).(*array.Int64Builder).Append(int64(r.Stage))
			b.Field(4).(*array.Int64Builder).Append(int64(r.Partition))
			b.Field(5).(*array.Int64Builder).Append(int64(r.Attempt))
			b.Field(6).(*array.StringBuilder).Append(r.State)
			b.Field(7).(*array.Int64Builder).Append(r.Rows)
			b.Field(8).(*array.Int64Builder).Append(r.Bytes)
			b.Field(9).(*array.Int64Builder).Append(r.ReadBytes)
			b.Field(10).(*array.StringBuilder).Append(r.Started.UTC().Format("2006-01-02 15:04:05.000"))
			b.Field(11).(*array.Int64Builder).Append(elapsed(r.Started, r.Ended))
			appendNullable(b.Field(12).(*array.StringBuilder), r.Error)
		}
		d.mu.Unlock()
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	}); err != nil {
		return err
	}
	return cat.RegisterSystemTable(catalog.SystemSchema, "tasks", tasksSchema, func(ctx context.Context) ([]arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, tasksSchema)
		defer b.Release()
		d.mu.Lock()
		for _, r := range d.records {
			for _, t := range r.tasks {
				b.Field(0).(*array.StringBuilder).Append(r.ID)
				b.Field(1).(*array.Int64Builder).Append(int64(t.Stage))
				b.Field(2).(*array.Int64Builder).Append(int64(t.Partition))
				b.Field(3).(*array.Int64Builder).Append(int64(t.Attempt))
				b.Field(4).(*array.StringBuilder).Append(t.Node)
				b.Field(5).(*array.StringBuilder).Append(t.State)
				b.Field(6).(*array.Int64Builder).Append(t.Rows)
				b.Field(7).(*array.Int64Builder).Append(t.Bytes)
				b.Field(8).(*array.Int64Builder).Append(elapsed(t.Started, t.Ended))
				appendNullable(b.Field(9).(*array.StringBuilder), t.Error)
			}
		}
		d.mu.Unlock()
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	})
}
