package physical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution/expr"
)

// unifyKeys casts each pair of hash join keys to one type where their
// values could be equal in different representations: the hash table
// compares raw values, so DECIMAL(10,2) 2.00 (200) and DECIMAL(19,0) 2 (2)
// never met. (Comparison kernels handle mixed scales; hashing cannot.)
func unifyKeys(lkeys, rkeys []expr.Expr) error {
	for k := range lkeys {
		lt, rt := lkeys[k].DataType(), rkeys[k].DataType()
		if arrow.TypeEqual(lt, rt) || arrow.IsInteger(lt.ID()) && arrow.IsInteger(rt.ID()) {
			continue
		}
		t, err := expr.CommonType(lt, rt)
		if err != nil {
			return err
		}
		for _, e := range []*expr.Expr{&lkeys[k], &rkeys[k]} {
			if !arrow.TypeEqual((*e).DataType(), t) {
				c, err := expr.NewCast(*e, t)
				if err != nil {
					return err
				}
				*e = c
			}
		}
	}
	return nil
}
