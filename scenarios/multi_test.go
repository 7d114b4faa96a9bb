package scenarios

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// multiCase is one file of testdata/multi: its leading "# want: field:
// message" lines say what each mistake must say, in line order, and a
// "# <-" comment marks the line of each, in the same order.
type multiCase struct {
	wants []string
	lines []int
}

func readMultiCase(t *testing.T, path string) multiCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c multiCase
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			c.wants = append(c.wants, w)
		}
		if strings.HasSuffix(sc.Text(), "# <-") {
			c.lines = append(c.lines, n)
		}
	}
	if len(c.wants) == 0 || len(c.wants) != len(c.lines) {
		t.Fatalf("%s: %d \"# want:\" lines and %d \"# <-\" marks; want one of each per mistake", path, len(c.wants), len(c.lines))
	}
	return c
}

// Every mistake in a file is reported at once, in line order, and none that
// follows from another.
func TestEveryMistakeReported(t *testing.T) {
	files, err := filepath.Glob("testdata/multi/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		c := readMultiCase(t, path)
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded without error")
			}
			var got []*Error
			var l *ErrorList
			var e *Error
			switch {
			case errors.As(err, &l):
				got = l.Errors
			case errors.As(err, &e):
				got = []*Error{e}
			default:
				t.Fatalf("error is %T, want *ErrorList or *Error: %v", err, err)
			}
			if len(got) != len(c.wants) {
				t.Fatalf("%d mistakes reported, want %d:\n%v", len(got), len(c.wants), err)
			}
			for i, e := range got {
				loc := fmt.Sprintf("%s:%d: ", path, c.lines[i])
				if s := e.Error(); !strings.HasPrefix(s, loc) || !strings.Contains(s, c.wants[i]) {
					t.Errorf("mistake %d:\n  %s\nwant it to start %q and contain:\n  %s", i, s, loc, c.wants[i])
				}
			}
			if lines := strings.Split(err.Error(), "\n"); len(lines) != len(c.wants) {
				t.Errorf("message has %d lines, want one per mistake:\n%v", len(lines), err)
			}
		})
	}
}

// Past MaxErrors mistakes, the first ones in line order are kept and the
// rest counted.
func TestErrorListCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal + "faults:\n")
	const n = MaxErrors + 3
	for i := range n {
		fmt.Fprintf(&b, "  - {kind: node-pause, node: r0/z0/n%d, at: 1s, for: 1s}\n", 10+i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var l *ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error %v (%T), want an *ErrorList", err, err)
	}
	if len(l.Errors) != MaxErrors || l.Omitted != n-MaxErrors {
		t.Fatalf("%d mistakes kept and %d omitted, want %d and %d", len(l.Errors), l.Omitted, MaxErrors, n-MaxErrors)
	}
	for i, e := range l.Errors {
		if want := fmt.Sprintf("faults[%d].node", i); e.Field != want {
			t.Errorf("mistake %d is about %s, want %s (line order)", i, e.Field, want)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrors+1 || lines[MaxErrors] != "many.yaml: 3 more mistakes not shown (fix these first)" {
		t.Errorf("message ends %q", lines[len(lines)-1])
	}
}

// Positions point a check made after loading at the field's line, or at its
// closest parent's when the file leaves the field to its default.
func TestPositions(t *testing.T) {
	s, pos, err := ParsePositions("p.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if s.Workload.Rate != 100 || pos.File() != "p.yaml" {
		t.Fatalf("rate %v, file %q", s.Workload.Rate, pos.File())
	}
	for field, want := range map[string]int{
		"duration": 2, "topology.nodes_per_zone": 3, "workload.rate": 5,
		"workload.bursts[0].requests": 5, "cache.node_ttl": 2, // the document's first line
	} {
		if got := pos.Line(field); got != want {
			t.Errorf("Line(%q) = %d, want %d", field, got, want)
		}
	}
	e := pos.Errorf("workload.rate", "too many: %d", 7)
	if e.Error() != "p.yaml:5: workload.rate: too many: 7" {
		t.Errorf("Errorf: %q", e.Error())
	}
	var none *Positions
	if e := none.Errorf("duration", "x"); e.Error() != "duration: x" || none.Line("duration") != 0 {
		t.Errorf("nil Positions: %q", e.Error())
	}
}
