package sim

import (
	"fmt"
	"slices"
	"testing"
)

// TestRenumber exhausts the sequence numbers that fit in a queue entry, many
// times over, and checks that ties still break by insertion order.
func TestRenumber(t *testing.T) {
	// This workload never has more than about 400 events pending.
	const events = 300
	want := runRandomWorkload(1, events, nil)
	for _, limit := range []uint64{600, 601, 700} {
		for mode := range numQueueModes {
			t.Run(fmt.Sprintf("seqLimit=%d/queue=%v", limit, mode), func(t *testing.T) {
				var e *Engine
				got := runRandomWorkload(1, events, func(x *Engine) { e = x; e.seqLimit = limit; mode.configure(e) })
				if e.renumbers < 2 {
					t.Errorf("the sequence numbers were renumbered %d times; the test wants at least 2", e.renumbers)
				}
				if i := firstDiff(got, want); i >= 0 {
					t.Errorf("with a sequence space of %d and the %v queue the trace departs from the normal one at line %d:\n got %s\nwant %s", limit, mode, i, at(got, i), at(want, i))
				}
			})
		}
	}
	// The queue stays a few events long here, so queueSwitches would never
	// leave the binary heap: it would only repeat queueSmall.
	for _, mode := range []queueMode{queueSmall, queueBig} {
		t.Run(fmt.Sprintf("many ties/queue=%v", mode), func(t *testing.T) {
			r := newRecorder(nil)
			r.e.seqLimit = 16
			mode.configure(r.e)
			for i := range int32(2000) {
				r.e.At(r.e.Now()+Time(i%3), ev(i))
				if i%5 == 4 {
					r.e.Run(r.e.Now()+1, 0) // keeps the queue short
				}
			}
			r.e.Run(Forever, 0)
			if r.e.renumbers < 10 {
				t.Errorf("the sequence numbers were renumbered %d times; the test wants at least 10", r.e.renumbers)
			}
			byTime := map[Time][]int32{}
			for _, f := range r.trace {
				byTime[f.at] = append(byTime[f.at], f.ev.Target)
			}
			for tm, got := range byTime {
				if !slices.IsSorted(got) {
					t.Errorf("events due at %d fired in the order %v, want insertion order", tm, got)
				}
			}
			if len(r.trace) != 2000 {
				t.Errorf("%d events fired, want 2000", len(r.trace))
			}
		})
	}
}
