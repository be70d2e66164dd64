package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/scan"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/optimizer"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/planner/stages"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

func (e *Engine) executeStmt(ctx context.Context, s *Session, st ast.StmtNode, sql string, params []scalar.Scalar) (*Result, error) {
	stmt, err := e.bindValues(ctx, s, st, sql, params)
	if err != nil {
		return nil, err
	}
	node := st
	switch st := stmt.(type) {
	case *planner.Query:
		return e.runQuery(ctx, st, params)
	case *planner.Explain:
		return e.explain(ctx, st, params)
	case *planner.SelectInto:
		return e.selectInto(ctx, st, params)
	case *planner.CreateTable:
		return e.createTable(ctx, st, params)
	case *planner.Insert:
		n, err := e.insert(ctx, st.Schema, st.Table, st.Source, params)
		return &Result{RowsAffected: n}, err
	case *planner.Rewrite:
		return e.rewrite(ctx, s, node, sql, params, st)
	case *planner.DropTable:
		for _, t := range st.Tables {
			if err := e.catalog.DropTable(ctx, t[0], t[1], st.IfExists); err != nil {
				return nil, err
			}
		}
		return &Result{}, nil
	case *planner.CreateView:
		return &Result{}, e.catalog.CreateView(ctx, st.Schema, st.Name, st.SQL, st.Columns, st.OrReplace)
	case *planner.DropView:
		for _, v := range st.Views {
			if err := e.catalog.DropView(ctx, v[0], v[1], st.IfExists); err != nil {
				return nil, err
			}
		}
		return &Result{}, nil
	case *planner.CreateDatabase:
		return &Result{RowsAffected: 1}, e.catalog.CreateSchema(ctx, st.Name, st.IfNotExists)
	case *planner.DropDatabase:
		if err := e.catalog.DropSchema(ctx, st.Name, st.IfExists); err != nil {
			return nil, err
		}
		if strings.EqualFold(s.CurrentSchema, st.Name) {
			s.CurrentSchema = ""
		}
		return &Result{}, nil
	case *planner.Use:
		if !e.catalog.SchemaExists(st.Schema) {
			return nil, qerr.New(qerr.NotFound, "Unknown database '%s'", st.Schema)
		}
		s.CurrentSchema = lower(st.Schema)
		return &Result{}, nil
	case *planner.Set:
		s.Vars[lower(st.Name)] = st.Value
		return &Result{}, nil
	}
	return nil, qerr.New(qerr.Unimplemented, "statement %T is not supported", stmt)
}

// compiled is a query planned down to stages.
type compiled struct {
	logical  logical.Node
	physical physical.Plan
	graph    *stages.Graph
	schema   *arrow.Schema // result schema with the names the client sees
	// partitions says how the partition count was chosen (EXPLAIN).
	partitions string
}

func (e *Engine) compile(ctx context.Context, q *planner.Query, params []scalar.Scalar) (*compiled, error) {
	plan := q.Plan
	if len(q.Params) > 0 || len(params) > 0 {
		if len(params) != len(q.Params) {
			return nil, qerr.New(qerr.InvalidArgument, "Incorrect arguments to EXECUTE: the statement has %d parameters, %d given", len(q.Params), len(params))
		}
		var err error
		if plan, err = logical.BindParams(plan, params); err != nil {
			return nil, err
		}
	}
	schema := plan.Schema().ToArrow()
	opt, err := optimizer.Optimize(ctx, plan, optimizer.Options{})
	if err != nil {
		return nil, err
	}
	// One partition per slot of the nodes that will run it, fewer for
	// small inputs.
	slots, inRows := e.sched.Slots(), physical.InputRows(opt)
	parts := physical.PartitionCount(slots, inRows, e.cfg.PartitionRows)
	phys, err := physical.Build(ctx, opt, physical.Options{TargetPartitions: parts})
	if err != nil {
		return nil, err
	}
	graph, err := stages.Cut(phys)
	if err != nil {
		return nil, err
	}
	how := fmt.Sprintf("partitions=%d (slots=%d, largest input %.0f rows, %d rows per partition)", parts, slots, inRows, e.cfg.PartitionRows)
	if e.cfg.PartitionRows <= 0 {
		how = fmt.Sprintf("partitions=%d (slots=%d)", parts, slots)
	}
	return &compiled{logical: opt, physical: phys, graph: graph, schema: schema, partitions: how}, nil
}

// start compiles and launches a query; the stream yields batches carrying the
// client-visible schema.
func (e *Engine) start(ctx context.Context, q *planner.Query, params []scalar.Scalar, metrics *execution.MetricsSet, tasks ...*cluster.TaskStats) (*compiled, execution.Stream, error) {
	c, err := e.compile(ctx, q, params)
	if err != nil {
		return nil, nil, err
	}
	id := e.newQueryID()
	log := e.log.With(zap.String("query_id", id))
	graph := c.graph
	if fn := progressFrom(ctx); fn != nil {
		graph = withProgress(graph, fn)
	}
	alloc := execution.NewQueryAllocator(nil, e.cfg.QueryMemoryLimit)
	e.mem.Track(alloc)
	settle := func() {
		if n := e.mem.Settle(alloc); n != 0 {
			log.Warn("query ended still holding memory (lost to a failure, or leaked); dropped from the node's memory in use", zap.Int64("bytes", n))
		}
	}
	job := &cluster.Job{
		QueryID: id,
		Graph:   graph,
		Alloc:   alloc,
		Metrics: metrics,
		Log:     log,
		// Sort and aggregate spill under the work dir past the memory limit.
		SpillDir: e.cfg.WorkDir,
	}
	if len(tasks) > 0 {
		job.Tasks = tasks[0]
	}
	stream, err := e.sched.Run(ctx, job)
	if err != nil {
		settle()
		return nil, nil, err
	}
	return c, &renameStream{in: stream, schema: c.schema, settle: settle}, nil
}

