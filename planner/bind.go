package planner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
)

// CatalogReader is the catalog API binding needs (*catalog.Catalog satisfies it).
type CatalogReader = logical.CatalogReader

// FunctionResolver types function calls (nil in BindEnv = the real registries).
type FunctionResolver = logical.FunctionResolver

// BindEnv is what binding one statement depends on.
type BindEnv struct {
	Catalog       CatalogReader
	CurrentSchema string
	Now           time.Time
	SQL           string // original statement text (views, column names)
	Funcs         FunctionResolver
	// ParamTypes: see logical.Env.ParamTypes.
	ParamTypes map[int]arrow.DataType
}

// Bind binds one parsed statement.
func Bind(ctx context.Context, stmt ast.StmtNode, env *BindEnv) (Statement, error) {
	funcs := env.Funcs
	if funcs == nil {
		funcs = DefaultFunctions()
	}
	sql := env.SQL
	if sql == "" {
		sql = stmt.Text()
	}
	b := &binder{ctx: ctx, env: &logical.Env{Catalog: env.Catalog, CurrentSchema: env.CurrentSchema, Now: env.Now, SQL: sql, Funcs: funcs, ParamTypes: env.ParamTypes}}
	return b.bind(stmt)
}

type binder struct {
	ctx context.Context
	env *logical.Env
}

func (b *binder) query(rs ast.ResultSetNode) (*Query, error) {
	lb := logical.NewBinder(b.ctx, b.env)
	n, err := lb.BindQuery(rs)
	if err != nil {
		return nil, err
	}
	return &Query{Plan: n, Params: lb.Params()}, nil
}

func (b *binder) schemaOf(s ast.CIStr) (string, error) {
	if s.L != "" {
		return s.L, nil
	}
	if b.env.CurrentSchema == "" {
		return "", qerr.New(qerr.InvalidArgument, "No database selected")
	}
	return strings.ToLower(b.env.CurrentSchema), nil
}

func (b *binder) bind(stmt ast.StmtNode) (Statement, error) {
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		q, err := b.query(s)
		if err != nil {
			return nil, err
		}
		if s.SelectIntoOpt != nil {
			return selectInto(q, s.SelectIntoOpt)
		}
		return q, nil
	case *ast.SetOprStmt:
		q, err := b.query(s)
		if err != nil {
			return nil, err
		}
		// The parser hangs a trailing INTO OUTFILE on the last SELECT; it
		// applies to the whole union, as in MySQL.
		if sel := s.SelectList.Selects; len(sel) > 0 {
			if last, ok := sel[len(sel)-1].(*ast.SelectStmt); ok && last.SelectIntoOpt != nil {
				return selectInto(q, last.SelectIntoOpt)
			}
		}
		return q, nil
	case *ast.ExplainStmt:
		if sh, ok := s.Stmt.(*ast.ShowStmt); ok {
			return b.show(sh)
		}
		rs, ok := s.Stmt.(ast.ResultSetNode)
		if !ok {
			return nil, qerr.New(qerr.Unimplemented, "EXPLAIN is supported for queries only")
		}
		q, err := b.query(rs)
		if err != nil {
			return nil, err
		}
		return &Explain{Analyze: s.Analyze, Query: q}, nil
	case *ast.CreateTableStmt:
		return b.createTable(s)
	case *ast.InsertStmt:
		return b.insert(s)
	case *ast.DropTableStmt:
		var names [][2]string
		for _, t := range s.Tables {
			db, err := b.schemaOf(t.Schema)
			if err != nil {
				return nil, err
			}
			names = append(names, [2]string{db, t.Name.L})
		}
		if s.IsView {
			return &DropView{Views: names, IfExists: s.IfExists}, nil
		}
		return &DropTable{Tables: names, IfExists: s.IfExists}, nil
	case *ast.CreateViewStmt:
		return b.createView(s)
	case *ast.CreateDatabaseStmt:
		return &CreateDatabase{Name: s.Name.L, IfNotExists: s.IfNotExists}, nil
	case *ast.DropDatabaseStmt:
		return &DropDatabase{Name: s.Name.L, IfExists: s.IfExists}, nil
	case *ast.UseStmt:
		db := strings.ToLower(s.DBName)
		if !b.env.Catalog.SchemaExists(db) {
			return nil, qerr.New(qerr.NotFound, "Unknown database '%s'", s.DBName)
		}
		return &Use{Schema: db}, nil
	case *ast.SetStmt:
		return b.set(s)
	case *ast.ShowStmt:
		return b.show(s)
	case *ast.UpdateStmt:
		if s.MultipleTable {
			return nil, qerr.New(qerr.Unimplemented, "multiple-table UPDATE is not supported")
		}
		if s.IgnoreErr { // would skip rows that duplicate a key
			return nil, qerr.New(qerr.Unimplemented, "UPDATE IGNORE is not supported")
		}
		return b.rewrite(s.TableRefs, s.Where, s.Order, s.Limit, s.List, false)
	case *ast.DeleteStmt:
		if s.IsMultiTable {
			return nil, qerr.New(qerr.Unimplemented, "multiple-table DELETE is not supported")
		}
		return b.rewrite(s.TableRefs, s.Where, s.Order, s.Limit, nil, true)
	case *ast.TruncateTableStmt:
		// TRUNCATE TABLE t empties t: a DELETE of every row.
		refs := &ast.TableRefsClause{TableRefs: &ast.Join{Left: &ast.TableSource{Source: s.Table}}}
		return b.rewrite(refs, nil, nil, nil, nil, true)
	}
	return nil, qerr.New(qerr.Unimplemented, "statement %T is not supported", stmt)
}

