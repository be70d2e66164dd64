package server

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

// batchReader is what readParams needs of a flight.MessageReader (or an
// ipc.Reader: parameters carried in a prepared statement handle).
type batchReader interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
}

// readParams reads every parameter batch of a DoPut: one []scalar.Scalar
// per row, one value per placeholder. The returned batches back the
// scalars' buffers; the caller releases them when done with the values.
func readParams(rdr batchReader, want int) ([][]scalar.Scalar, []arrow.RecordBatch, error) {
	var (
		rows    [][]scalar.Scalar
		batches []arrow.RecordBatch
	)
	release := func() {
		for _, b := range batches {
			b.Release()
		}
	}
	for rdr.Next() {
		b := rdr.RecordBatch()
		if int(b.NumCols()) != want {
			release()
			return nil, nil, qerr.New(qerr.InvalidArgument,
				"statement has %d parameters, %d were bound", want, b.NumCols())
		}
		b.Retain()
		batches = append(batches, b)
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]scalar.Scalar, b.NumCols())
			for c := range row {
				v, err := scalar.GetScalar(b.Column(c), i)
				if err != nil {
					release()
					return nil, nil, qerr.Wrap(qerr.InvalidArgument, err, "parameter %d", c+1)
				}
				row[c] = v
			}
			rows = append(rows, row)
		}
	}
	if err := rdr.Err(); err != nil {
		release()
		return nil, nil, qerr.Wrap(qerr.InvalidArgument, err, "read parameters")
	}
	return rows, batches, nil
}
