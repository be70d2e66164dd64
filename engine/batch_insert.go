package engine

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/planner/physical"
)

// InsertBatch runs a prepared INSERT … VALUES over a whole batch of
// parameter rows (JDBC executeBatch, ADBC executemany) as ONE insert: each
// VALUES expression is evaluated once over the parameter columns, every row
// passes the strict-mode checks (an error names the row: parameter row i of
// VALUES row r is row i×R+r+1 of R rows per statement) and the rows land in
// one part file with one commit, or nothing is written.
//
// ok is false, with nothing done, when the statement is not such an INSERT
// (INSERT … SELECT, a subquery among the values, UPDATE, DELETE, …): the
// caller then runs it once per parameter row.
func (e *Engine) InsertBatch(ctx context.Context, s *Session, sql string, params []arrow.RecordBatch) (n int64, ok bool, err error) {
	var nonEmpty []arrow.RecordBatch
	for _, b := range params {
		if b.NumRows() > 0 {
			nonEmpty = append(nonEmpty, b)
		}
	}
	if params = nonEmpty; len(params) == 0 || params[0].NumCols() == 0 {
		return 0, false, nil
	}
	ptypes := params[0].Schema()
	for _, b := range params[1:] {
		if !b.Schema().Equal(ptypes) {
			return 0, false, nil
		}
	}
	for _, f := range ptypes.Fields() {
		if f.Type.ID() == arrow.DENSE_UNION || f.Type.ID() == arrow.SPARSE_UNION {
			return 0, false, nil // each row may carry its own type
		}
	}
	stmts, err := parse.Parse(sql)
	if err != nil || len(stmts) != 1 {
		return 0, false, nil
	}
	if _, isInsert := stmts[0].(*ast.InsertStmt); !isInsert {
		return 0, false, nil
	}
	// Bind as the first row would be: the batch's columns have one type
	// each, so every row binds the same way.
	first := make([]scalar.Scalar, params[0].NumCols())
	for i := range first {
		if first[i], err = scalar.GetScalar(params[0].Column(i), 0); err != nil {
			return 0, false, nil
		}
	}
	stmt, err := e.bindValues(ctx, s, stmts[0], sql, first)
	if err != nil {
		return 0, false, nil // the per-row path reports it
	}
	ins, isInsert := stmt.(*planner.Insert)
	if !isInsert || len(ins.Source.Params) != len(first) {
		return 0, false, nil
	}
	values, isValues := ins.Source.Plan.(*logical.Values)
	if !isValues {
		return 0, false, nil
	}
	out, rows, ok := compileValues(values, ptypes, bareParams(stmts[0].(*ast.InsertStmt), values))
	if !ok {
		return 0, false, nil
	}

	unlock := e.catalog.LockTable(ins.Schema, ins.Table)
	defer unlock()
	t, err := e.catalog.Table(ctx, ins.Schema, ins.Table)
	if err != nil {
		return 0, true, err
	}
	in := &valuesStream{rows: rows, out: out, params: params, mem: memory.DefaultAllocator}
	r := &streamReader{ctx: ctx, in: in, schema: t.Columns, mem: memory.DefaultAllocator}
	defer r.Release()
	n, err = e.catalog.Append(ctx, ins.Schema, ins.Table, r)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return 0, true, err
	}
	return n, true, nil
}

// compileValues turns each VALUES row's expressions into expressions over
// the parameter batch: placeholder i reads column i (cast to the type the
// statement gives it). A column whose every value is a bare `?` (bare) is
// the parameter column itself, so that storeColumn converts it with the
// INSERT rules and names the row of a bad value, as for a literal. ok is
// false for expressions this cannot run here.
func compileValues(v *logical.Values, ptypes *arrow.Schema, bare map[int][]int) (*arrow.Schema, [][]expr.Expr, bool) {
	in := logical.NewSchema()
	for i, f := range ptypes.Fields() {
		in.Fields = append(in.Fields, logical.Field{ID: logical.ColumnID(i + 1), Name: f.Name, Type: f.Type, Nullable: true})
	}
	fields := v.Schema().ToArrow().Fields()
	for c, idx := range bare {
		for _, i := range idx {
			if i < 0 || i >= ptypes.NumFields() || !arrow.TypeEqual(ptypes.Field(i).Type, ptypes.Field(idx[0]).Type) {
				delete(bare, c) // the rows' values would not concatenate
				break
			}
		}
		if _, ok := bare[c]; ok {
			fields[c].Type = ptypes.Field(idx[0]).Type
		}
	}
	out := make([][]expr.Expr, len(v.Rows))
	for r, row := range v.Rows {
		out[r] = make([]expr.Expr, len(row))
		for c, x := range row {
			if idx, ok := bare[c]; ok {
				out[r][c] = expr.NewColumn(idx[r], fields[c].Name, fields[c].Type)
				continue
			}
			bound, ok := paramsToColumns(x, in)
			if !ok {
				return nil, nil, false
			}
			pe, err := physical.ToExpr(bound, in)
			if err != nil {
				return nil, nil, false
			}
			out[r][c] = pe
		}
	}
	return arrow.NewSchema(fields, nil), out, true
}