// rewrite binds a single-table UPDATE (set) or DELETE.
func (b *binder) rewrite(refs *ast.TableRefsClause, where ast.ExprNode, order *ast.OrderByClause, limit *ast.Limit, set []*ast.Assignment, del bool) (Statement, error) {
	stmt := "UPDATE"
	if del {
		stmt = "DELETE"
	}
	var ts *ast.TableSource
	if refs != nil && refs.TableRefs != nil && refs.TableRefs.Right == nil {
		ts, _ = refs.TableRefs.Left.(*ast.TableSource)
	}
	var name *ast.TableName
	if ts != nil {
		name, _ = ts.Source.(*ast.TableName)
	}
	if name == nil {
		return nil, qerr.New(qerr.Unimplemented, "%s target must be one table", stmt)
	}
	db, err := b.schemaOf(name.Schema)
	if err != nil {
		return nil, err
	}
	t, err := b.env.Catalog.Table(b.ctx, db, name.Name.L)
	if err != nil {
		return nil, err
	}
	if t.Kind != catalog.BaseTable {
		return nil, qerr.New(qerr.InvalidArgument, "The target table %s of the %s is not updatable", name.Name.O, stmt)
	}
	alias := ts.AsName.L
	if alias == "" {
		alias = name.Name.L
	}
	var assigns []logical.Assignment
	for _, a := range set {
		c := a.Column
		idx := -1
		if c.Table.L == "" || (strings.EqualFold(c.Table.L, alias) && (c.Schema.L == "" || c.Schema.L == db)) {
			for i, f := range t.Columns.Fields() {
				if strings.EqualFold(f.Name, c.Name.O) {
					idx = i
				}
			}
		}
		if idx < 0 {
			return nil, qerr.New(qerr.NotFound, "Unknown column '%s' in 'field list'", c.OrigColName())
		}
		e := a.Expr
		if d, ok := e.(*ast.DefaultExpr); ok && d.Name == nil {
			f := t.Columns.Field(idx)
			var has bool
			if e, has, err = defaultAST(f); err != nil {
				return nil, err
			} else if !has {
				return nil, qerr.New(qerr.InvalidArgument, "Field '%s' doesn't have a default value", f.Name)
			}
		}
		assigns = append(assigns, logical.Assignment{Column: idx, Expr: e})
	}
	lb := logical.NewBinder(b.ctx, b.env)
	n, base, err := lb.BindRewrite(ts, where, order, limit, assigns, stmt)
	if err != nil {
		return nil, err
	}
	r := &Rewrite{Schema: base.Schema, Table: base.Name, Delete: del, Source: &Query{Plan: n, Params: lb.Params()}, Base: base}
	for _, a := range assigns {
		r.Set = append(r.Set, a.Column)
	}
	return r, nil
}

