package scan

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
)

func TestRLEReader(t *testing.T) {
	// From the Parquet spec: 0..7 bit-packed at width 3 is 0x88 0xC6 0xFA.
	packed := []byte{3, 0x88, 0xC6, 0xFA}
	// RLE run: 5 repeats of 6 (width 3 → one value byte).
	rle := []byte{5 << 1, 6}
	var r rleReader
	if err := r.init(append(append([]byte{}, packed...), rle...), 3); err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, 20)
	// Read in pieces that split both runs.
	n1, err := r.read(out[:3])
	if err != nil || n1 != 3 {
		t.Fatalf("read = %d, %v", n1, err)
	}
	n2, err := r.read(out[3:10])
	if err != nil || n2 != 7 {
		t.Fatalf("read = %d, %v", n2, err)
	}
	n3, err := r.read(out[10:])
	if err != nil || n3 != 3 {
		t.Fatalf("read past the end = %d, %v; want the 3 values left", n3, err)
	}
	want := []uint32{0, 1, 2, 3, 4, 5, 6, 7, 6, 6, 6, 6, 6}
	for i, w := range want {
		if out[i] != w {
			t.Fatalf("value %d = %d, want %d (%v)", i, out[i], w, out[:13])
		}
	}

	// Wide values cross byte boundaries: check against a reference packer.
	for _, width := range []int{1, 7, 13, 20, 31, 32} {
		vals := make([]uint32, 8*37)
		for i := range vals {
			vals[i] = uint32(rand.Uint64()) & uint32(1<<width-1)
		}
		buf := []byte{byte(37<<1 | 1)}
		buf = append(buf, packBits(vals, width)...)
		if err := r.init(buf, width); err != nil {
			t.Fatal(err)
		}
		got := make([]uint32, len(vals))
		if n, err := r.read(got); err != nil || n != len(vals) {
			t.Fatalf("width %d: read %d, %v", width, n, err)
		}
		for i := range vals {
			if got[i] != vals[i] {
				t.Fatalf("width %d value %d = %d, want %d", width, i, got[i], vals[i])
			}
		}
	}
}

func packBits(vals []uint32, width int) []byte {
	out := make([]byte, (len(vals)*width+7)/8)
	for i, v := range vals {
		for b := 0; b < width; b++ {
			if v>>b&1 == 1 {
				bit := i*width + b
				out[bit/8] |= 1 << (bit % 8)
			}
		}
	}
	return out
}

func TestRLEReaderCorrupt(t *testing.T) {
	var r rleReader
	if err := r.init(nil, 33); err == nil {
		t.Fatal("width 33 accepted")
	}
	// RLE run whose value does not fit the width.
	if err := r.init([]byte{4, 9}, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := r.read(make([]uint32, 2)); err == nil {
		t.Fatal("value 9 accepted at width 3")
	}
	// Truncated varint and truncated value.
	for _, buf := range [][]byte{{0x80}, {4}} {
		if err := r.init(buf, 8); err != nil {
			t.Fatal(err)
		}
		if _, err := r.read(make([]uint32, 2)); err == nil {
			t.Fatalf("%v accepted", buf)
		}
	}
	// Random garbage never panics and never yields out-of-width values.
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]uint32, 100)
	for i := 0; i < 2000; i++ {
		buf := make([]byte, rng.IntN(40))
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		width := rng.IntN(33)
		if err := r.init(buf, width); err != nil {
			t.Fatal(err)
		}
		n, _ := r.read(out)
		for _, v := range out[:n] {
			if width < 32 && v>>width != 0 {
				t.Fatalf("value %d wider than %d bits", v, width)
			}
		}
	}
}

func TestBigEndianDecimals(t *testing.T) {
	vals := []decimal128.Num{
		decimal128.FromI64(0), decimal128.FromI64(1), decimal128.FromI64(-1),
		decimal128.FromI64(123456789), decimal128.FromI64(-987654321),
		decimal128.New(0x7fff, 0xffffffffffffffff), decimal128.New(-0x8000, 0),
	}
	for _, w := range []int{1, 2, 3, 7, 8, 9, 12, 15, 16} {
		var src []byte
		var want []decimal128.Num
		for _, v := range vals {
			b, ok := beBytes(v, w)
			if !ok {
				continue
			}
			src = append(src, b...)
			want = append(want, v)
		}
		got := make([]decimal128.Num, len(want))
		bigEndianDecimals(got, src, w)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("width %d value %d = %v, want %v", w, i, got[i], want[i])
			}
		}
	}
}

