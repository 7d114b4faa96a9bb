package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.md")

// write generates the document from dir into a temporary directory and
// returns the document and the figures' bytes.
func write(t *testing.T, dir string) (string, map[string][]byte) {
	t.Helper()
	out := t.TempDir()
	o := Options{Results: dir, Doc: filepath.Join(out, "BENCHMARKS.md"), Figures: filepath.Join(out, "figures"), FiguresRef: "bench/figures"}
	if err := Write(o); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(o.Doc)
	if err != nil {
		t.Fatal(err)
	}
	figs := map[string][]byte{}
	entries, err := os.ReadDir(o.Figures)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(o.Figures, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		figs[e.Name()] = b
	}
	return string(doc), figs
}

// TestGolden writes the document from a smoke run's raw files (measured,
// kept in testdata) and compares it with testdata/golden.md; run with
// -update after a deliberate change, and read the diff.
func TestGolden(t *testing.T) {
	doc, figs := write(t, "testdata/results")
	if *update {
		if err := os.WriteFile("testdata/golden.md", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/golden.md")
	if err != nil {
		t.Fatal(err)
	}
	if doc != string(want) {
		t.Errorf("the document differs from testdata/golden.md (go test -run TestGolden -update rewrites it)")
	}
	for _, name := range []string{"stampede-commands.png", "stampede-last-caller.png", "sim-rate.png", "sim-memory.png"} {
		if !bytes.HasPrefix(figs[name], []byte("\x89PNG")) {
			t.Errorf("figure %s is missing or not a PNG", name)
		}
		if !strings.Contains(doc, "(bench/figures/"+name+")") {
			t.Errorf("the document does not show %s", name)
		}
	}
	for _, s := range []string{"come from a smoke run", "**P1**: 2 cores", "**S1**: 2 cores", "| stampsim (default) | 1 | 121 |"} {
		if !strings.Contains(doc, s) {
			t.Errorf("the document lacks %q", s)
		}
	}
}

// TestSameRawSameBytes: the same raw files give byte-identical output.
func TestSameRawSameBytes(t *testing.T) {
	d1, f1 := write(t, "testdata/results")
	d2, f2 := write(t, "testdata/results")
	if d1 != d2 {
		t.Error("two writes of the same raw files differ")
	}
	for name, b := range f1 {
		if !bytes.Equal(b, f2[name]) {
			t.Errorf("figure %s differs between two writes", name)
		}
	}
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		dir, suite, wantErr string
		smoke               bool
		done, total         int
	}{
		{dir: "testdata/results", suite: "sim", smoke: true, done: 8, total: 8},
		// An incomplete full run and no smoke run: the full run, saying so.
		{dir: "testdata/full-incomplete", suite: "sim", done: 1, total: 8},
		{dir: "testdata/bad", suite: "sim", wantErr: `testdata/bad/sim.jsonl:3: result.unit "not-planned" repeat 0 is not in the plan`},
		{dir: "testdata/none", suite: "sim", wantErr: "no raw results for suite \"sim\""},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			s, err := Load(tc.dir, tc.suite)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Plan.Smoke != tc.smoke || s.Done != tc.done || s.Total != tc.total {
				t.Fatalf("Load: smoke %v, %d of %d; want %v, %d of %d", s.Plan.Smoke, s.Done, s.Total, tc.smoke, tc.done, tc.total)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{count(1234567), "1,234,567"}, {count(-1000), "-1,000"}, {count(12), "12"},
		{sig(0.001234), "0.00123"}, {sig(3.14159), "3.14"}, {sig(31.4159), "31.4"}, {sig(314.159), "314"}, {sig(3141.59), "3,142"},
		{times(2.5), "2.50x"}, {ms(1.5e6), "1.50"}, {micros(2500), "2.50"},
		{short(1000), "1k"}, {short(1000000), "1M"}, {short(1500), "1500"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 3, 2}) != 2.5 || median(nil) != 0 {
		t.Error("median is wrong")
	}
	if v := step125(13, false); v != 10 {
		t.Errorf("step125(13, down) = %v, want 10", v)
	}
	if v := step125(13, true); v != 20 {
		t.Errorf("step125(13, up) = %v, want 20", v)
	}
}
