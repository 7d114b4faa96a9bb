package rawlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadRefusesMalformedLines(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"unknown-field.jsonl", "testdata/unknown-field.jsonl:3: not a raw record"},
		{"bad-kind.jsonl", `testdata/bad-kind.jsonl:3: kind: unknown record kind "bogus"`},
		{"plan-not-first.jsonl", "testdata/plan-not-first.jsonl:1: a plan must be the first line"},
		{"kind-mismatch.jsonl", `testdata/kind-mismatch.jsonl:2: kind "machine": the record must hold exactly its machine field`},
		{"truncated.jsonl", "testdata/truncated.jsonl:3: not a raw record"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Read(filepath.Join("testdata", tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read(%s) = %v, want an error containing %q", tc.file, err, tc.want)
			}
		})
	}
}

func TestReadGood(t *testing.T) {
	lines, err := Read("testdata/good.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0].Plan == nil || lines[1].Machine == nil || lines[2].Result == nil || lines[2].Result.Metrics["x"] != 1 {
		t.Fatalf("Read(good) = %+v", lines)
	}
}

// TestOpenResumes checks that a run goes on where the last one stopped,
// counts its sessions, and that another plan is refused.
func TestOpenResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "peers.jsonl")
	plan := Plan{Suite: "peers", Repeats: 2, Units: []string{"a#0", "a#1"}, Params: map[string]any{"n": 3, "d": "1s"}}
	m := ThisMachine(time.Unix(0, 0))
	f, err := Open(path, plan, m)
	if err != nil {
		t.Fatal(err)
	}
	if f.Done("a", 0) {
		t.Fatal("a fresh file has a done unit")
	}
	if err := f.Add(Result{Unit: "a", Repeat: 0, Metrics: map[string]float64{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	f, err = Open(path, plan, m)
	if err != nil {
		t.Fatalf("resuming with the same plan: %v", err)
	}
	if !f.Done("a", 0) || f.Done("a", 1) {
		t.Fatalf("resumed: done a#0 %v, a#1 %v; want true, false", f.Done("a", 0), f.Done("a", 1))
	}
	if err := f.Add(Result{Unit: "a", Repeat: 1, Metrics: map[string]float64{"x": 2}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	lines, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := lines[len(lines)-1].Result.Session; got != 1 {
		t.Errorf("the second session's result has session %d, want 1", got)
	}

	// A session that finds everything done leaves the file as it was.
	before, _ := os.ReadFile(path)
	f, err = Open(path, plan, m)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a session that measured nothing changed the file")
	}

	other := plan
	other.Repeats = 3
	if _, err := Open(path, other, m); err == nil || !strings.Contains(err.Error(), "another plan") {
		t.Fatalf("Open with another plan = %v, want a refusal", err)
	}
}

func TestThisMachine(t *testing.T) {
	m := ThisMachine(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if m.Cores < 1 || m.CPU == "" || m.GoVersion == "" || m.Start != "2026-01-02T03:04:05Z" {
		t.Fatalf("ThisMachine = %+v", m)
	}
	if _, err := os.Stat("/proc/cpuinfo"); err == nil && strings.HasPrefix(m.CPU, "unknown") {
		t.Errorf("CPU = %q although /proc/cpuinfo exists", m.CPU)
	}
}