// randDecimal has a random number of digits up to prec (sometimes the
// most prec allows), and a random sign.
func randDecimal(rng *rand.Rand, prec int32) decimal128.Num {
	pow := func(d int) int64 {
		p := int64(1)
		for ; d > 0; d-- {
			p *= 10
		}
		return p
	}
	d := 1 + rng.IntN(min(int(prec), 36))
	var v decimal128.Num
	switch {
	case rng.IntN(100) == 0:
		v = decimal128.GetMaxValue(prec)
	case d <= 18:
		v = decimal128.FromI64(rng.Int64N(pow(d)))
	default:
		v = decimal128.FromI64(rng.Int64N(pow(d - 18))).Mul(decimal128.FromI64(pow(18))).Add(decimal128.FromI64(rng.Int64N(pow(18))))
	}
	if rng.IntN(2) == 0 {
		v = v.Negate()
	}
	return v
}

// beBytes is the w-byte big-endian two's complement of v, if it fits.
func beBytes(v decimal128.Num, w int) ([]byte, bool) {
	full := make([]byte, 16)
	hi, lo := uint64(v.HighBits()), v.LowBits()
	for i := 0; i < 8; i++ {
		full[7-i] = byte(hi >> (8 * i))
		full[15-i] = byte(lo >> (8 * i))
	}
	sign := byte(0)
	if v.Sign() < 0 {
		sign = 0xff
	}
	for _, b := range full[:16-w] {
		if b != sign {
			return nil, false
		}
	}
	b := full[16-w:]
	if (b[0]&0x80 != 0) != (sign == 0xff) {
		return nil, false
	}
	return b, true
}

