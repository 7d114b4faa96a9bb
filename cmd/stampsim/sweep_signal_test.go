//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampsim/stampsim/reports"
)

// pollStormSweep runs pollStorm (see signal_test.go) at one point: its
// node-only run finishes at once, its poll-storm run would take hours.
const pollStormSweep = `name: storm
axes:
  - path: workload.bursts[0].requests
    values: [1000]
base:
  scenario:
`

// SIGTERM in the middle of a sweep stops it within a second with exit
// status 143, keeping the finished row in the journal and in sweep.json,
// which says "complete": false.
func TestSignalStopsASweep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "storm.yaml")
	text := pollStormSweep + "    " + strings.ReplaceAll(strings.TrimSuffix(pollStorm, "\n"), "\n", "\n    ") + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	c := startChild(t, nil, "sweep", path, "-q", "-j", "1", "--out", out, "--max-events", "0")
	journal := filepath.Join(out, "rows.jsonl")
	c.waitFor(t, "the journal with node-only's row", 2*time.Minute, func() bool {
		data, err := os.ReadFile(journal)
		return err == nil && strings.Count(string(data), "\n") == 2
	})
	time.Sleep(300 * time.Millisecond)
	sent := c.signal(t, syscall.SIGTERM)
	code, took := c.wait(t, sent, time.Minute)
	if code != 143 || took > time.Second {
		t.Errorf("exit status %d %v after SIGTERM, want 143 within 1s; stderr:\n%s", code, took, c.stderr.String())
	}
	want := "stampsim: interrupted by SIGTERM in a sweep: the rows are incomplete: 1 of 2 runs finished, kept in " + out + " with \"complete\": false; --resume runs the rest\n"
	if c.stderr.String() != want {
		t.Errorf("stderr %q, want %q", c.stderr.String(), want)
	}
	f, err := os.Open(filepath.Join(out, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := reports.ReadSweepJSON(f)
	if err != nil || doc.Complete || len(doc.Rows) != 1 || doc.Rows[0].Topology != "node-only" || doc.Rows[0].Metrics["requests"] != 1000 {
		t.Errorf("sweep.json: %v, %+v", err, doc)
	}
	if _, err := os.Stat(journal); err != nil {
		t.Errorf("the journal is gone: %v", err)
	}
}
