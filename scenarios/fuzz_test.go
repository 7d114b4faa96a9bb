package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every error
// it returns is an *Error naming the file (or a list of them). The seed
// corpus is every good, bad and multi test file, the built-ins, and
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	good, _ := filepath.Glob("testdata/good/*.yaml")
	multi, _ := filepath.Glob("testdata/multi/*.yaml")
	for _, path := range append(append(files, good...), multi...) {
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
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.File != "fuzz.yaml" {
				t.Fatalf("error names file %q", e.File)
			}
			var l *ErrorList
			if errors.As(err, &l) {
				if len(l.Errors) < 2 || len(l.Errors) > MaxErrors {
					t.Fatalf("a list of %d mistakes", len(l.Errors))
				}
				for i, e := range l.Errors {
					if e.File != "fuzz.yaml" || (i > 0 && e.Line < l.Errors[i-1].Line) {
						t.Fatalf("mistake %d of %v: file %q, out of line order", i, err, e.File)
					}
				}
			}
			return
		}
		// Whatever parses resolves: validation covered every topology.
		for _, name := range s.Topologies {
			if _, err := s.Resolve(name); err != nil {
				t.Fatalf("valid scenario, but Resolve(%q): %v", name, err)
			}
		}
	})
}