func selectInto(q *Query, o *ast.SelectIntoOption) (Statement, error) {
	if o.Tp != ast.SelectIntoOutfile {
		return nil, qerr.New(qerr.Unimplemented, "only SELECT ... INTO OUTFILE is supported")
	}
	si := &SelectInto{Query: q, Path: o.FileName, FieldsTerm: ",", LinesTerm: "\n"}
	if f := o.FieldsInfo; f != nil {
		if f.Terminated != nil {
			si.FieldsTerm = *f.Terminated
		}
		if f.Enclosed != nil {
			si.Enclosed = *f.Enclosed
		}
	}
	if l := o.LinesInfo; l != nil && l.Terminated != nil {
		si.LinesTerm = *l.Terminated
	}
	return si, nil
}

func (b *binder) createTable(s *ast.CreateTableStmt) (Statement, error) {
	db, err := b.schemaOf(s.Table.Schema)
	if err != nil {
		return nil, err
	}
	ct := &CreateTable{Schema: db, Name: s.Table.Name.L, IfNotExists: s.IfNotExists}
	if s.ReferTable != nil {
		return nil, qerr.New(qerr.Unimplemented, "CREATE TABLE ... LIKE is not supported")
	}
	keys, err := tableKeys(s)
	if err != nil {
		return nil, err
	}
	pk := map[string]bool{}
	if len(keys) > 0 && keys[0].Primary {
		for _, c := range keys[0].Columns {
			pk[strings.ToLower(c)] = true
		}
	}
	if len(s.Cols) > 0 {
		var fs []arrow.Field
		seen := map[string]bool{}
		for _, c := range s.Cols {
			if seen[c.Name.Name.L] {
				return nil, qerr.New(qerr.InvalidArgument, "Duplicate column name '%s'", c.Name.Name.O)
			}
			seen[c.Name.Name.L] = true
			t, err := logical.ArrowType(c.Tp)
			if err != nil {
				return nil, err
			}
			nullable := !pk[c.Name.Name.L]
			var dflt ast.ExprNode
			for _, o := range c.Options {
				switch o.Tp {
				case ast.ColumnOptionNotNull, ast.ColumnOptionPrimaryKey:
					nullable = false
				case ast.ColumnOptionDefaultValue:
					dflt = o.Expr
				}
			}
			f := arrow.Field{Name: c.Name.Name.O, Type: t, Nullable: nullable}
			if n, ok := maxLength(c.Tp); ok {
				f = catalog.WithColumnType(f, c.Tp.CompactStr(), n)
			}
			if dflt != nil {
				if f, err = b.withDefault(f, dflt); err != nil {
					return nil, err
				}
			}
			fs = append(fs, f)
		}
		if ct.Columns, err = catalog.WithKeys(arrow.NewSchema(fs, nil), keys); err != nil {
			return nil, err
		}
		if ct.Defaults, ct.Literal, err = b.defaultsRow(fs); err != nil {
			return nil, err
		}
	}
	if s.Select != nil {
		if len(s.Cols) > 0 {
			return nil, qerr.New(qerr.Unimplemented, "CREATE TABLE with both a column list and a SELECT is not supported")
		}
		if len(keys) > 0 {
			// Its rows would go in unchecked.
			return nil, qerr.New(qerr.Unimplemented, "CREATE TABLE ... AS SELECT with a PRIMARY KEY or UNIQUE key is not supported")
		}
		q, err := b.query(s.Select)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, f := range q.Plan.Schema().Fields {
			if seen[strings.ToLower(f.Name)] {
				return nil, qerr.New(qerr.InvalidArgument, "Duplicate column name '%s'", f.Name)
			}
			seen[strings.ToLower(f.Name)] = true
		}
		ct.AsSelect = q
	}
	if ct.Columns == nil && ct.AsSelect == nil {
		return nil, qerr.New(qerr.InvalidArgument, "A table must have at least 1 column")
	}
	return ct, nil
}

