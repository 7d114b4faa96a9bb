package world

import (
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
)

// netDelay draws the one-way delay of a message between a node and a store
// of scope. With stores of one scope only (every topology with at most one
// shared level), the delays come from the network stream in the same
// order whatever happens in between, so each is drawn one message ahead:
// a lognormal draw ends in math.Exp, a chain of some twenty dependent
// floating-point operations, and drawn ahead it overlaps with the work on
// the current message instead of holding it up.
func (w *world) netDelay(scope locks.Scope, node int32) sim.Time {
	if int(scope) == w.netAhead {
		d := w.netNext
		w.netNext = sim.FromDuration(w.net[scope].Sample(w.rNet))
		return d
	}
	if w.netFn != nil {
		return sim.FromDuration(w.netFn(w.eng.Now().Duration(), int(node), w.rNet))
	}
	return sim.FromDuration(w.net[scope].Sample(w.rNet))
}
