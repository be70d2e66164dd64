package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServeFlagsDocumented: every `quiver serve` flag is in README.md's
// flag list and in docs/ (DESIGN.md's contract names only the original
// ones; docs/server.md explains the rest), so a new flag cannot ship
// undocumented. A shorthand `--a-*` or `--a[-b]` covers the flags it names.
func TestServeFlagsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	docFiles, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(docFiles) == 0 {
		t.Fatalf("docs: %v %v", docFiles, err)
	}
	var docs strings.Builder
	for _, p := range docFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	n := 0
	serveFlagSet(&serveFlags{}).VisitAll(func(f *flag.Flag) {
		n++
		if !mentions(string(readme), f.Name) {
			t.Errorf("--%s is not in README.md's flag list", f.Name)
		}
		if !mentions(docs.String(), f.Name) {
			t.Errorf("--%s is not explained in docs/", f.Name)
		}
	})
	if n < 30 {
		t.Fatalf("only %d serve flags registered", n)
	}
}

// mentions reports whether text names flag --name, exactly or by a
// shorthand (`--cluster-tls-*`, `--cluster-secret[-file]`).
func mentions(text, name string) bool {
	if regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `([^a-z0-9-]|$)`).MatchString(text) {
		return true
	}
	for i := range len(name) {
		if name[i] != '-' {
			continue
		}
		prefix, rest := name[:i], name[i:]
		if strings.Contains(text, "--"+prefix+"-*") || strings.Contains(text, "--"+prefix+"["+rest+"]") {
			return true
		}
	}
	return false
}
