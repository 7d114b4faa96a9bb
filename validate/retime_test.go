package validate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stampsim/stampsim/world"
)

// A message takes half of its node's real round trip nearest in time, less
// the service time; a node that had none then takes one of any node's near
// that moment, or the nearest of all.
func TestRealDelays(t *testing.T) {
	ms := time.Millisecond
	byNode := [][]roundTrip{
		{{0, 3 * ms}, {100 * ms, 9 * ms}},
		{{101 * ms, 11 * ms}, {300 * ms, 5 * ms}},
		nil,
	}
	all := []roundTrip{{0, 3 * ms}, {100 * ms, 9 * ms}, {101 * ms, 11 * ms}, {300 * ms, 5 * ms}}
	delay := realDelays(byNode, all, ms)
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		at   time.Duration
		node int
		want time.Duration
	}{
		{100*ms + ms/2, 0, 4 * ms}, // node 0's own, although node 1's is as near
		{100*ms + ms/2, 1, 5 * ms}, // node 1's own
		{2 * ms, 0, ms},            // within nodeWindow of node 0's first
		{40 * ms, 0, ms},           // nothing near: the nearest of all
		{80 * ms, 1, 4 * ms},       // node 1 had nothing near: the nearest of all is node 0's
		{time.Second, 1, 2 * ms},   // after the last
	} {
		if got := delay(c.at, c.node, r); got != c.want {
			t.Errorf("delay of node %d at %v: %v, want %v", c.node, c.at, got, c.want)
		}
	}
	seen := map[time.Duration]bool{}
	for range 100 {
		seen[delay(100*ms+ms/2, 2, r)] = true
	}
	if len(seen) != 2 || !seen[4*ms] || !seen[5*ms] {
		t.Errorf("node 2, which had no round trips, at 100.5ms took %v; want both round trips of then", seen)
	}
	if got := realDelays(byNode, []roundTrip{{0, ms / 2}}, ms)(50*ms, 2, r); got != time.Microsecond {
		t.Errorf("a round trip shorter than the service time gives %v, want the 1us floor", got)
	}
}

// A jittered request is late by a lag and a hit, but never past the next
// start or end of a fault: it meets the faults in the order the real one
// did.
func TestJitterStopsAtFaultEdges(t *testing.T) {
	ms := time.Millisecond
	edges := []time.Duration{10 * ms, 50 * ms}
	for _, tc := range []struct {
		at, want time.Duration
	}{
		{0, 10*ms - 1},      // 20ms late would cross the fault's start
		{9 * ms, 10*ms - 1}, // so would 20ms after 9ms
		{10 * ms, 30 * ms},  // at the start: the end is 40ms away
		{35 * ms, 50*ms - 1},
		{60 * ms, 80 * ms}, // after every edge
	} {
		got := jitter([]world.Arrival{{At: tc.at}}, []time.Duration{15 * ms}, []time.Duration{5 * ms}, edges, rand.New(rand.NewPCG(1, 2)))
		if got[0].At != tc.want {
			t.Errorf("arrival at %v: jittered to %v, want %v", tc.at, got[0].At, tc.want)
		}
	}
}
