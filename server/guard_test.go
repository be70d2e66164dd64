package server

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
)

type capture struct{ msgs []*flight.FlightData }

func (c *capture) Send(d *flight.FlightData) error {
	c.msgs = append(c.msgs, proto.Clone(d).(*flight.FlightData))
	return nil
}

// flightMessages is the Flight IPC stream of one batch of typ built from js.
func flightMessages(t *testing.T, typ arrow.DataType, js string) []*flight.FlightData {
	t.Helper()
	arr, _, err := array.FromJSON(memory.DefaultAllocator, typ, strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: typ, Nullable: true}, {Name: "b", Type: typ, Nullable: true}}, nil)
	b := array.NewRecordBatch(schema, []arrow.Array{arr, arr}, int64(arr.Len()))
	defer b.Release()
	var c capture
	w := flight.NewRecordWriter(&c, ipc.WithSchema(schema))
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return c.msgs
}

// TestIPCShape: the field nodes a schema message promises match those of
// its record batches for flat, nested and dictionary types, so a batch
// wider than its schema (which arrow-go's reader would silently cut) is
// told apart; garbage headers are left to the IPC reader.
func TestIPCShape(t *testing.T) {
	for _, c := range []struct {
		typ arrow.DataType
		js  string
	}{
		{arrow.PrimitiveTypes.Int64, `[1]`},
		{arrow.BinaryTypes.String, `["x"]`},
		{arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1, 2]]`},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}), `[{"x": [1]}]`},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), `[[{"key": "k", "value": 1}]]`},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, `["x"]`},
	} {
		msgs := flightMessages(t, c.typ, c.js)
		var schemaNodes, batchNodes int
		for _, m := range msgs {
			kind, n, err := ipcShape(m.DataHeader)
			if err != nil {
				t.Fatalf("%s: %v", c.typ, err)
			}
			switch kind {
			case ipcSchema:
				schemaNodes = n
			case ipcRecordBatch:
				batchNodes = n
			}
		}
		if schemaNodes == 0 || schemaNodes != batchNodes {
			t.Errorf("%s: schema promises %d nodes, the batch has %d", c.typ, schemaNodes, batchNodes)
		}
	}
	// A one-column schema followed by a two-column batch.
	narrow := flightMessages(t, arrow.PrimitiveTypes.Int64, `[1]`)
	p := &peekedPut{nodes: -1}
	_, n, _ := ipcShape(narrow[0].DataHeader)
	p.nodes = n - 1
	if _, err := p.check(narrow[1]); err == nil || !strings.Contains(err.Error(), "does not match the stream's schema") {
		t.Errorf("wider batch: %v", err)
	}
	for _, garbage := range [][]byte{{1, 2, 3}, []byte("garbage!garbage!"), {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}} {
		if kind, _, err := ipcShape(garbage); kind != 0 || err != nil {
			t.Errorf("%x: %d %v", garbage, kind, err)
		}
	}
}
