package locks_test

import (
	"math"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// FetchedIn keeps the call's own duration, as the driver measured it, with
// the value (XFetch's delta) and in the adaptive estimator; Fetched takes
// the time since the machine asked for the call. A call asked for at 0 that
// the driver started late and that took 400ms is reported at 5s: the delta
// decides whether a request at 12s (3s before the value's expiry at 15s,
// under a draw whose factor is 2) refreshes early, and the estimate sets
// the node level's adaptive wait timeout.
func TestFetchedInUsesTheMeasuredDuration(t *testing.T) {
	const took = 400 * time.Millisecond
	for _, tc := range []struct {
		name       string
		took       time.Duration // -1: Fetched
		early      bool
		maxTimeout time.Duration
		minTimeout time.Duration
	}{
		{"FetchedIn", took, false, 500 * time.Millisecond, took},
		{"Fetched", -1, true, 6 * time.Second, 5 * time.Second},
		{"FetchedIn unknown", -time.Second, true, 6 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := locks.Topology{Name: "node-only", Levels: []locks.Level{{
				Scope: locks.ScopeNode, WaitTimeout: time.Second,
				AdaptiveQuantile: 0.5, AdaptiveFloor: time.Millisecond, AdaptiveCeiling: 10 * time.Second,
			}}}
			m, err := locks.NewMachine[int](locks.Config{Topology: topo, NodeCacheTTL: 10 * time.Second, XFetchBeta: 1})
			if err != nil {
				t.Fatal(err)
			}
			m.Request(0, 1, "k")
			var call locks.Fetch
			for _, e := range m.Ready() {
				if e.Kind == locks.EffectFetch {
					call = e.Fetch
				}
			}
			done := locks.Time(0).Add(5 * time.Second)
			if tc.took == -1 {
				m.Fetched(done, call.Flight, 7, nil)
			} else {
				m.FetchedIn(done, call.Flight, 7, nil, tc.took)
			}
			m.Ready()
			if got := m.WaitTimeout(0); got < tc.minTimeout || got > tc.maxTimeout {
				t.Errorf("adaptive wait timeout %v, want %v to %v", got, tc.minTimeout, tc.maxTimeout)
			}
			m.RequestDrawn(locks.Time(0).Add(12*time.Second), 2, "k", math.Exp(-2))
			refreshed := false
			for _, e := range m.Ready() {
				if e.Kind == locks.EffectFetch && e.Fetch.Background {
					refreshed = true
				}
			}
			if refreshed != tc.early {
				t.Errorf("early refresh %v, want %v", refreshed, tc.early)
			}
		})
	}
}
