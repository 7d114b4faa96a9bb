package world

import (
	"context"
	"testing"
	"time"
)

// Options.XFetchDraw gives each request its XFetch draw by its identity:
// the n-th request at a node for a key. Draws of 1 never refresh early,
// draws near 0 make every fresh hit late in a value's life refresh it; and
// the numbering counts every request once, from 0, per node and key.
func TestXFetchDrawDecidesEarlyRefreshes(t *testing.T) {
	sc := builtinScenario("xfetch-zipf")(t)
	sc.Duration = dur(4 * time.Second)
	for _, tc := range []struct {
		name  string
		u     float64
		early bool
	}{{"never", 1, false}, {"always", 1e-300, true}} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[[2]int]int{}
			calls := 0
			draw := func(node, key, n int) float64 {
				calls++
				if k := [2]int{node, key}; n != seen[k] {
					t.Fatalf("request %d at node %d for key %d, want number %d", n, node, key, seen[k])
				}
				seen[[2]int{node, key}]++
				return tc.u
			}
			r, err := Run(context.Background(), resolve(t, sc), builtin(t, sc, "node-only"), Options{XFetchDraw: draw})
			if err != nil {
				t.Fatal(err)
			}
			if uint64(calls) != r.Requests {
				t.Errorf("%d draws for %d requests", calls, r.Requests)
			}
			early := r.Refreshes != nil && r.Refreshes.Early > 0
			if early != tc.early {
				t.Errorf("early refreshes %+v, want some: %v", r.Refreshes, tc.early)
			}
		})
	}
}

// The series count revalidating replies per step, for a topology with
// stale-while-revalidate only: they add up to the run's count, and a
// topology without hard TTLs has no such series (its output is as before).
func TestSeriesCountRevalidating(t *testing.T) {
	sc := builtinScenario("swr-steady-day")(t)
	sc.Duration = dur(8 * time.Second)
	sc.Workload.Rate = 1000
	for _, tc := range []struct {
		topo string
		swr  bool
	}{{"two-level", false}, {"two-level-swr", true}} {
		topo, err := sc.Resolve(tc.topo)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(context.Background(), resolve(t, sc), topo, Options{Series: true})
		if err != nil {
			t.Fatal(err)
		}
		got := r.Series.Served.Revalidating
		if !tc.swr {
			if got != nil || r.Served.Revalidating != 0 {
				t.Errorf("%s: revalidating series %v and count %d, want none", tc.topo, got, r.Served.Revalidating)
			}
			continue
		}
		if len(got) != len(r.Series.Requests) || sum(got) != r.Served.Revalidating || r.Served.Revalidating == 0 {
			t.Errorf("%s: %d revalidating samples summing to %d, for %d samples and %d revalidating replies", tc.topo, len(got), sum(got), len(r.Series.Requests), r.Served.Revalidating)
		}
	}
}
