package main

import (
	"strings"
	"testing"
)

func TestClusterFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		check   func(*serveFlags) bool
	}{
		{args: nil, check: func(f *serveFlags) bool { return !f.cluster.enabled() && f.cluster.clusterListen == "" }},
		{args: []string{"--listen", "127.0.0.1:32020", "--join", "127.0.0.1:32012", "--cluster-secret", "s"},
			check: func(f *serveFlags) bool {
				return f.cluster.clusterListen == "127.0.0.1:32021" && f.cluster.gossipListen == "127.0.0.1:32022" && string(f.cluster.secret) == "s"
			}},
		{args: []string{"--cluster-secret-file", "/nonexistent"}, wantErr: "cluster secret file"},
		{args: []string{"--gossip-key", "MDEyMzQ1Njc4OWFiY2RlZg=="},
			check: func(f *serveFlags) bool {
				return f.cluster.enabled() && len(f.cluster.secret) == 32 && len(f.cluster.key) == 16
			}},
		{args: []string{"--gossip-key", "REPLACE-ME"}, wantErr: "--gossip-key"},
		{args: []string{"--join", "127.0.0.1:32012"}, wantErr: "refusing to start a cluster node"},
		{args: []string{"--join", "127.0.0.1:32012", "--insecure"}, check: func(f *serveFlags) bool { return f.cluster.secret == nil }},
		{args: []string{"--cluster-secret", "a", "--cluster-secret-file", "b"}, wantErr: "not both"},
		{args: []string{"--cluster-secret", "a", "--cluster-tls-cert", "c"}, wantErr: "go together"},
		{args: []string{"--listen", "127.0.0.1:0", "--cluster-secret", "a"}, wantErr: "port 0"},
	} {
		f, err := parseServeFlags(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: want error %q, got %v", tc.args, tc.wantErr, err)
			}
			continue
		}
		if err != nil || !tc.check(f) {
			t.Errorf("%v: err %v, flags %+v", tc.args, err, f.cluster)
		}
	}
}
