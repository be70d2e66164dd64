package cluster

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/cluster/planpb"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/execution/ops"
)

// Expressions ↔ planpb.Expr. Decoding rebuilds every node through the expr
// constructors (NewCall binds the kernel, NewCast/NewCase check types), so a
// decoded expression evaluates exactly like the planner's.

// encodeExpr encodes e; a nil e is a nil message (an optional expression).
func encodeExpr(e expr.Expr) (*planpb.Expr, error) {
	switch e := e.(type) {
	case nil:
		return nil, nil
	case *expr.Column:
		t, err := encodeType(e.Type)
		if err != nil {
			return nil, err
		}
		return &planpb.Expr{Kind: &planpb.Expr_Column{Column: &planpb.ColumnExpr{Index: int32(e.Index), Name: e.Name, Type: t}}}, nil
	case *expr.Literal:
		s, err := encodeScalar(e.Value)
		if err != nil {
			return nil, err
		}
		return &planpb.Expr{Kind: &planpb.Expr_Literal{Literal: s}}, nil
	case *expr.Call:
		args, err := encodeExprs(e.Args)
		if err != nil {
			return nil, err
		}
		t, err := encodeType(e.Type)
		if err != nil {
			return nil, err
		}
		return &planpb.Expr{Kind: &planpb.Expr_Call{Call: &planpb.CallExpr{Name: e.Name, Args: args, Type: t}}}, nil
	case *expr.CastExpr:
		in, err := encodeExpr(e.Input)
		if err != nil {
			return nil, err
		}
		t, err := encodeType(e.Type)
		if err != nil {
			return nil, err
		}
		return &planpb.Expr{Kind: &planpb.Expr_Cast{Cast: &planpb.CastExpr{Input: in, Type: t}}}, nil
	case *expr.CaseExpr:
		whens, err := encodeExprs(e.Whens)
		if err != nil {
			return nil, err
		}
		thens, err := encodeExprs(e.Thens)
		if err != nil {
			return nil, err
		}
		els, err := encodeExpr(e.Else)
		if err != nil {
			return nil, err
		}
		t, err := encodeType(e.Type)
		if err != nil {
			return nil, err
		}
		return &planpb.Expr{Kind: &planpb.Expr_Case{Case: &planpb.CaseExpr{Whens: whens, Thens: thens, Else: els, Type: t}}}, nil
	}
	return nil, fmt.Errorf("%w: expression %T (%s)", ErrUnsupported, e, e)
}

// encodeExprs encodes a list whose elements are all required.
func encodeExprs(es []expr.Expr) ([]*planpb.Expr, error) {
	out := make([]*planpb.Expr, len(es))
	for i, e := range es {
		if e == nil {
			return nil, fmt.Errorf("%w: nil expression in a list", ErrUnsupported)
		}
		pe, err := encodeExpr(e)
		if err != nil {
			return nil, err
		}
		out[i] = pe
	}
	return out, nil
}

// decodeExpr decodes a required expression.
func decodeExpr(pe *planpb.Expr) (expr.Expr, error) {
	if pe == nil {
		return nil, malformed("missing expression")
	}
	switch k := pe.Kind.(type) {
	case *planpb.Expr_Column:
		c := k.Column
		if c == nil || c.Index < 0 {
			return nil, malformed("column reference %v", c)
		}
		t, err := decodeType(c.Type)
		if err != nil {
			return nil, err
		}
		return expr.NewColumn(int(c.Index), c.Name, t), nil
	case *planpb.Expr_Literal:
		s, err := decodeScalar(k.Literal)
		if err != nil {
			return nil, err
		}
		return expr.NewLiteral(s), nil
	case *planpb.Expr_Call:
		c := k.Call
		if c == nil {
			return nil, malformed("empty call")
		}
		args, err := decodeExprs(c.Args)
		if err != nil {
			return nil, err
		}
		t, err := decodeType(c.Type)
		if err != nil {
			return nil, err
		}
		return guard(fmt.Sprintf("call %s", c.Name), func() (expr.Expr, error) { return expr.NewCall(c.Name, args, t) })
	case *planpb.Expr_Cast:
		c := k.Cast
		if c == nil {
			return nil, malformed("empty cast")
		}
		in, err := decodeExpr(c.Input)
		if err != nil {
			return nil, err
		}
		t, err := decodeType(c.Type)
		if err != nil {
			return nil, err
		}
		return guard("cast", func() (expr.Expr, error) { return expr.NewCast(in, t) })
	case *planpb.Expr_Case:
		c := k.Case
		if c == nil {
			return nil, malformed("empty case")
		}
		whens, err := decodeExprs(c.Whens)
		if err != nil {
			return nil, err
		}
		thens, err := decodeExprs(c.Thens)
		if err != nil {
			return nil, err
		}
		els, err := decodeOptExpr(c.Else)
		if err != nil {
			return nil, err
		}
		t, err := decodeType(c.Type)
		if err != nil {
			return nil, err
		}
		return guard("case", func() (expr.Expr, error) { return expr.NewCase(whens, thens, els, t) })
	}
	return nil, malformed("unknown expression kind %T", pe.Kind)
}

