package expr

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const benchRows = 8192

func benchBatch(b *testing.B) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	price := array.NewDecimal128Builder(mem, dec(15, 2))
	disc := array.NewDecimal128Builder(mem, dec(15, 2))
	comment := array.NewStringBuilder(mem)
	for i := 0; i < benchRows; i++ {
		price.Append(decimal128.FromI64(int64(100000 + i*37)))
		disc.Append(decimal128.FromI64(int64(i % 11)))
		comment.Append(fmt.Sprintf("carefully final %d packages special requests %d", i, i%7))
	}
	cols := []arrow.Array{price.NewArray(), disc.NewArray(), comment.NewArray()}
	return batchOf(cols...)
}

func runBench(b *testing.B, e Expr) {
	batch := benchBatch(b)
	defer batch.Release()
	mem := memory.NewGoAllocator()
	b.ReportAllocs()
	b.SetBytes(benchRows)
	for b.Loop() {
		out, err := e.Eval(mem, batch)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
}

func BenchmarkDecimalMultiply(b *testing.B) {
	e, err := NewCall("*", []Expr{NewColumn(0, "price", dec(15, 2)), NewColumn(1, "disc", dec(15, 2))}, dec(30, 4))
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, e)
}

func BenchmarkDecimalCompare(b *testing.B) {
	e, err := NewCall("<", []Expr{NewColumn(1, "disc", dec(15, 2)), NewColumn(0, "price", dec(15, 2))}, bl)
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, e)
}

func BenchmarkLike(b *testing.B) {
	e, err := NewCall("like", []Expr{NewColumn(2, "comment", str), strLit("%special%requests%")}, bl)
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, e)
}