func (e *Engine) runQuery(ctx context.Context, q *planner.Query, params []scalar.Scalar) (*Result, error) {
	_, stream, err := e.start(ctx, q, params, nil)
	if err != nil {
		return nil, err
	}
	stream = newClientStream(stream)
	return &Result{Schema: stream.Schema(), Stream: stream}, nil
}

var explainSchema = arrow.NewSchema([]arrow.Field{{Name: "plan", Type: arrow.BinaryTypes.String}}, nil)

func (e *Engine) explain(ctx context.Context, x *planner.Explain, params []scalar.Scalar) (*Result, error) {
	var text string
	if x.Analyze {
		metrics := execution.NewMetricsSet()
		tasks := cluster.NewTaskStats()
		c, stream, err := e.start(ctx, x.Query, params, metrics, tasks)
		if err != nil {
			return nil, err
		}
		rows, err := drain(ctx, stream)
		if err != nil {
			return nil, err
		}
		text = fmt.Sprintf("== Logical plan ==\n%s\n== Stages (analyzed, %d rows) ==\n", logical.Format(c.logical), rows)
		for _, st := range c.graph.Stages {
			text += fmt.Sprintf("Stage %d (%d tasks)\n", st.ID, st.Partitions)
			if byNode := tasks.FormatStage(st.ID, st.Root, "  "); byNode != "" {
				// Distributed: per node that ran the stage's tasks, what
				// they wrote and read and their operators' metrics.
				text += byNode
				continue
			}
			text += physical.FormatAnalyzed(st.Root, metrics)
		}
	} else {
		c, err := e.compile(ctx, x.Query, params)
		if err != nil {
			return nil, err
		}
		text = fmt.Sprintf("== Logical plan ==\n%s\n== Physical plan ==\n%s\n== Stages ==\n%s\n%s",
			logical.Format(c.logical), physical.Format(c.physical), c.partitions, stages.Format(c.graph))
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.Append(line)
	}
	col := b.NewArray()
	defer col.Release()
	batch := array.NewRecordBatch(explainSchema, []arrow.Array{col}, int64(col.Len()))
	return &Result{Schema: explainSchema, Stream: execution.NewBatchStream(explainSchema, []arrow.RecordBatch{batch})}, nil
}

func drain(ctx context.Context, s execution.Stream) (int64, error) {
	defer s.Close()
	var n int64
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, execution.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += b.NumRows()
		b.Release()
	}
}

func (e *Engine) selectInto(ctx context.Context, x *planner.SelectInto, params []scalar.Scalar) (*Result, error) {
	path, err := e.catalog.ResolvePath(x.Path)
	if err != nil {
		return nil, err
	}
	_, stream, err := e.start(ctx, x.Query, params, nil)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var n int64
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		n, err = scan.WriteParquet(ctx, stream, path)
	} else {
		n, err = scan.WriteCSV(ctx, newClientStream(stream), path, scan.CSVWriteOptions{FieldsTerm: x.FieldsTerm, Enclosed: x.Enclosed, LinesTerm: x.LinesTerm})
	}
	return &Result{RowsAffected: n}, err
}

// createTable runs CREATE TABLE; with AS SELECT the table appears with
// all its rows or not at all (a failed or losing CREATE leaves nothing).
func (e *Engine) createTable(ctx context.Context, ct *planner.CreateTable, params []scalar.Scalar) (*Result, error) {
	if ct.AsSelect == nil {
		cols := ct.Columns
		if ct.Defaults != nil {
			var err error
			if cols, err = e.checkDefaults(ctx, ct, params); err != nil {
				return nil, err
			}
		}
		return &Result{}, e.catalog.CreateTable(ctx, ct.Schema, ct.Name, cols, ct.IfNotExists)
	}
	if ct.IfNotExists {
		if _, err := e.catalog.Table(ctx, ct.Schema, ct.Name); err == nil {
			return &Result{}, nil
		}
	}
	cols := ct.AsSelect.Plan.Schema().ToArrow()
	_, stream, err := e.start(ctx, ct.AsSelect, params, nil)
	if err != nil {
		return nil, err
	}
	r := &streamReader{ctx: ctx, in: stream, schema: cols, mem: memory.DefaultAllocator}
	defer r.Release()
	n, err := e.catalog.CreateTableAs(ctx, ct.Schema, ct.Name, cols, r, ct.IfNotExists)
	if err == nil {
		err = r.err
	}
	return &Result{RowsAffected: n}, err
}

// insert runs source and appends its rows to the table atomically: either
// all rows land (one new file) or none.
func (e *Engine) insert(ctx context.Context, schema, table string, source *planner.Query, params []scalar.Scalar) (int64, error) {
	unlock := e.catalog.LockTable(schema, table)
	defer unlock()
	t, err := e.catalog.Table(ctx, schema, table)
	if err != nil {
		return 0, err
	}
	_, stream, err := e.start(ctx, source, params, nil)
	if err != nil {
		return 0, err
	}
	r := &streamReader{ctx: ctx, in: stream, schema: t.Columns, mem: memory.DefaultAllocator}
	defer r.Release()
	n, err := e.catalog.Append(ctx, schema, table, r)
	if err == nil {
		err = r.err
	}
	return n, err
}
