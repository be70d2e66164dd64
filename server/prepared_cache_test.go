package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestPreparedCacheBytes: the per-node handle cache is bounded by bytes as
// well as entries, so a client preparing many long statements without
// closing them cannot pin unbounded memory; the newest entries stay, the
// accounting returns to zero when entries are removed.
func TestPreparedCacheBytes(t *testing.T) {
	var ps preparedStore
	sql := strings.Repeat("x", 1<<20)
	var last []byte
	for i := range 100 { // 100 MiB of SQL, 200 MiB with the handles
		h := fmt.Appendf(nil, "handle-%d-%s", i, sql)
		ps.put(h, &prepared{sql: sql})
		if ps.bytes > maxCachedPreparedBytes {
			t.Fatalf("after %d entries the cache holds %d bytes (bound %d)", i+1, ps.bytes, maxCachedPreparedBytes)
		}
		last = h
	}
	if ps.lookup(last) == nil {
		t.Fatal("the newest entry was evicted")
	}
	if n := len(ps.m); n == 0 || n > maxCachedPreparedBytes/(2<<20) {
		t.Fatalf("%d entries cached", n)
	}
	for h := range ps.m {
		ps.remove([]byte(h))
	}
	if ps.bytes != 0 || len(ps.m) != 0 {
		t.Fatalf("after removing every entry: %d bytes, %d entries", ps.bytes, len(ps.m))
	}
}