// bareParams finds the columns of v whose value is a bare `?` in every
// VALUES row of st, with parameters of one type: column → parameter index
// per row.
func bareParams(st *ast.InsertStmt, v *logical.Values) map[int][]int {
	if len(st.Lists) != len(v.Rows) {
		return nil
	}
	col := func(j int) int { // table column of the statement's j-th value
		if len(st.Columns) == 0 {
			return j
		}
		for c, f := range v.Fields {
			if strings.EqualFold(f.Name, st.Columns[j].Name.O) {
				return c
			}
		}
		return -1
	}
	found := map[int][]int{}
	count := map[int]int{}
	for r, list := range st.Lists {
		for j, item := range list {
			c := col(j)
			if _, isMarker := item.(ast.ParamMarkerExpr); !isMarker || c < 0 || c >= len(v.Fields) {
				continue
			}
			x := v.Rows[r][c]
			if cast, ok := x.(*logical.Cast); ok {
				x = cast.Expr
			}
			p, ok := x.(*logical.Param)
			if !ok {
				continue
			}
			if found[c] == nil {
				found[c] = make([]int, len(v.Rows))
			}
			found[c][r] = p.Index
			count[c]++
		}
	}
	for c := range found {
		if count[c] != len(v.Rows) {
			delete(found, c)
		}
	}
	return found
}

// paramsToColumns replaces each placeholder of x with its parameter column.
func paramsToColumns(x logical.Expr, in *logical.Schema) (logical.Expr, bool) {
	switch x := x.(type) {
	case *logical.Subquery:
		return nil, false
	case *logical.Param:
		if x.Index < 0 || x.Index >= len(in.Fields) {
			return nil, false
		}
		f := in.Fields[x.Index]
		var col logical.Expr = &logical.ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: true}
		if x.Type != nil && x.Type.ID() != arrow.NULL && !arrow.TypeEqual(x.Type, f.Type) {
			col = logical.CastTo(col, x.Type)
		}
		return col, true
	}
	ch := x.Children()
	if len(ch) == 0 {
		return x, true
	}
	nch := make([]logical.Expr, len(ch))
	for i, c := range ch {
		var ok bool
		if nch[i], ok = paramsToColumns(c, in); !ok {
			return nil, false
		}
	}
	y, err := x.WithChildren(nch...)
	return y, err == nil
}

// valuesStream yields, per parameter batch, the VALUES rows evaluated over
// it, in statement order: parameter row 1's VALUES rows, then row 2's, …
type valuesStream struct {
	rows   [][]expr.Expr
	out    *arrow.Schema
	params []arrow.RecordBatch // not owned, none empty
	mem    memory.Allocator
}

func (s *valuesStream) Schema() *arrow.Schema { return s.out }
func (s *valuesStream) Close() error          { s.params = nil; return nil }

func (s *valuesStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if len(s.params) == 0 {
		return nil, execution.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := s.params[0]
	s.params = s.params[1:]
	cols := make([]arrow.Array, s.out.NumFields())
	defer releaseArrays(cols)
	for c := range cols {
		col, err := s.column(ctx, p, c)
		if err != nil {
			return nil, err
		}
		cols[c] = col
	}
	return array.NewRecordBatch(s.out, cols, p.NumRows()*int64(len(s.rows))), nil
}

// column evaluates output column c of every VALUES row over p and
// interleaves them so that each parameter row's VALUES rows are adjacent.
func (s *valuesStream) column(ctx context.Context, p arrow.RecordBatch, c int) (arrow.Array, error) {
	parts := make([]arrow.Array, len(s.rows))
	defer releaseArrays(parts)
	for r, row := range s.rows {
		a, err := row[c].Eval(s.mem, p)
		if err != nil {
			return nil, err
		}
		parts[r] = a
	}
	if len(parts) == 1 {
		parts[0].Retain()
		return parts[0], nil
	}
	all, err := array.Concatenate(parts, s.mem)
	if err != nil {
		return nil, err
	}
	defer all.Release()
	n, k := int(p.NumRows()), len(parts)
	ib := array.NewInt64Builder(s.mem)
	defer ib.Release()
	ib.Reserve(n * k)
	for i := 0; i < n; i++ {
		for r := 0; r < k; r++ {
			ib.UnsafeAppend(int64(r*n + i))
		}
	}
	idx := ib.NewArray()
	defer idx.Release()
	return compute.TakeArray(ctx, all, idx)
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}