// tableKeys collects the PRIMARY KEY and UNIQUE keys of a CREATE TABLE,
// named as MySQL names them: PRIMARY, the given name, or the first
// column's name (made unique with _2, _3, ...).
func tableKeys(s *ast.CreateTableStmt) ([]catalog.Key, error) {
	var pk *catalog.Key
	var uniq []catalog.Key
	named := map[string]bool{}
	add := func(name string, primary bool, cols []string) error {
		if primary {
			if pk != nil {
				return qerr.New(qerr.InvalidArgument, "Multiple primary key defined")
			}
			pk = &catalog.Key{Name: catalog.PrimaryKeyName, Primary: true, Columns: cols}
			return nil
		}
		if name != "" {
			if named[strings.ToLower(name)] || strings.EqualFold(name, catalog.PrimaryKeyName) {
				return qerr.New(qerr.InvalidArgument, "Duplicate key name '%s'", name)
			}
		} else {
			name = cols[0]
			for i := 2; named[strings.ToLower(name)]; i++ {
				name = fmt.Sprintf("%s_%d", cols[0], i)
			}
		}
		named[strings.ToLower(name)] = true
		uniq = append(uniq, catalog.Key{Name: name, Columns: cols})
		return nil
	}
	for _, c := range s.Cols {
		for _, o := range c.Options {
			switch o.Tp {
			case ast.ColumnOptionPrimaryKey:
				if err := add("", true, []string{c.Name.Name.O}); err != nil {
					return nil, err
				}
			case ast.ColumnOptionUniqKey:
				if err := add("", false, []string{c.Name.Name.O}); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, c := range s.Constraints {
		primary := c.Tp == ast.ConstraintPrimaryKey
		if !primary && c.Tp != ast.ConstraintUniq && c.Tp != ast.ConstraintUniqKey && c.Tp != ast.ConstraintUniqIndex {
			continue
		}
		var cols []string
		seen := map[string]bool{}
		for _, k := range c.Keys {
			if k.Column == nil {
				return nil, qerr.New(qerr.Unimplemented, "keys on expressions are not supported")
			}
			if k.Length > 0 {
				// A prefix key would make whole values unique: stricter than declared.
				return nil, qerr.New(qerr.Unimplemented, "key prefix lengths (%s(%d)) are not supported", k.Column.Name.O, k.Length)
			}
			if seen[k.Column.Name.L] {
				return nil, qerr.New(qerr.InvalidArgument, "Duplicate column name '%s'", k.Column.Name.O)
			}
			seen[k.Column.Name.L] = true
			cols = append(cols, k.Column.Name.O)
		}
		if err := add(c.Name, primary, cols); err != nil {
			return nil, err
		}
	}
	if pk != nil {
		uniq = append([]catalog.Key{*pk}, uniq...)
	}
	return uniq, nil
}

// withDefault records a column's DEFAULT as SQL text, evaluated by each
// INSERT that leaves the column out (or says DEFAULT). It must be a
// constant expression, and not NULL for a NOT NULL column (MySQL 1067).
func (b *binder) withDefault(f arrow.Field, e ast.ExprNode) (arrow.Field, error) {
	invalid := qerr.New(qerr.InvalidArgument, "Invalid default value for '%s'", f.Name)
	vals, err := logical.NewBinder(b.ctx, b.env).BindConstants([]ast.ExprNode{e})
	if err != nil || (!f.Nullable && logical.Type(vals[0]).ID() == arrow.NULL) {
		return f, invalid
	}
	var sb strings.Builder
	if err := e.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags|format.RestoreStringWithoutCharset, &sb)); err != nil {
		return f, invalid
	}
	return catalog.WithDefault(f, sb.String()), nil
}

// defaultsRow is a one-row query of the declared defaults of fs (nil when
// no column declares one), and which of them are literals.
func (b *binder) defaultsRow(fs []arrow.Field) (*Query, []bool, error) {
	lb := logical.NewBinder(b.ctx, b.env)
	v := &logical.Values{Rows: [][]logical.Expr{nil}}
	var literal []bool
	for _, f := range fs {
		if _, ok := catalog.Default(f); !ok {
			continue
		}
		e, _, err := defaultAST(f)
		if err != nil {
			return nil, nil, err
		}
		vals, err := lb.BindConstants([]ast.ExprNode{e})
		if err != nil {
			return nil, nil, err
		}
		_, isLit := vals[0].(*logical.Literal)
		literal = append(literal, isLit)
		v.Rows[0] = append(v.Rows[0], vals[0])
		v.Fields = append(v.Fields, logical.Field{ID: lb.NewID(), Name: f.Name, Type: logical.Type(vals[0]), Nullable: true})
	}
	if len(v.Fields) == 0 {
		return nil, nil, nil
	}
	return &Query{Plan: v, Params: lb.Params()}, literal, nil
}

// defaultAST is column f's DEFAULT expression (NULL when it has none); ok
// is false when f has none and is NOT NULL.
func defaultAST(f arrow.Field) (e ast.ExprNode, ok bool, err error) {
	text, has := catalog.Default(f)
	if !has {
		text = "NULL"
	}
	st, err := parse.ParseOne("SELECT " + text)
	if err != nil {
		return nil, false, qerr.New(qerr.Internal, "DEFAULT of column '%s' does not parse: %v", f.Name, err)
	}
	sel, isSel := st.(*ast.SelectStmt)
	if !isSel || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, false, qerr.New(qerr.Internal, "DEFAULT of column '%s' is not an expression", f.Name)
	}
	return sel.Fields.Fields[0].Expr, has || f.Nullable, nil
}

