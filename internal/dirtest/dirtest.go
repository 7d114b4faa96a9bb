// Package dirtest compares directories of output files in tests: a
// sweep's output must be the same bytes however it was made. It is for
// tests only and must not be imported by anything else.
package dirtest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Files returns the files of dir by name.
func Files(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = data
	}
	return got
}

// Same reports, as errors of t naming what was compared, every file that
// got and want do not both hold with the same bytes.
func Same(t testing.TB, what string, got, want map[string][]byte) {
	t.Helper()
	names := func(m map[string][]byte) []string {
		var n []string
		for k := range m {
			n = append(n, k)
		}
		slices.Sort(n)
		return n
	}
	if !slices.Equal(names(got), names(want)) {
		t.Errorf("%s: files %q, want %q", what, names(got), names(want))
	}
	for _, name := range names(want) {
		if g, ok := got[name]; ok && !bytes.Equal(g, want[name]) {
			t.Errorf("%s: %s differs", what, name)
		}
	}
}
