package engine_test

import (
	"context"
	"testing"
)

// TestFuzzFindings replays what the fuzzers and the random query generator
// found: each query must run (no Internal error, no memory left accounted)
// and return want as the first value.
func TestFuzzFindings(t *testing.T) {
	e, s := tpch(t)
	for _, c := range []struct{ sql, want string }{
		// TIMESTAMP(date) handed the DATE column to a DATETIME kernel.
		{"SELECT timestamp(o_orderdate) FROM orders WHERE o_orderkey = 1", "1996-01-02T00:00:00"},
		{"SELECT timestamp(o_orderdate, '01:00:00') FROM orders WHERE o_orderkey = 1", "1996-01-02T01:00:00"},
		{"SELECT IF(o_orderkey IS NOT NULL, timestamp(DATE '2024-01-31'), o_orderdate) FROM orders WHERE o_orderkey = 1", "2024-01-31T00:00:00"},
	} {
		_, first, err, failure := checkQuery(context.Background(), e, s, c.sql)
		if failure != "" || err != nil || first != c.want {
			t.Errorf("%s: got %q (%v) %s, want %q", c.sql, first, err, failure, c.want)
		}
	}
}