// guard runs an expression constructor (which binds kernels written for
// planner-made arguments) and turns its error or panic on arguments no
// planner would produce into a malformed-fragment error.
func guard(what string, f func() (expr.Expr, error)) (e expr.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, malformed("%s: %v", what, r)
		}
	}()
	e, err = f()
	if err != nil {
		return nil, malformed("%s: %v", what, err)
	}
	return e, nil
}

func decodeOptExpr(pe *planpb.Expr) (expr.Expr, error) {
	if pe == nil {
		return nil, nil
	}
	return decodeExpr(pe)
}

func decodeExprs(pes []*planpb.Expr) ([]expr.Expr, error) {
	if len(pes) == 0 {
		return nil, nil
	}
	out := make([]expr.Expr, len(pes))
	for i, pe := range pes {
		e, err := decodeExpr(pe)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func encodeSortKeys(keys []expr.SortKey) ([]*planpb.SortKey, error) {
	out := make([]*planpb.SortKey, len(keys))
	for i, k := range keys {
		if k.Expr == nil {
			return nil, fmt.Errorf("%w: sort key without an expression", ErrUnsupported)
		}
		e, err := encodeExpr(k.Expr)
		if err != nil {
			return nil, err
		}
		out[i] = &planpb.SortKey{Expr: e, Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	return out, nil
}

func decodeSortKeys(pks []*planpb.SortKey) ([]expr.SortKey, error) {
	if len(pks) == 0 {
		return nil, nil
	}
	out := make([]expr.SortKey, len(pks))
	for i, pk := range pks {
		if pk == nil {
			return nil, malformed("missing sort key")
		}
		e, err := decodeExpr(pk.Expr)
		if err != nil {
			return nil, err
		}
		out[i] = expr.SortKey{Expr: e, Desc: pk.Desc, NullsFirst: pk.NullsFirst}
	}
	return out, nil
}

func encodeAggSpec(a ops.AggSpec) (*planpb.AggSpec, error) {
	args, err := encodeExprs(a.Args)
	if err != nil {
		return nil, err
	}
	filter, err := encodeExpr(a.Filter)
	if err != nil {
		return nil, err
	}
	order, err := encodeSortKeys(a.OrderBy)
	if err != nil {
		return nil, err
	}
	t, err := encodeType(a.Type)
	if err != nil {
		return nil, err
	}
	return &planpb.AggSpec{Func: a.Func, Args: args, Distinct: a.Distinct, Filter: filter, OrderBy: order, Separator: a.Separator, Type: t}, nil
}

func decodeAggSpec(pa *planpb.AggSpec) (ops.AggSpec, error) {
	if pa == nil {
		return ops.AggSpec{}, malformed("missing aggregate")
	}
	if pa.Func == "" {
		return ops.AggSpec{}, malformed("aggregate without a function name")
	}
	args, err := decodeExprs(pa.Args)
	if err != nil {
		return ops.AggSpec{}, err
	}
	filter, err := decodeOptExpr(pa.Filter)
	if err != nil {
		return ops.AggSpec{}, err
	}
	if filter != nil && filter.DataType().ID() != arrow.BOOL {
		return ops.AggSpec{}, malformed("aggregate filter %s is %s, not boolean", filter, filter.DataType())
	}
	order, err := decodeSortKeys(pa.OrderBy)
	if err != nil {
		return ops.AggSpec{}, err
	}
	t, err := decodeType(pa.Type)
	if err != nil {
		return ops.AggSpec{}, err
	}
	return ops.AggSpec{Func: pa.Func, Args: args, Distinct: pa.Distinct, Filter: filter, OrderBy: order, Separator: pa.Separator, Type: t}, nil
}

var frameKinds = map[ops.FrameBoundKind]planpb.FrameBoundKind{
	ops.UnboundedPreceding: planpb.FrameBoundKind_UNBOUNDED_PRECEDING,
	ops.Preceding:          planpb.FrameBoundKind_PRECEDING,
	ops.CurrentRow:         planpb.FrameBoundKind_CURRENT_ROW,
	ops.Following:          planpb.FrameBoundKind_FOLLOWING,
	ops.UnboundedFollowing: planpb.FrameBoundKind_UNBOUNDED_FOLLOWING,
}

func encodeFrameBound(b ops.FrameBound) (*planpb.FrameBound, error) {
	k, ok := frameKinds[b.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: frame bound kind %d", ErrUnsupported, b.Kind)
	}
	v, err := encodeExpr(b.OffsetValue)
	if err != nil {
		return nil, err
	}
	return &planpb.FrameBound{Kind: k, Offset: b.Offset, OffsetValue: v}, nil
}

func decodeFrameBound(pb *planpb.FrameBound) (ops.FrameBound, error) {
	if pb == nil {
		return ops.FrameBound{}, malformed("missing frame bound")
	}
	k, ok := reverse(frameKinds)[pb.Kind]
	if !ok {
		return ops.FrameBound{}, malformed("unknown frame bound kind %d", pb.Kind)
	}
	if pb.Offset < 0 {
		return ops.FrameBound{}, malformed("negative frame offset %d", pb.Offset)
	}
	v, err := decodeOptExpr(pb.OffsetValue)
	if err != nil {
		return ops.FrameBound{}, err
	}
	return ops.FrameBound{Kind: k, Offset: pb.Offset, OffsetValue: v}, nil
}

func encodeWindowSpec(w ops.WindowSpec) (*planpb.WindowSpec, error) {
	args, err := encodeExprs(w.Args)
	if err != nil {
		return nil, err
	}
	part, err := encodeExprs(w.PartitionBy)
	if err != nil {
		return nil, err
	}
	order, err := encodeSortKeys(w.OrderBy)
	if err != nil {
		return nil, err
	}
	t, err := encodeType(w.Type)
	if err != nil {
		return nil, err
	}
	pw := &planpb.WindowSpec{Func: w.Func, Args: args, Distinct: w.Distinct, PartitionBy: part, OrderBy: order, Type: t}
	if w.Frame != nil {
		start, err := encodeFrameBound(w.Frame.Start)
		if err != nil {
			return nil, err
		}
		end, err := encodeFrameBound(w.Frame.End)
		if err != nil {
			return nil, err
		}
		pw.Frame = &planpb.WindowFrame{Rows: w.Frame.Rows, Start: start, End: end}
	}
	return pw, nil
}

func decodeWindowSpec(pw *planpb.WindowSpec) (ops.WindowSpec, error) {
	if pw == nil {
		return ops.WindowSpec{}, malformed("missing window function")
	}
	if pw.Func == "" {
		return ops.WindowSpec{}, malformed("window function without a name")
	}
	args, err := decodeExprs(pw.Args)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	part, err := decodeExprs(pw.PartitionBy)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	order, err := decodeSortKeys(pw.OrderBy)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	t, err := decodeType(pw.Type)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	w := ops.WindowSpec{Func: pw.Func, Args: args, Distinct: pw.Distinct, PartitionBy: part, OrderBy: order, Type: t}
	if pw.Frame != nil {
		start, err := decodeFrameBound(pw.Frame.Start)
		if err != nil {
			return ops.WindowSpec{}, err
		}
		end, err := decodeFrameBound(pw.Frame.End)
		if err != nil {
			return ops.WindowSpec{}, err
		}
		w.Frame = &ops.WindowFrame{Rows: pw.Frame.Rows, Start: start, End: end}
	}
	return w, nil
}

func reverse[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}
