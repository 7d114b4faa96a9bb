package simcmp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

func TestModelCheck(t *testing.T) {
	for _, tc := range []struct {
		m    Model
		want string
	}{
		{Model{Nodes: 10, Requests: 1000, RegionWait: time.Second}, ""},
		{Model{Nodes: 0, Requests: 1000, RegionWait: time.Second}, "positive multiple"},
		{Model{Nodes: 10, Requests: 5, RegionWait: time.Second}, "positive multiple"},
		{Model{Nodes: 3, Requests: 10, RegionWait: time.Second}, "positive multiple"},
		{Model{Nodes: 10, Requests: 100, RegionWait: 1500 * time.Microsecond}, "whole milliseconds"},
	} {
		err := tc.m.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Check() = %v, want %q", tc.m.Name(), err, tc.want)
		}
	}
}

// simulate runs m in stampsim's world, in process.
func simulate(t *testing.T, m Model) map[string]float64 {
	t.Helper()
	sc, err := scenarios.Parse("model.yaml", []byte(m.Scenario()))
	if err != nil {
		t.Fatalf("%s: the scenario does not load: %v", m.Name(), err)
	}
	rs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	topo, err := sc.Resolve("model")
	if err != nil {
		t.Fatal(err)
	}
	run, err := world.Run(context.Background(), rs, topo, world.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]float64{
		"requests": float64(run.Requests), "upstream_calls": float64(run.UpstreamCalls),
		"node_peak_contenders": float64(run.Levels[0].PeakContenders), "region_peak_contenders": float64(run.Levels[1].PeakContenders),
		"store_ops": float64(run.StoreOps), "store_commands": float64(run.StoreCommands),
	}
}

// TestSimPyCountsTheSame runs the model in stampsim's world and in
// stampede.py and wants the same counts from both: the check the benchmark
// makes on every size, here on small ones, with a regional wait past the
// upstream (one call), before it (every node calls) and, with 200 nodes,
// with waits that end while a read is queued at the store.
func TestSimPyCountsTheSame(t *testing.T) {
	py, _, err := FindPython(context.Background())
	if err != nil {
		if os.Getenv("STAMPSIM_REQUIRE_SIMPY") == "1" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v (STAMPSIM_REQUIRE_SIMPY=1 makes this a failure)", err)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "simpy", "stampede.py"))
	if err != nil {
		t.Fatal(err)
	}
	tools := Tools{Python: py, Script: script, Dir: t.TempDir()}
	for _, m := range []Model{
		{Nodes: 10, Requests: 100, RegionWait: long},
		{Nodes: 10, Requests: 100, RegionWait: short},
		{Nodes: 50, Requests: 500, RegionWait: long},
		{Nodes: 1000, Requests: 1000, RegionWait: short},
	} {
		t.Run(m.Name(), func(t *testing.T) {
			want := simulate(t, m)
			got, err := tools.RunSimPy(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: SimPy %v, stampsim %v", k, got[k], v)
				}
			}
		})
	}
}
