package sweeps

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stampsim/stampsim/scenarios"
)

// FuzzParse checks that no input makes Parse panic, that every error it
// returns is a *scenarios.Error (or a list of them) naming the file, and
// that whatever parses expands into points whose every topology resolves.
// The seed corpus is every test
// file and every built-in sweep.
func FuzzParse(f *testing.F) {
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	good, _ := filepath.Glob("testdata/good/*.yaml")
	for _, path := range append(bad, good...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, name := range BuiltinNames() {
		data, err := BuiltinSource(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, size := range []string{SizeDefault, SizeSmall} {
			s, err := Parse("fuzz.yaml", data, Options{Size: size})
			if err != nil {
				var e *scenarios.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is %T, want *scenarios.Error", err, err)
				}
				// A mistake in a built-in base names that built-in's file.
				if e.File != "fuzz.yaml" && filepath.Dir(e.File) != "builtin" {
					t.Fatalf("error names file %q: %v", e.File, err)
				}
				continue
			}
			points, err := s.Points()
			if err != nil {
				t.Fatalf("parsed, but Points: %v", err)
			}
			for _, p := range points {
				for _, name := range s.TopologiesOf(p) {
					if _, err := s.Run(p, 0).Resolve(name); err != nil {
						t.Fatalf("point %s: Resolve(%q): %v", p.Label(), name, err)
					}
				}
				if sh := Shard(p, 3); sh < 0 || sh > 2 {
					t.Fatalf("point %s: shard %d of 3", p.Label(), sh)
				}
			}
		}
	})
}
