package slt

import (
	"crypto/md5"
	"encoding/hex"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func decimalOf(v int64) decimal128.Num { return decimal128.FromI64(v) }

func mustDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}
