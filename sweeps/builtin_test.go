package sweeps

import "testing"

// Every built-in sweep reads, at both sizes, and expands into points that
// each pass the scenario checks.
func TestBuiltins(t *testing.T) {
	names := BuiltinNames()
	if len(names) == 0 {
		t.Fatal("no built-in sweeps")
	}
	for _, name := range names {
		for _, size := range []string{SizeDefault, SizeSmall} {
			s, err := Builtin(name, size)
			if err != nil {
				t.Fatalf("%s at size %s: %v", name, size, err)
			}
			points, err := s.Points()
			if err != nil {
				t.Fatalf("%s at size %s: %v", name, size, err)
			}
			if s.Name != name || s.Description == "" || len(points) < 2 {
				t.Errorf("%s at size %s: name %q, description %q, %d points", name, size, s.Name, s.Description, len(points))
			}
			t.Logf("%s %s: %d points, %d repeats, %d topologies", name, size, len(points), s.Repeats, len(s.Topologies))
		}
	}
}
