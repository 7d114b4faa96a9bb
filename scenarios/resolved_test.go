package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A loaded scenario resolves to the numbers its names stand for: the file
// says which node and store each of them is.
func TestResolvedNumbersWhatTheFileNames(t *testing.T) {
	sc, err := Load("testdata/resolve/every-fault.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	wantBursts := []ResolvedBurst{
		{At: s, Over: 50 * time.Millisecond, Key: 9, Requests: 100},
		{At: 2 * s, Key: 3, Requests: 5, Nodes: []int{23, 1}},
	}
	wantFaults := []ResolvedFault{
		{Kind: FaultNodeCrash, From: s, To: 3 * s, Node: 23},
		{Kind: FaultNodePause, From: s, To: 1500 * time.Millisecond, Node: 4},
		{Kind: FaultStoreOutage, From: 2 * s, To: 3 * s, Scope: locks.ScopeZone, Store: 5},
		{Kind: FaultStoreSlowdown, From: 3 * s, To: 4 * s, Scope: locks.ScopeRegion, Store: 7, Factor: 4},
		{Kind: FaultStoreOutage, From: 4 * s, To: 5 * s, Scope: locks.ScopeGlobal, Store: 8},
		{Kind: FaultPartition, From: 5 * s, To: 6 * s, Node: 2, Scope: locks.ScopeRegion},
		{Kind: FaultUpstreamSlowdown, From: 6 * s, To: 7 * s, Factor: 3},
		{Kind: FaultUpstreamErrors, From: 7 * s, To: 8 * s, Rate: 0.25},
	}
	if rs.Scenario != sc || rs.Shape != sc.Shape() {
		t.Errorf("scenario %p shape %+v, want %p and %+v", rs.Scenario, rs.Shape, sc, sc.Shape())
	}
	if !reflect.DeepEqual(rs.Bursts, wantBursts) {
		t.Errorf("bursts\n%+v\nwant\n%+v", rs.Bursts, wantBursts)
	}
	for i := range max(len(rs.Faults), len(wantFaults)) {
		var got, want ResolvedFault
		if i < len(rs.Faults) {
			got = rs.Faults[i]
		}
		if i < len(wantFaults) {
			want = wantFaults[i]
		}
		if got != want {
			t.Errorf("faults[%d] = %+v, want %+v", i, got, want)
		}
	}
}

// Every built-in resolves: a loaded scenario always does.
func TestBuiltinsResolve(t *testing.T) {
	for _, name := range BuiltinNames() {
		sc, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Resolved(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A scenario changed in code after it was loaded may name what does not
// exist; Resolved then says which field, instead of handing a simulator a
// number it cannot index with.
func TestResolvedRefusesWhatDoesNotExist(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(sc *Scenario)
		want   string
	}{
		{"a burst key past the keys", func(sc *Scenario) { sc.Workload.Bursts[0].Key = 10 }, "workload.bursts[0].key: must be a key from 0 to 9"},
		{"a burst node past the fleet", func(sc *Scenario) { sc.Workload.Bursts[1].Nodes[1] = "r2/z0/n0" }, "workload.bursts[1].nodes[1]: "},
		{"an unknown fault kind", func(sc *Scenario) { sc.Faults[6].Kind = "upstream-slow" }, `faults[6].kind: unknown fault kind "upstream-slow"`},
		{"a crash of a node past the fleet", func(sc *Scenario) { sc.Faults[0].Node = "r0/z0/n4" }, "faults[0].node: "},
		{"a partition from the node's own cache", func(sc *Scenario) { sc.Faults[5].Scope = "node" }, "faults[5].scope: node has no store"},
		{"an outage of an unknown scope", func(sc *Scenario) { sc.Faults[2].Scope = "continent" }, `faults[2].scope: unknown scope "continent"`},
		{"an outage of a zone past the region's", func(sc *Scenario) { sc.Faults[2].Zone = 3 }, "faults[2].zone: zone 3 does not exist"},
		{"a slowdown of a region past the fleet's", func(sc *Scenario) { sc.Faults[3].Region = 2 }, "faults[3].region: region 2 does not exist"},
		{"a fleet without nodes", func(sc *Scenario) { sc.Topology.NodesPerZone = 0 }, "topology: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Load("testdata/resolve/every-fault.yaml")
			if err != nil {
				t.Fatal(err)
			}
			tc.change(sc)
			rs, err := sc.Resolved()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || rs != nil {
				t.Errorf("Resolved = %v, %v; want an error starting %q", rs, err, tc.want)
			}
		})
	}
}
