package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

// A scenario that would exhaust memory or time is refused before anything
// runs, within a second, with status 2 and one line naming the file, the
// line, the field, its cost and the limit with the flag that raises it.
func TestCostlyScenariosRefused(t *testing.T) {
	files, err := filepath.Glob("testdata/limits/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := strings.TrimPrefix(firstLine(t, path), "# want: ")
			a, opts := stubApp(t)
			start := time.Now()
			code, out, errs := exec(t, a, context.Background(), "run", path)
			if took := time.Since(start); took > time.Second {
				t.Errorf("refused after %v, want within a second", took)
			}
			if code != 2 || len(*opts) != 0 || out != "" {
				t.Errorf("exit %d, %d topologies simulated, stdout %q; want 2, none, nothing", code, len(*opts), out)
			}
			loc := fmt.Sprintf("stampsim: %s:%d: ", path, markedLine(t, path))
			if !strings.HasPrefix(errs, loc) || !strings.HasSuffix(errs, want+"\n") || strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr %q\nwant one line starting %q and ending %q", errs, loc, want)
			}
		})
	}
}

// markedLine is the line of path that ends "# <-".
func markedLine(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasSuffix(line, "# <-") {
			return i + 1
		}
	}
	t.Fatalf("%s marks no line with # <-", path)
	return 0
}

// The limits are flags: raised, the same scenario runs; 0 switches one off.
func TestLimitFlagsRaise(t *testing.T) {
	for _, c := range []struct {
		file string
		args []string
	}{
		{"rate-1e10.yaml", []string{"--max-requests", "1e11", "--max-events", "0", "--max-memory", "none"}},
		{"nodes-1m.yaml", []string{"--max-nodes", "0", "--max-memory", "none"}},
		{"duration-1000h.yaml", []string{"--max-duration", "1001h"}},
	} {
		a, opts := stubApp(t)
		args := append([]string{"run", "-t", "two-level", filepath.Join("testdata", "limits", c.file)}, c.args...)
		if code, _, errs := exec(t, a, context.Background(), args...); code != 0 || len(*opts) != 1 {
			t.Errorf("%v: exit %d, %d runs: %s", args, code, len(*opts), errs)
		}
	}
}

// --dry-run prints the estimate of every topology and the limits, runs
// nothing and exits 0; a scenario over a limit prints its estimate too,
// and exits 2 with the reason.
func TestDryRun(t *testing.T) {
	a, opts := stubApp(t)
	code, out, errs := exec(t, a, context.Background(), "run", "--dry-run")
	if code != 0 || errs != "" || len(*opts) != 0 {
		t.Fatalf("exit %d, %d runs, stderr %q", code, len(*opts), errs)
	}
	for _, want := range []string{
		"flash-crowd: 5s simulated, 60 nodes, 1 key, 100000 requests per topology\n",
		"TOPOLOGY     IN FLIGHT  EVENTS   MEMORY\n",
		"\nnone         100000     200000   ",
		"\nfanout-tree  100000     ",
		"Limits: --max-requests 1e9, --max-events 1e10, --max-nodes 100000, --max-duration 24h, --max-memory ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = exec(t, a, context.Background(), "run", "--dry-run", "-o", "json", "-t", "two-level,none", "--max-memory", "3GiB")
	var doc struct {
		Estimate struct {
			Requests float64 `json:"requests"`
			Runs     []struct {
				Topology    string  `json:"topology"`
				Events      float64 `json:"events"`
				MemoryBytes float64 `json:"memory_bytes"`
			} `json:"runs"`
		} `json:"estimate"`
		Limits map[string]any `json:"limits"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if r := doc.Estimate.Runs; len(r) != 2 || r[0].Topology != "two-level" || r[1].Topology != "none" || !(r[0].Events > 0 && r[0].MemoryBytes > 0) {
		t.Errorf("runs %+v", r)
	}
	if doc.Limits["memory_bytes"] != float64(3<<30) || doc.Limits["memory_from"] != "--max-memory" {
		t.Errorf("limits %v", doc.Limits)
	}

	code, out, errs = exec(t, a, context.Background(), "run", "--dry-run", filepath.Join("testdata", "limits", "rate-1e300.yaml"))
	if code != 2 || !strings.Contains(out, "5e300 requests per topology") || !strings.Contains(errs, "workload.rate: 1e300 requests/s") || len(*opts) != 0 {
		t.Errorf("over a limit: exit %d, stdout:\n%s\nstderr: %s", code, out, errs)
	}
}

// Every mistake in a file is reported, each on a line of its own, in line
// order.
func TestEveryMistakeReported(t *testing.T) {
	path := filepath.Join("..", "..", "scenarios", "testdata", "multi", "missing-latency-negative-rate.yaml")
	a, opts := stubApp(t)
	code, _, errs := exec(t, a, context.Background(), "run", path)
	want := fmt.Sprintf("stampsim: %[1]s:6: workload.rate: must not be negative, got -5\n"+
		"stampsim: %[1]s:7: upstream.latency: missing: the upstream's latency, e.g. latency: {dist: lognormal, median: 200ms, p99: 900ms}\n", path)
	if code != 2 || errs != want || len(*opts) != 0 {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 and:\n%s", code, errs, want)
	}
}

// A run that holds more memory than --max-memory stops with status 1 and a
// message saying so, not a runtime crash; the garbage collector's limit is
// put back afterwards.
func TestMemoryGuardStopsARun(t *testing.T) {
	a, _ := stubApp(t)
	var limitDuringRun int64
	a.simulate = func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		limitDuringRun = debug.SetMemoryLimit(-1)
		var hoard [][]byte
		for ctx.Err() == nil {
			b := make([]byte, 8<<20)
			for i := range b {
				b[i] = 1 // resident, not only reserved
			}
			hoard = append(hoard, b)
			time.Sleep(time.Millisecond)
			if len(hoard) > 1000 {
				return reports.Run{}, fmt.Errorf("not stopped at %d MB", 8*len(hoard))
			}
		}
		return reports.Run{}, ctx.Err()
	}
	before := debug.SetMemoryLimit(-1)
	code, _, errs := exec(t, a, context.Background(), "run", "-t", "two-level", "--max-memory", "200MB")
	if code != 1 || !strings.HasPrefix(errs, "stampsim: running flash-crowd on topology two-level: stopped: the simulation held ") ||
		!strings.Contains(errs, "more than its limit of 200 MB, --max-memory; estimate what it needs with --dry-run") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if limitDuringRun != 200e6 {
		t.Errorf("memory limit during the run %d, want 200e6", limitDuringRun)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("memory limit %d after the run, was %d", after, before)
	}
}
