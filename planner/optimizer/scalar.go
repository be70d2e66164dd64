package optimizer

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow/scalar"
)

type scalarValue = scalar.Scalar

var errFold = errors.New("constant folding failed")

func nullBool() scalar.Scalar { return scalar.MakeNullScalar(boolType) }
