// Package deploy holds the Dockerfile and Kubernetes manifests; this test
// parses them (no Docker engine or cluster needed) and checks they agree
// with each other and with the flags of `quiver serve`.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// serveFlags are the flag names `quiver serve` defines (read from source).
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`fs\.\w+\(&[\w.]+, "([a-z0-9-]+)"`)
	flags := map[string]bool{}
	files, _ := filepath.Glob("../cmd/quiver/*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			flags[string(m[1])] = true
		}
	}
	for _, f := range []string{"listen", "join", "gossip-key", "cluster-secret", "advertise", "node-name"} {
		if !flags[f] {
			t.Fatalf("flag scan found no --%s (found %v)", f, flags)
		}
	}
	return flags
}

func envFlag(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "QUIVER_")), "_", "-")
}

func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// get walks a path of map keys / list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	flags := serveFlags(t)
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	byKind := map[string]map[string]any{}
	for _, f := range files {
		for _, d := range decodeAll(t, f) {
			kind, _ := d["kind"].(string)
			name, _ := get(d, "metadata", "name").(string)
			if kind == "" || d["apiVersion"] == nil || name == "" {
				t.Fatalf("%s: document without kind/apiVersion/metadata.name: %v", f, d)
			}
			byKind[kind+"/"+name] = d
		}
	}
	sts := byKind["StatefulSet/quiver"]
	peers := byKind["Service/quiver-peers"]
	cm := byKind["ConfigMap/quiver-config"]
	sec := byKind["Secret/quiver-cluster"]
	if sts == nil || peers == nil || cm == nil || sec == nil || byKind["Service/quiver"] == nil || byKind["PersistentVolumeClaim/quiver-data"] == nil {
		t.Fatalf("missing objects; have %v", keys(byKind))
	}
	if get(sts, "spec", "serviceName") != "quiver-peers" || get(peers, "spec", "clusterIP") != "None" ||
		get(peers, "spec", "publishNotReadyAddresses") != true {
		t.Fatal("StatefulSet must use the headless quiver-peers service (clusterIP None, publishNotReadyAddresses)")
	}
	if j, _ := get(cm, "data", "QUIVER_JOIN").(string); !strings.HasPrefix(j, "quiver-peers:") {
		t.Fatalf("QUIVER_JOIN %q does not name the headless service", j)
	}
	for env := range get(cm, "data").(map[string]any) {
		if !flags[envFlag(env)] {
			t.Errorf("ConfigMap sets %s but quiver serve has no --%s", env, envFlag(env))
		}
	}
	c := get(sts, "spec", "template", "spec", "containers", 0)
	for _, e := range get(c, "env").([]any) {
		env := get(e, "name").(string)
		if !flags[envFlag(env)] {
			t.Errorf("container env %s matches no flag", env)
		}
		if ref := get(e, "valueFrom", "secretKeyRef", "key"); ref != nil {
			if get(sec, "stringData", ref.(string)) == nil {
				t.Errorf("secret key %v missing from quiver-cluster", ref)
			}
		}
	}
	if get(c, "readinessProbe") == nil || get(c, "resources", "limits", "memory") == nil || get(c, "resources", "limits", "cpu") == nil {
		t.Error("container needs a readiness probe and cpu/memory limits")
	}
	if get(sts, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("pods must run as non-root")
	}
	if get(byKind["PersistentVolumeClaim/quiver-data"], "spec", "accessModes", 0) != "ReadWriteMany" {
		t.Error("the shared data volume must be ReadWriteMany")
	}
}

func TestComposeFile(t *testing.T) {
	flags := serveFlags(t)
	docs := decodeAll(t, "../docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	svcs, _ := docs[0]["services"].(map[string]any)
	if len(svcs) != 3 {
		t.Fatalf("want 3 services, got %v", keys(svcs))
	}
	seeds := 0
	for name, s := range svcs {
		cmd, _ := get(s, "command").([]any)
		if len(cmd) == 0 || cmd[0] != "serve" {
			t.Fatalf("%s: command %v", name, cmd)
		}
		for i, a := range cmd[1:] {
			if str := a.(string); strings.HasPrefix(str, "--") {
				if !flags[strings.TrimPrefix(str, "--")] {
					t.Errorf("%s: unknown flag %s", name, str)
				}
				if str == "--join" {
					seed := strings.Split(cmd[i+2].(string), ":")[0]
					if svcs[seed] == nil {
						t.Errorf("%s joins %s, not a service", name, seed)
					}
					seeds++
				}
			}
		}
		for _, p := range get(s, "ports").([]any) {
			if !strings.HasPrefix(p.(string), "127.0.0.1:") {
				t.Errorf("%s publishes %v beyond loopback", name, p)
			}
		}
		if v, _ := get(s, "volumes", 0).(string); !strings.HasSuffix(v, ":/data") {
			t.Errorf("%s: shared data volume not mounted on /data: %v", name, v)
		}
		for env := range get(s, "environment").(map[string]any) {
			if !flags[envFlag(env)] {
				t.Errorf("%s: env %s matches no flag", name, env)
			}
		}
	}
	if seeds != 2 {
		t.Errorf("want 2 joining nodes, got %d", seeds)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "USER 65532", "VOLUME", "AS build", "./cmd/quiver"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "ARG ") && strings.Contains(line, "_IMAGE=") && strings.HasSuffix(line, ":latest") {
			t.Errorf("unpinned base image: %s", line)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