// maxLength is the length limit of a character/binary column type.
func maxLength(ft *types.FieldType) (int64, bool) {
	switch ft.GetType() {
	case mysql.TypeVarchar, mysql.TypeVarString, mysql.TypeString:
		if ft.GetFlen() < 0 {
			return 1, true // CHAR = CHAR(1)
		}
		return int64(ft.GetFlen()), true
	case mysql.TypeTinyBlob:
		return 255, true
	case mysql.TypeBlob:
		return 65535, true
	case mysql.TypeMediumBlob:
		return 16777215, true
	case mysql.TypeLongBlob:
		return 4294967295, true
	}
	return 0, false
}

func (b *binder) insert(s *ast.InsertStmt) (Statement, error) {
	if s.Setlist {
		return nil, qerr.New(qerr.Unimplemented, "only INSERT INTO t [(cols)] VALUES ... | SELECT ... is supported")
	}
	if s.IgnoreErr {
		return nil, qerr.New(qerr.Unimplemented, "INSERT IGNORE is not supported")
	}
	if s.IsReplace {
		return nil, qerr.New(qerr.Unimplemented, "REPLACE is not supported")
	}
	if len(s.OnDuplicate) > 0 {
		return nil, qerr.New(qerr.Unimplemented, "INSERT ... ON DUPLICATE KEY UPDATE is not supported")
	}
	tn, ok := s.Table.TableRefs.Left.(*ast.TableSource)
	var name *ast.TableName
	if ok {
		name, _ = tn.Source.(*ast.TableName)
	}
	if name == nil {
		return nil, qerr.New(qerr.Unimplemented, "INSERT target must be a table")
	}
	db, err := b.schemaOf(name.Schema)
	if err != nil {
		return nil, err
	}
	t, err := b.env.Catalog.Table(b.ctx, db, name.Name.L)
	if err != nil {
		return nil, err
	}
	cols := t.Columns.Fields()
	// target[i] = table column index of the i-th value.
	var target []int
	if len(s.Columns) == 0 {
		for i := range cols {
			target = append(target, i)
		}
	} else {
		for _, c := range s.Columns {
			idx := -1
			for i, f := range cols {
				if strings.EqualFold(f.Name, c.Name.O) {
					idx = i
				}
			}
			if idx < 0 {
				return nil, qerr.New(qerr.NotFound, "Unknown column '%s' in 'field list'", c.Name.O)
			}
			if slices.Contains(target, idx) {
				return nil, qerr.New(qerr.InvalidArgument, "Column '%s' specified twice", c.Name.O)
			}
			target = append(target, idx)
		}
	}
	pos := map[int]int{} // table column → value position
	for i, ti := range target {
		pos[ti] = i
	}
	given := func(i int) bool { _, ok := pos[i]; return ok }
	noDefault := func(f arrow.Field) error {
		return qerr.New(qerr.InvalidArgument, "Field '%s' doesn't have a default value", f.Name)
	}
	for i, f := range cols {
		if _, hasDefault := catalog.Default(f); !given(i) && !f.Nullable && !hasDefault {
			return nil, noDefault(f)
		}
	}
	lb := logical.NewBinder(b.ctx, b.env)
	// The source yields each column in the type its values have (the common
	// type over VALUES rows); the engine converts to the column's type with
	// strict-mode checks that name the column and row.
	field := func(i int, t arrow.DataType) logical.Field {
		return logical.Field{ID: lb.NewID(), Name: cols[i].Name, Type: t, Nullable: true}
	}
	defs := make([]ast.ExprNode, len(cols)) // parsed once per statement
	dflt := func(i int) (ast.ExprNode, error) {
		if defs[i] == nil {
			e, ok, err := defaultAST(cols[i])
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, noDefault(cols[i])
			}
			defs[i] = e
		}
		return defs[i], nil
	}
	var src logical.Node
	if s.Select != nil {
		n, err := lb.BindQuery(s.Select)
		if err != nil {
			return nil, err
		}
		in := n.Schema().Fields
		if len(in) != len(target) {
			return nil, qerr.New(qerr.InvalidArgument, "Column count doesn't match value count at row 1")
		}
		exprs := make([]logical.Expr, len(cols))
		fields := make([]logical.Field, len(cols))
		for i, f := range cols {
			if j, ok := pos[i]; ok {
				exprs[i] = &logical.ColumnRef{ID: in[j].ID, Name: in[j].Name, Type: in[j].Type, Nullable: in[j].Nullable}
				fields[i] = field(i, in[j].Type)
				continue
			}
			e, err := dflt(i)
			if err != nil {
				return nil, err
			}
			vals, err := lb.BindConstants([]ast.ExprNode{e})
			if err != nil {
				return nil, err
			}
			exprs[i] = logical.CastTo(vals[0], f.Type)
			fields[i] = field(i, f.Type)
		}
		src = &logical.Project{Input: n, Exprs: exprs, Fields: fields}
	} else {
		// Each row gets every column: its value, or the column's DEFAULT
		// where the row says DEFAULT or the column list leaves it out.
		rows := make([][]logical.Expr, len(s.Lists))
		full := make([]ast.ExprNode, len(cols))
		for r, list := range s.Lists {
			if len(list) != len(target) {
				return nil, qerr.New(qerr.InvalidArgument, "Column count doesn't match value count at row %d", r+1)
			}
			for i := range cols {
				if j, ok := pos[i]; ok {
					if d, isDefault := list[j].(*ast.DefaultExpr); !isDefault || d.Name != nil {
						full[i] = list[j]
						continue
					}
				}
				e, err := dflt(i)
				if err != nil {
					return nil, err
				}
				full[i] = e
			}
			vals, err := lb.BindConstants(full)
			if err != nil {
				return nil, err
			}
			rows[r] = vals
		}
		v := &logical.Values{Fields: make([]logical.Field, len(cols))}
		for i, f := range cols {
			t, err := b.valuesType(rows, i, f.Type)
			if err != nil {
				return nil, err
			}
			v.Fields[i] = field(i, t)
		}
		for _, vals := range rows {
			out := make([]logical.Expr, len(cols))
			for i, f := range v.Fields {
				out[i] = logical.CastTo(vals[i], f.Type)
			}
			v.Rows = append(v.Rows, out)
		}
		src = v
	}
	return &Insert{Schema: t.Schema, Table: t.Name, Source: &Query{Plan: src, Params: lb.Params()}}, nil
}

