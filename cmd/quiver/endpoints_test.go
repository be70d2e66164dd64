package main

import (
	"testing"
	"time"
)

func TestEndpointAddr(t *testing.T) {
	for _, c := range []struct{ advertise, listen, want string }{
		{"", "127.0.0.1:32010", "127.0.0.1:32010"},
		{"db.example.com", "0.0.0.0:32010", "db.example.com:32010"},
		{"db.example.com:443", "0.0.0.0:32010", "db.example.com:443"},
		{"fe80::1", "[::]:32010", "[fe80::1]:32010"},
	} {
		if got := endpointAddr(c.advertise, c.listen); got != c.want {
			t.Errorf("endpointAddr(%q, %q) = %q, want %q", c.advertise, c.listen, got, c.want)
		}
	}
}

func TestShutdownAndEndpointFlags(t *testing.T) {
	f, err := parseServeFlags(nil)
	if err != nil || f.shutdownGrace != 10*time.Second || f.advertiseEndpoints {
		t.Fatalf("defaults: %+v, %v", f, err)
	}
	if f, err = parseServeFlags([]string{"--shutdown-grace", "2s", "--advertise-endpoints"}); err != nil ||
		f.shutdownGrace != 2*time.Second || !f.advertiseEndpoints {
		t.Fatalf("flags: %+v, %v", f, err)
	}
	if _, err := parseServeFlags([]string{"--shutdown-grace", "-1s"}); err == nil {
		t.Error("negative --shutdown-grace accepted")
	}
}
