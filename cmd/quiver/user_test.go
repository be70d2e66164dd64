package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := runUser([]string{"add", "--users", path, "alice"}, strings.NewReader("pw1\n"), false); err != nil {
		t.Fatal(err)
	}
	if err := runUser([]string{"add", "--users", path, "--read-only", "bob"}, strings.NewReader("pw2"), false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "\nalice:$2") || !strings.Contains(string(b), "\nbob:$2") || !strings.HasSuffix(string(b), ":read-only\n") {
		t.Fatalf("users file:\n%s", b)
	}
	if err := runUser([]string{"add", "--users", path, "carol"}, strings.NewReader(""), false); err == nil {
		t.Fatal("empty stdin must fail")
	}
	if err := runUser([]string{"add", "alice"}, strings.NewReader("x\n"), false); err == nil {
		t.Fatal("missing --users must fail")
	}
	if err := runUser([]string{"remove", "--users", path, "bob"}, nil, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "bob") {
		t.Fatalf("bob still there:\n%s", b)
	}
}

func TestServeSecurityFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"--listen", "localhost:0"}, true},
		{[]string{"--listen", "[::1]:0"}, true},
		{[]string{"--listen", "0.0.0.0:32010"}, false},
		{[]string{"--listen", ":32010"}, false},
		{[]string{"--listen", "10.1.2.3:32010", "--users", "u"}, false},
		{[]string{"--listen", "0.0.0.0:32010", "--insecure"}, true},
		{[]string{"--listen", "0.0.0.0:32010", "--users", "u", "--tls-cert", "c", "--tls-key", "k"}, true},
		{[]string{"--tls-cert", "c"}, false},
		{[]string{"--tls-client-ca", "ca"}, false},
		{[]string{"--query-timeout", "-1s"}, false},
		{[]string{"--max-result-bytes", "1GiB", "--max-concurrent-queries-per-user", "4", "--query-timeout", "10m"}, true},
	} {
		_, err := parseServeFlags(tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("serve %v: err = %v, want ok=%v", tc.args, err, tc.ok)
		}
	}
	f, err := parseServeFlags([]string{"--max-result-bytes", "1GiB", "--max-concurrent-queries-per-user", "4", "--query-timeout", "10m"})
	if err != nil || f.maxResultBytes != 1<<30 || f.maxQueriesPerUser != 4 || f.queryTimeout.Minutes() != 10 {
		t.Fatalf("limits: %+v %v", f, err)
	}
}
