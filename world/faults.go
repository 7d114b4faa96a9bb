package world

import (
	"fmt"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
)

type window struct {
	from, to sim.Time
	factor   float64
}

func active(ws []window, t sim.Time) (float64, bool) {
	for _, w := range ws {
		if t >= w.from && t < w.to {
			return w.factor, true
		}
	}
	return 0, false
}

type fault struct {
	kind string
	node int32
}

func (w *world) fault(now sim.Time, i int, end bool) {
	f := w.faults[i]
	n := &w.nodes[f.node]
	switch f.kind {
	case "node-crash":
		if !end {
			// Everything the node was doing is lost: waiting requests fail,
			// pending events for this incarnation will be dropped, and its
			// leases stay in the stores until their TTL.
			n.crashed = true
			n.inc++
			if w.rec != nil {
				w.seriesCrash(f.node, uint64(n.outstanding))
			}
			w.served[locks.ServedError] += uint64(n.outstanding)
			w.crashedErrors += uint64(n.outstanding)
			n.outstanding = 0
			addStats(&n.retired, n.m.Stats())
			n.timers = n.timers[:0]
			n.held = n.held[:0]
			return
		}
		// Invariant: locks.NewMachine checks only the config, and build
		// made every node's first machine from this same config (the
		// token seed, which differs, is not checked), so it cannot fail
		// here. If it did, locks would have started rejecting what it
		// accepted, a bug there, not a fault of the scenario.
		m, err := w.newMachine()
		if err != nil {
			panic(fmt.Sprintf("world: restarting node %d after its crash: %v (the same config built its first machine)", f.node, err))
		}
		n.m, n.crashed = m, false
	case "node-pause":
		if !end {
			n.paused = true
			return
		}
		n.paused = false
		held := n.held
		n.held = nil
		for _, ev := range held {
			if n.paused || n.crashed {
				break
			}
			if ev.Kind == evArrival {
				w.request(now, ev.Target, int(ev.A))
				continue
			}
			w.deliver(now, ev)
		}
	}
}
