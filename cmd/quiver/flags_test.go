package main

import (
	"flag"
	"runtime"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"1024", 1024, false},
		{"512MB", 512e6, false},
		{"2GiB", 2 << 30, false},
		{"2G", 2 << 30, false},
		{"1.5GiB", 3 << 29, false},
		{"64 KiB", 64 << 10, false},
		{"0", 0, false},
		{"", 0, true},
		{"12XB", 0, true},
		{"-1GB", 0, true},
		{"GB", 0, true},
	} {
		got, err := parseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	listen := fs.String("listen", "default", "")
	data := fs.String("data", "", "")
	var dirs stringList
	fs.Var(&dirs, "allow-dir", "")
	var mem byteSize
	fs.Var(&mem, "query-memory-limit", "")
	t.Setenv("QUIVER_LISTEN", "from-env")
	t.Setenv("QUIVER_DATA", "/env/data")
	t.Setenv("QUIVER_ALLOW_DIR", "/a:/b")
	t.Setenv("QUIVER_QUERY_MEMORY_LIMIT", "1GiB")
	if err := fs.Parse([]string{"--data", "/flag/data"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if *listen != "from-env" || *data != "/flag/data" {
		t.Fatalf("listen=%q data=%q: flags must win over env", *listen, *data)
	}
	if len(dirs) != 2 || dirs[1] != "/b" || mem != 1<<30 {
		t.Fatalf("dirs=%v mem=%d", dirs, mem)
	}
	t.Setenv("QUIVER_QUERY_MEMORY_LIMIT", "lots")
	fs2 := flag.NewFlagSet("t", flag.ContinueOnError)
	fs2.Var(&mem, "query-memory-limit", "")
	_ = fs2.Parse(nil)
	if err := applyEnv(fs2); err == nil {
		t.Fatal("bad env size must fail")
	}
}

// TestServeDurationFlags: a bad limit or timeout names its flag.
func TestServeDurationFlags(t *testing.T) {
	for _, tc := range []struct{ flag, value, msg string }{
		{"--query-timeout", "-1s", "--query-timeout: -1s must not be negative"},
		{"--shutdown-grace", "-1s", "--shutdown-grace: -1s must not be negative"},
		{"--token-ttl", "0s", "--token-ttl: 0s must be positive"},
		{"--session-idle-timeout", "-5m", "--session-idle-timeout: -5m0s must be positive"},
		{"--result-ttl", "0s", "--result-ttl: 0s must be positive"},
		{"--max-concurrent-queries-per-user", "-1", "--max-concurrent-queries-per-user: -1 is negative"},
	} {
		_, err := parseServeFlags([]string{tc.flag, tc.value})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %s: got %v, want %q", tc.flag, tc.value, err, tc.msg)
		}
	}
	for _, ok := range [][]string{{"--query-timeout", "0s"}, {"--shutdown-grace", "0s"}, {"--result-ttl", "1s"}} {
		if _, err := parseServeFlags(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

func TestServeParallelism(t *testing.T) {
	f, err := parseServeFlags(nil)
	if err != nil || f.parallelism != runtime.GOMAXPROCS(0) {
		t.Fatalf("default parallelism %v, %v; want GOMAXPROCS", f, err)
	}
	if f, err = parseServeFlags([]string{"--parallelism", "3"}); err != nil || f.parallelism != 3 {
		t.Fatalf("--parallelism 3: %v, %v", f, err)
	}
	t.Setenv("QUIVER_PARALLELISM", "1")
	if f, err = parseServeFlags(nil); err != nil || f.parallelism != 1 {
		t.Fatalf("QUIVER_PARALLELISM=1: %v, %v", f, err)
	}
	for _, bad := range []string{"0", "-2", "two"} {
		if _, err := parseServeFlags([]string{"--parallelism", bad}); err == nil {
			t.Errorf("--parallelism %s accepted", bad)
		}
	}
}
