package execution

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

type panicStream struct{ v any }

func (p panicStream) Schema() *arrow.Schema                           { return arrow.NewSchema(nil, nil) }
func (p panicStream) Next(context.Context) (arrow.RecordBatch, error) { panic(p.v) }
func (p panicStream) Close() error                                    { return nil }

func TestInstrumentRecoversPanics(t *testing.T) {
	for _, c := range []struct {
		v    any
		kind qerr.Kind
	}{
		{"boom", qerr.Internal},
		{&qerr.Error{Kind: qerr.ResourceExhausted, Msg: "query memory limit exceeded"}, qerr.ResourceExhausted},
	} {
		s := Instrument(panicStream{c.v}, "op", nil, nil)
		_, err := s.Next(context.Background())
		if err == nil || qerr.KindOf(err) != c.kind {
			t.Errorf("panic %v: got %v (kind %v)", c.v, err, qerr.KindOf(err))
		}
	}
}

func TestInstrumentCountsAndCancels(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	mk := func(n int) arrow.RecordBatch {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		for i := 0; i < n; i++ {
			b.Append(int64(i))
		}
		a := b.NewArray()
		defer a.Release()
		return array.NewRecordBatch(s, []arrow.Array{a}, int64(n))
	}
	m := NewMetricsSet()
	out, err := Collect(context.Background(), Instrument(NewBatchStream(s, []arrow.RecordBatch{mk(3), mk(4)}), "k", m, nil))
	if err != nil || len(out) != 2 {
		t.Fatalf("collect: %v", err)
	}
	for _, b := range out {
		b.Release()
	}
	got, ok := m.Get("k")
	if !ok || got.Rows != 7 || got.Batches != 2 || got.Bytes == 0 {
		t.Fatalf("metrics %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := Instrument(NewBatchStream(s, []arrow.RecordBatch{mk(1)}), "c", nil, nil)
	defer in.Close()
	if _, err := in.Next(ctx); qerr.KindOf(err) != qerr.Canceled {
		t.Fatalf("want Canceled, got %v", err)
	}
	if _, err := NewEmptyStream(s).Next(context.Background()); !errors.Is(err, EOF) {
		t.Fatalf("empty stream: %v", err)
	}
}

func TestHashNormalization(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	i32 := array.NewInt32Builder(mem)
	i32.AppendValues([]int32{7, -1, 0}, nil)
	i32.AppendNull()
	a := i32.NewArray()
	i32.Release()
	defer a.Release()
	i64 := array.NewInt64Builder(mem)
	i64.AppendValues([]int64{7, -1, 0}, nil)
	i64.AppendNull()
	b := i64.NewArray()
	i64.Release()
	defer b.Release()
	ha, hb := make([]uint64, 4), make([]uint64, 4)
	HashColumns([]arrow.Array{a}, 1, ha)
	HashColumns([]arrow.Array{b}, 1, hb)
	for i := range ha {
		if ha[i] != hb[i] {
			t.Errorf("row %d: int32 and int64 hash differently", i)
		}
	}
	if ha[0] == ha[1] || ha[1] == ha[2] {
		t.Error("distinct values collide")
	}
	ka, oa := EncodeKeys([]arrow.Array{a}, 4, nil, nil)
	kb, ob := EncodeKeys([]arrow.Array{b}, 4, nil, nil)
	for i := 0; i < 4; i++ {
		if string(ka[oa[i]:oa[i+1]]) != string(kb[ob[i]:ob[i+1]]) {
			t.Errorf("row %d: keys differ", i)
		}
	}
	f := array.NewFloat64Builder(mem)
	f.AppendValues([]float64{0, math.Copysign(0, -1), math.NaN(), math.NaN()}, nil)
	fa := f.NewArray()
	f.Release()
	defer fa.Release()
	hf := make([]uint64, 4)
	HashColumns([]arrow.Array{fa}, 0, hf)
	if hf[0] != hf[1] || hf[2] != hf[3] {
		t.Error("-0/0 or NaNs hash differently")
	}
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"short", "a string longer than sixteen bytes", "short"}, nil)
	sa := sb.NewArray()
	sb.Release()
	defer sa.Release()
	hs := make([]uint64, 3)
	HashColumns([]arrow.Array{sa}, 0, hs)
	if hs[0] != hs[2] || hs[0] == hs[1] {
		t.Error("string hashing")
	}
}