// directFile writes a table of decimal columns (nullable, negative,
// repeated and distinct values) and string/binary columns (nullable,
// empty, long, repeated and distinct) with the given writer options.
func directFile(t *testing.T, opts ...parquet.WriterProperty) (*catalog.Table, arrow.Table) {
	t.Helper()
	types := []*arrow.Decimal128Type{
		{Precision: 5, Scale: 2}, {Precision: 15, Scale: 2}, {Precision: 18, Scale: 0},
		{Precision: 20, Scale: 4}, {Precision: 38, Scale: 10},
	}
	fields := make([]arrow.Field, 0, len(types)+1)
	for _, ty := range types {
		fields = append(fields, arrow.Field{Name: "d" + ty.String(), Type: ty, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "sr", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
		arrow.Field{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "date", Type: arrow.FixedWidthTypes.Date32},
		arrow.Field{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		arrow.Field{Name: "f64", Type: arrow.PrimitiveTypes.Float64},
		// Read by pqarrow, zipped with the direct columns.
		arrow.Field{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		arrow.Field{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_us})
	sc := arrow.NewSchema(fields, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	const rows = 30000
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	for r := 0; r < rows; r++ {
		for c, ty := range types {
			b := bld.Field(c).(*array.Decimal128Builder)
			switch {
			case rng.IntN(10) == 0 && c%2 == 0:
				b.AppendNull()
			case r < rows/2:
				// Few distinct values: dictionary encoded.
				b.Append(decimal128.FromI64(int64(rng.IntN(50)) - 25))
			default:
				b.Append(randDecimal(rng, ty.Precision))
			}
		}
		bld.Field(len(types)).(*array.Int64Builder).Append(int64(r))
		str := func() string {
			switch {
			case r < rows/2:
				return [...]string{"", "AIR", "MAIL", "TRUCK", "REG AIR"}[rng.IntN(5)]
			case rng.IntN(50) == 0:
				return strings.Repeat("long ", 200+rng.IntN(100))
			}
			return fmt.Sprintf("v%d-%x", r, rng.Uint64()>>rng.IntN(64))
		}
		sb := bld.Field(len(types) + 1).(*array.StringBuilder)
		if rng.IntN(7) == 0 {
			sb.AppendNull()
		} else {
			sb.Append(str())
		}
		bld.Field(len(types) + 2).(*array.StringBuilder).Append(str())
		bb := bld.Field(len(types) + 3).(*array.BinaryBuilder)
		if rng.IntN(3) == 0 {
			bb.AppendNull()
		} else {
			bb.Append([]byte(str()))
		}
		// Repeated values in the first half (dictionary), then distinct ones.
		num := func() int64 {
			if r < rows/2 {
				return int64(rng.IntN(30)) - 15
			}
			return rng.Int64() >> rng.IntN(63)
		}
		ib := bld.Field(len(types) + 4).(*array.Int32Builder)
		if rng.IntN(5) == 0 {
			ib.AppendNull()
		} else {
			ib.Append(int32(num()))
		}
		bld.Field(len(types) + 5).(*array.Date32Builder).Append(arrow.Date32(num() % 100000))
		fb := bld.Field(len(types) + 6).(*array.Float32Builder)
		if rng.IntN(5) == 0 {
			fb.AppendNull()
		} else {
			fb.Append(float32(num()) / 7)
		}
		bld.Field(len(types) + 7).(*array.Float64Builder).Append(float64(num()) / 3)
		if rng.IntN(4) == 0 {
			bld.Field(len(types) + 8).AppendNull()
		} else {
			bld.Field(len(types) + 8).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
		}
		bld.Field(len(types) + 9).(*array.TimestampBuilder).Append(arrow.Timestamp(num()))
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "s"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "s", "d.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(append([]parquet.WriterProperty{parquet.WithMaxRowGroupLength(12000)}, opts...)...)
	if err := pqarrow.WriteTable(tbl, f, 12000, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return table(t, dir, "s", "d"), tbl
}

// TestDirectScanMatchesPqarrow reads decimal, string, integer, date and
// float columns through the scan (decimalReader, binaryReader, fixedReader)
// and compares every value and null with
// pqarrow's own reading of the same file, over the encodings and layouts
// writers use.
func TestDirectScanMatchesPqarrow(t *testing.T) {
	cases := []struct {
		name string
		opts []parquet.WriterProperty
	}{
		{"dictionary", nil},
		{"plain", []parquet.WriterProperty{parquet.WithDictionaryDefault(false)}},
		{"small pages v2", []parquet.WriterProperty{parquet.WithDataPageSize(1000), parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithCompression(compress.Codecs.Zstd)}},
		{"dictionary fallback", []parquet.WriterProperty{parquet.WithDictionaryPageSizeLimit(2000)}},
		{"integers", []parquet.WriterProperty{parquet.WithStoreDecimalAsInteger(true), parquet.WithDataPageSize(5000)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			li, _ := directFile(t, tc.opts...)
			cols := make([]int, li.Columns.NumFields())
			for i := range cols {
				cols[i] = i
			}
			compareWithPqarrow(t, li, cols)
		})
	}
}

// TestDirectScanTPCH compares the columns of the TPC-H tables
// (FIXED_LEN_BYTE_ARRAY decimals, dictionary encoded, zstd) with pqarrow: SF 0.01, and the data dir QUIVER_TPCH_DIR too when set (SF 1
// takes a minute).
func TestDirectScanTPCH(t *testing.T) {
	dirs := []string{tpchDir(t)}
	if d := os.Getenv("QUIVER_TPCH_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		for _, name := range []string{"lineitem", "orders", "part", "partsupp", "customer", "supplier"} {
			tbl := table(t, dir, "tpch", name)
			// All columns, in an order unlike the file's.
			var cols []int
			for i := tbl.Columns.NumFields() - 1; i >= 0; i-- {
				cols = append(cols, i)
			}
			compareWithPqarrow(t, tbl, cols)
		}
	}
}

// compareWithPqarrow checks that every column of cols but booleans and
// timestamps takes a direct reader and that the scan returns exactly what
// pqarrow reads.
func compareWithPqarrow(t *testing.T, tbl *catalog.Table, cols []int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(tbl), cols, project(tbl, cols...), nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tbl.Files {
		pf, err := file.OpenParquetFile(f.Path, false)
		if err != nil {
			t.Fatal(err)
		}
		for rg := 0; rg < pf.NumRowGroups(); rg++ {
			for _, c := range cols {
				cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				descr, typ := pf.MetaData().Schema.Column(c), tbl.Columns.Field(c).Type
				_, direct := decimalType(descr, cc)
				direct = direct || binaryChunk(descr, cc, typ) || fixedChunk(descr, cc, typ)
				if want := typ.ID() != arrow.BOOL && typ.ID() != arrow.TIMESTAMP; direct != want {
					t.Fatalf("%s row group %d: decimal path for %s = %v", f.Path, rg, tbl.Columns.Field(c).Name, direct)
				}
			}
		}
		pf.Close()
	}
	var got []arrow.RecordBatch
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	s.Close()
	defer func() {
		for _, b := range got {
			b.Release()
		}
	}()
	for _, f := range tbl.Files {
		want := readWithPqarrow(t, f.Path)
		defer want.Release()
		for i, c := range cols {
			var parts []arrow.Array
			for _, b := range got {
				parts = append(parts, b.Column(i))
			}
			gotCol, err := array.Concatenate(parts, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			wantCol, err := array.Concatenate(want.Column(c).Data().Chunks(), memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			if !array.Equal(gotCol, wantCol) {
				t.Errorf("%s.%s differs from pqarrow (%d vs %d rows, %d vs %d nulls)", tbl.Name, tbl.Columns.Field(c).Name,
					gotCol.Len(), wantCol.Len(), gotCol.NullN(), wantCol.NullN())
			}
			gotCol.Release()
			wantCol.Release()
		}
	}
}

func readWithPqarrow(t *testing.T, path string) arrow.Table {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: execution.BatchSize}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestDirectScanEmptyRowGroup reads a file with an empty row group between
// two others: every row comes back once, in order.
func TestDirectScanEmptyRowGroup(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	batch := func(from, n int) arrow.RecordBatch {
		bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer bld.Release()
		for i := from; i < from+n; i++ {
			bld.Field(0).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)))
			bld.Field(1).(*array.StringBuilder).Append(fmt.Sprint(i))
			bld.Field(2).(*array.Int64Builder).Append(int64(i))
		}
		return bld.NewRecordBatch()
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "s"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "s", "e.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []arrow.RecordBatch{batch(0, 3), batch(3, 0), batch(3, 2)} {
		w.NewBufferedRowGroup()
		if err := w.WriteBuffered(b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tbl := table(t, dir, "s", "e")
	if n := len(tbl.Files[0].RowGroups); n != 3 {
		t.Fatalf("%d row groups, want 3", n)
	}
	for _, cols := range [][]int{{0, 1}, {2, 0, 1}, {}} {
		s, err := NewParquetScan(ctx, taskCtx(memory.DefaultAllocator), splitsOf(tbl), cols, project(tbl, cols...), nil, -1)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := drain(t, s)
		if len(rows) != 5 {
			t.Fatalf("cols %v: %d rows, want 5: %v", cols, len(rows), rows)
		}
		for i, r := range rows {
			if len(cols) > 0 && !strings.HasSuffix(r, fmt.Sprintf("|%d", i)) {
				t.Fatalf("cols %v: rows %v", cols, rows)
			}
		}
	}
}

// TestDirectScanCorruptFile flips bytes all over uncompressed files and
// scans the directly read columns: each scan ends in an error or in rows,
// never in a panic, and leaves no buffer allocated.
func TestDirectScanCorruptFile(t *testing.T) {
	for _, opts := range [][]parquet.WriterProperty{
		{parquet.WithCompression(compress.Codecs.Uncompressed)},
		{parquet.WithCompression(compress.Codecs.Uncompressed), parquet.WithDictionaryDefault(false), parquet.WithDataPageVersion(parquet.DataPageV2)},
	} {
		tbl, _ := directFile(t, opts...)
		path := tbl.Files[0].Path
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cols := make([]int, tbl.Columns.NumFields())
		for i := range cols {
			cols[i] = i
		}
		rng := rand.New(rand.NewPCG(5, 6))
		failed := 0
		for i := 0; i < 60; i++ {
			bad := append([]byte(nil), orig...)
			// Stay clear of the footer: that is the file reader's business.
			for j := 0; j < 4; j++ {
				bad[4+rng.IntN(len(bad)/2)] ^= byte(1 + rng.IntN(255))
			}
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(tbl), cols, project(tbl, cols...), nil, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := execution.Collect(ctx, s)
			if err != nil {
				failed++
			}
			for _, b := range got {
				b.Release()
			}
			s.Close()
			mem.AssertSize(t, 0)
		}
		if failed == 0 {
			t.Fatal("no corruption was detected")
		}
	}
}
