package world

import (
	"fmt"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sim"
)

// window is a span of simulated time in which a fault holds, with its
// factor (a slowdown) or rate (errors).
type window struct {
	from, to sim.Time
	factor   float64
}

// active returns the factor of the window of ws that holds at t, if any.
func active(ws []window, t sim.Time) (float64, bool) {
	for _, w := range ws {
		if t >= w.from && t < w.to {
			return w.factor, true
		}
	}
	return 0, false
}

// fault is a crash or a pause of one node, which an event starts and
// another ends (evFault, with the fault's index).
type fault struct {
	kind scenarios.FaultKind
	node int32
}

// addFaults puts the scenario's faults into the world, in file order: a
// crash or a pause as two events, an outage, a slowdown or a partition as a
// window that the store, the upstream or the node checks. The faults come
// resolved (scenarios.Resolved), so every node and store they name exists.
func (w *world) addFaults(faults []scenarios.ResolvedFault) {
	for _, f := range faults {
		from, to := sim.FromDuration(f.From), sim.FromDuration(f.To)
		switch f.Kind {
		case scenarios.FaultNodeCrash, scenarios.FaultNodePause:
			w.faults = append(w.faults, fault{kind: f.Kind, node: int32(f.Node)})
			idx := int64(len(w.faults) - 1)
			w.eng.At(from, sim.Event{Kind: evFault, A: idx, B: 0})
			w.eng.At(to, sim.Event{Kind: evFault, A: idx, B: 1})
		case scenarios.FaultStoreOutage:
			s := &w.stores[f.Store]
			s.outages = append(s.outages, window{from, to, 0})
		case scenarios.FaultStoreSlowdown:
			s := &w.stores[f.Store]
			s.slowdowns = append(s.slowdowns, window{from, to, f.Factor})
		case scenarios.FaultPartition:
			n := &w.nodes[f.Node]
			n.partitions[f.Scope] = append(n.partitions[f.Scope], window{from, to, 0})
		case scenarios.FaultUpstreamSlowdown:
			w.upSlow = append(w.upSlow, window{from, to, f.Factor})
		case scenarios.FaultUpstreamErrors:
			w.upErrors = append(w.upErrors, window{from, to, f.Rate})
		}
	}
}

// fault starts (end false) or ends fault i at now.
func (w *world) fault(now sim.Time, i int, end bool) {
	f := w.faults[i]
	n := &w.nodes[f.node]
	switch f.kind {
	case scenarios.FaultNodeCrash:
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
	case scenarios.FaultNodePause:
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