// valuesType is the common type of the j-th value over VALUES rows; NULLs
// and untyped parameters do not count, and take the column's type when
// nothing else decides.
func (b *binder) valuesType(rows [][]logical.Expr, j int, column arrow.DataType) (arrow.DataType, error) {
	var ts []arrow.DataType
	for _, vals := range rows {
		if t := logical.Type(vals[j]); t.ID() != arrow.NULL {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return column, nil
	}
	return b.env.Funcs.CommonType(ts...)
}

func (b *binder) createView(s *ast.CreateViewStmt) (Statement, error) {
	db, err := b.schemaOf(s.ViewName.Schema)
	if err != nil {
		return nil, err
	}
	rs, ok := s.Select.(ast.ResultSetNode)
	if !ok {
		return nil, qerr.New(qerr.InvalidArgument, "view definition must be a SELECT")
	}
	q, err := b.query(rs)
	if err != nil {
		return nil, err
	}
	fs := q.Plan.Schema().Fields
	if len(s.Cols) > 0 && len(s.Cols) != len(fs) {
		return nil, qerr.New(qerr.InvalidArgument, "In definition of view, derived table or common table expression, SELECT list and column names list have different column counts")
	}
	out := make([]arrow.Field, len(fs))
	seen := map[string]bool{}
	for i, f := range fs {
		name := f.Name
		if len(s.Cols) > 0 {
			name = s.Cols[i].O
		}
		if seen[strings.ToLower(name)] {
			return nil, qerr.New(qerr.InvalidArgument, "Duplicate column name '%s'", name)
		}
		seen[strings.ToLower(name)] = true
		out[i] = arrow.Field{Name: name, Type: f.Type, Nullable: f.Nullable}
	}
	return &CreateView{Schema: db, Name: s.ViewName.Name.L, SQL: viewText(rs, b.env.SQL), Columns: arrow.NewSchema(out, nil), OrReplace: s.OrReplace}, nil
}

// viewText is the SELECT's text as written, or its restored form.
func viewText(rs ast.ResultSetNode, sql string) string {
	if t := strings.TrimSpace(rs.(ast.Node).Text()); t != "" {
		return t
	}
	// Fall back to the text after the top-level AS of CREATE VIEW.
	up := strings.ToUpper(sql)
	for _, kw := range []string{" AS SELECT", " AS WITH", " AS (", "\nAS SELECT", " AS\n"} {
		if i := strings.Index(up, kw); i >= 0 {
			return strings.TrimSpace(sql[i+4:])
		}
	}
	return sql
}

func (b *binder) set(s *ast.SetStmt) (Statement, error) {
	if len(s.Variables) == 0 {
		return nil, qerr.New(qerr.InvalidArgument, "empty SET")
	}
	// Several assignments: the engine gets the first; MySQL clients send one.
	v := s.Variables[0]
	name := strings.ToLower(v.Name)
	if v.Name == ast.SetNames || v.Name == ast.SetCharset {
		return &Set{Name: "names", Value: v.Value.(ast.ValueExpr).GetString()}, nil
	}
	val := ""
	switch x := v.Value.(type) {
	case nil:
	case ast.ValueExpr:
		val = fmt.Sprint(x.GetValue())
	case *ast.ColumnNameExpr:
		val = x.Name.Name.O
	case *ast.DefaultExpr:
		val = "DEFAULT"
	default:
		var sb strings.Builder
		if err := x.Restore(newRestoreCtx(&sb)); err != nil {
			return nil, qerr.New(qerr.InvalidArgument, "unsupported SET value")
		}
		val = sb.String()
	}
	return &Set{Name: name, Value: val}, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// show rewrites SHOW/DESCRIBE into a query over information_schema.
func (b *binder) show(s *ast.ShowStmt) (Statement, error) {
	like := ""
	if s.Pattern != nil {
		if v, ok := s.Pattern.Pattern.(ast.ValueExpr); ok {
			like = fmt.Sprint(v.GetValue())
		}
	}
	var sql string
	switch s.Tp {
	case ast.ShowDatabases:
		sql = "SELECT schema_name AS `Database` FROM information_schema.schemata"
		if like != "" {
			sql += " WHERE schema_name LIKE " + quote(like)
		}
		sql += " ORDER BY schema_name"
	case ast.ShowTables:
		db := strings.ToLower(s.DBName)
		if db == "" {
			db = strings.ToLower(b.env.CurrentSchema)
		}
		if db == "" {
			return nil, qerr.New(qerr.InvalidArgument, "No database selected")
		}
		if !b.env.Catalog.SchemaExists(db) {
			return nil, qerr.New(qerr.NotFound, "Unknown database '%s'", db)
		}
		sql = "SELECT table_name AS `Tables_in_" + strings.ReplaceAll(db, "`", "``") + "`"
		if s.Full {
			sql += ", table_type AS `Table_type`"
		}
		sql += " FROM information_schema.tables WHERE table_schema = " + quote(db)
		if like != "" {
			sql += " AND table_name LIKE " + quote(like)
		}
		sql += " ORDER BY table_name"
	case ast.ShowColumns, ast.ShowIndex:
		db := s.DBName
		if db == "" {
			db = s.Table.Schema.L
		}
		if db == "" {
			db = b.env.CurrentSchema
		}
		if db == "" {
			return nil, qerr.New(qerr.InvalidArgument, "No database selected")
		}
		db = strings.ToLower(db)
		if _, err := b.env.Catalog.Table(b.ctx, db, s.Table.Name.L); err != nil {
			return nil, err
		}
		if s.Tp == ast.ShowIndex { // SHOW INDEX/KEYS: the PRIMARY KEY and UNIQUE keys
			sql = "SELECT table_name AS `Table`, non_unique AS `Non_unique`, index_name AS `Key_name`, seq_in_index AS `Seq_in_index`, " +
				"column_name AS `Column_name`, collation AS `Collation`, cardinality AS `Cardinality`, sub_part AS `Sub_part`, " +
				"packed AS `Packed`, nullable AS `Null`, index_type AS `Index_type`, comment AS `Comment`, index_comment AS `Index_comment`, " +
				"is_visible AS `Visible`, expression AS `Expression` FROM information_schema.statistics WHERE table_schema = " +
				quote(db) + " AND table_name = " + quote(s.Table.Name.L) + " ORDER BY index_name <> 'PRIMARY', index_name, seq_in_index"
			break
		}
		sql = "SELECT column_name AS `Field`, column_type AS `Type`, is_nullable AS `Null`, column_key AS `Key`, column_default AS `Default`, '' AS `Extra` FROM information_schema.columns WHERE table_schema = " +
			quote(db) + " AND table_name = " + quote(s.Table.Name.L)
		if like != "" {
			sql += " AND column_name LIKE " + quote(like)
		}
		if s.Column != nil { // DESCRIBE t col: col may hold % and _ wildcards
			sql += " AND column_name LIKE " + quote(s.Column.Name.O)
		}
		sql += " ORDER BY ordinal_position"
	case ast.ShowCreateTable:
		return nil, qerr.New(qerr.Unimplemented, "SHOW CREATE TABLE is not supported")
	default:
		return nil, qerr.New(qerr.Unimplemented, "this SHOW statement is not supported")
	}
	stmt, err := parse.ParseOne(sql)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "SHOW rewrite")
	}
	return b.query(stmt.(ast.ResultSetNode))
}
