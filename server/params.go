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
	batches, err := readParamBatches(rdr, want)
	if err != nil {
		return nil, nil, err
	}
	rows, err := paramRows(batches)
	if err != nil {
		releaseBatches(batches)
		return nil, nil, err
	}
	return rows, batches, nil
}

// readParamBatches reads every parameter batch of a DoPut, checking that
// each has one column per placeholder; the caller releases them.
func readParamBatches(rdr batchReader, want int) ([]arrow.RecordBatch, error) {
	var batches []arrow.RecordBatch
	for rdr.Next() {
		b := rdr.RecordBatch()
		if int(b.NumCols()) != want {
			releaseBatches(batches)
			return nil, qerr.New(qerr.InvalidArgument,
				"statement has %d parameters, %d were bound", want, b.NumCols())
		}
		b.Retain()
		batches = append(batches, b)
	}
	if err := rdr.Err(); err != nil {
		releaseBatches(batches)
		return nil, qerr.Wrap(qerr.InvalidArgument, err, "read parameters")
	}
	return batches, nil
}

// paramRows splits parameter batches into rows of scalars (backed by the
// batches' buffers).
func paramRows(batches []arrow.RecordBatch) ([][]scalar.Scalar, error) {
	var rows [][]scalar.Scalar
	for _, b := range batches {
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]scalar.Scalar, b.NumCols())
			for c := range row {
				v, err := scalar.GetScalar(b.Column(c), i)
				if err != nil {
					return nil, qerr.Wrap(qerr.InvalidArgument, err, "parameter %d", c+1)
				}
				row[c] = v
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func releaseBatches(batches []arrow.RecordBatch) {
	for _, b := range batches {
		b.Release()
	}
}
