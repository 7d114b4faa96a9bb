package sweeps

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/scenarios"
)

// Each file of testdata/bad says on its first line what the error must say
// ("# want: field: message"), and marks with "# <-" the line it must point
// at.
func TestBadSweeps(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want string
			line := 0
			sc := bufio.NewScanner(bytes.NewReader(data))
			for n := 1; sc.Scan(); n++ {
				if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok && n == 1 {
					want = w
				}
				if strings.HasSuffix(sc.Text(), "# <-") {
					line = n
				}
			}
			s, err := Load(path, SizeDefault)
			if err == nil {
				t.Fatalf("no error; read %+v", s)
			}
			var list *scenarios.ErrorList
			if errors.As(err, &list) {
				t.Fatalf("%d mistakes, want one:\n%v", len(list.Errors), err)
			}
			var e *scenarios.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *scenarios.Error", err, err)
			}
			got := e.Msg
			if e.Field != "" {
				got = e.Field + ": " + e.Msg
			}
			if !strings.HasPrefix(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if e.File != path && !strings.HasPrefix(want, "base.scenario") && !strings.HasPrefix(want, "base.file") {
				t.Errorf("error names file %q, want %q", e.File, path)
			}
			if e.Line != line {
				t.Errorf("error at line %d, want %d: %v", e.Line, line, err)
			}
		})
	}
}

// A file with several mistakes reports them all, in line order.
func TestSweepMistakesTogether(t *testing.T) {
	data := "base: {builtin: flash-crowd}\naxes:\n  - {path: topology.regoins, values: [1]}\n  - {path: locks.wait_timeout, values: [5]}\nrepeats: -1\n"
	_, err := Parse("x.yaml", []byte(data), Options{})
	want := "x.yaml:3: axes[0].path: topology.regoins names no field: topology has no \"regoins\" (did you mean topology.regions?)\n" +
		"x.yaml:4: axes[1].values[0]: duration \"5\" has no unit: write e.g. 5s or 5ms\n" +
		"x.yaml:5: repeats: must be from 1 to 1000, got -1"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestParseInline(t *testing.T) {
	for _, tc := range []struct {
		size    string
		repeats int
		axes    []Axis
	}{
		{SizeDefault, 2, []Axis{
			{Path: "locks.wait_timeout", Kind: scenarios.FieldDuration, Scale: Linear, Values: []string{"10ms", "20ms", "30ms"}},
			{Path: "workload.bursts[0].requests", Kind: scenarios.FieldInt, Scale: Log, Values: []string{"100", "1000", "10000"}},
		}},
		{SizeSmall, 1, []Axis{
			{Path: "locks.wait_timeout", Kind: scenarios.FieldDuration, Scale: Linear, Values: []string{"20ms"}},
			{Path: "workload.bursts[0].requests", Kind: scenarios.FieldInt, Scale: Log, Values: []string{"100", "1000", "10000"}},
		}},
	} {
		s, err := Load("testdata/good/inline.yaml", tc.size)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "inline-grid" || s.Seed != 7 || s.Size != tc.size || s.Repeats != tc.repeats || !reflect.DeepEqual(s.Axes, tc.axes) {
			t.Errorf("%s: %+v", tc.size, s)
		}
		if s.Base.Name != "tiny" || s.Base.Store.ServiceTime.String() != "3us" || !reflect.DeepEqual(s.Topologies, []string{"two-level", "one-level"}) {
			t.Errorf("%s: base %+v, topologies %v", tc.size, s.Base, s.Topologies)
		}
		points, err := s.Points()
		if err != nil {
			t.Fatal(err)
		}
		if len(points) != len(tc.axes[0].Values)*3 {
			t.Fatalf("%d points", len(points))
		}
		last := points[len(points)-1]
		if last.Scenario.Workload.Bursts[0].Requests != 10000 || last.Scenario.Locks.WaitTimeout.String() != tc.axes[0].Values[len(tc.axes[0].Values)-1] {
			t.Errorf("last point %s: %+v", last.Label(), last.Scenario)
		}
		if got := s.TopologiesOf(last); !reflect.DeepEqual(got, []string{"two-level"}) {
			t.Errorf("point %s runs %v, want one-level excluded", last.Label(), got)
		}
		if got := s.TopologiesOf(points[1]); !reflect.DeepEqual(got, []string{"two-level", "one-level"}) {
			t.Errorf("point %s runs %v", points[1].Label(), got)
		}
	}
}

// A base file is read relative to the sweep file; the axis sets a field
// that a custom topology's level overrides, which the level keeps.
func TestParseBaseFile(t *testing.T) {
	s, err := Load("testdata/good/base-file.yaml", SizeDefault)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "base-file" || s.Base.Name != "holder-pause" || len(s.Axes[0].Values) != 3 {
		t.Fatalf("%+v", s)
	}
	points, _ := s.Points()
	topo, err := points[2].Scenario.Resolve("short-lease-no-renew")
	if err != nil || topo.Levels[1].LeaseTTL.String() != "100ms" || topo.Levels[0].LeaseTTL.String() != "10s" {
		t.Errorf("%+v, %v", topo, err)
	}
}

func TestSizeMissing(t *testing.T) {
	data := "base: {builtin: flash-crowd}\naxes: [{path: topology.regions, values: [1, 2]}]\n"
	if _, err := Parse("x.yaml", []byte(data), Options{Size: SizeSmall}); err == nil || err.Error() != "x.yaml:1: small: the sweep has no small size: add a small block with the axes, repeats or set fields of a quick run" {
		t.Errorf("small of a sweep without one: %v", err)
	}
	if _, err := Parse("x.yaml", []byte(data), Options{Size: "huge"}); err == nil || err.Error() != `x.yaml: no size "huge": want default or small` {
		t.Errorf("an unknown size: %v", err)
	}
	if _, err := Parse("x.yaml", []byte("base: {file: y.yaml}\naxes: [{path: seed, values: [1]}]\n"), Options{}); err == nil ||
		!strings.Contains(err.Error(), "base.file: a built-in sweep cannot name a file") {
		t.Errorf("a file without ReadFile: %v", err)
	}
}
