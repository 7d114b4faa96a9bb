package locks

// The simulator's speed hooks, all behind one accessor so that a service
// reading this package's documentation can skip them. None of them changes
// what a machine decides or reports: they let a driver of hundreds of
// machines, which knows its keys by number and what its next inputs will
// touch, keep that in the CPU's caches.

import "github.com/stampsim/stampsim/internal/prefetch"

// SimHooks is the part of a Machine that only a simulator needs: key
// numbering, requests given with their key's number, effect buffers shared
// by many machines, and prefetch hints. A production driver needs none of
// it. Get one with Machine.SimHooks; it is a plain value holding the
// machine, so a call through it costs what a call of the machine's own
// method would.
type SimHooks[V any] struct{ m *Machine[V] }

// SimHooks returns m's simulator-only hooks (see SimHooks).
func (m *Machine[V]) SimHooks() SimHooks[V] { return SimHooks[V]{m} }

// NumberKeys makes the machine number keys with number, which returns a
// key's number (from 0, below 2^32-1, different keys different numbers) or
// -1 for a key it does not number. The machine then keeps numbered keys in
// a compact table of its own instead of a map from names (one cache line
// per request instead of three), and carries each key's number on its
// operations and upstream calls (Op.KeyNum, Fetch.KeyNum), so that the
// driver need not parse the name. It changes nothing the machine does.
//
// It must be called before the machine's first input, since a key the
// machine already keeps by name would be looked for by number; it panics
// otherwise, as the misuse would lose what the machine knows of that key.
func (h SimHooks[V]) NumberKeys(number func(key string) int) {
	if h.m.stats.Requests != 0 || h.m.keys.held() != 0 {
		panic("locks: SimHooks.NumberKeys called after the machine's first request")
	}
	h.m.keys.number = number
}

// RequestNumbered is Machine.Request for a key that the function given to
// NumberKeys numbers keyNumber (it must be what that function returns for
// key): a simulator, which draws its keys as numbers, saves the machine
// numbering each key again.
func (h SimHooks[V]) RequestNumbered(now Time, id ReqID, key string, keyNumber int) Handle {
	return h.m.request(now, id, key, h.m.keys.numbered(key, keyNumber))
}

// ShareEffects makes the machine collect its effects in the same buffers as
// other, so that a driver of hundreds of machines writes every batch into
// memory that is already in the CPU's caches, instead of into one cold
// buffer per machine. The driver must then take the effects of each input
// (Ready on the machine that got it) before it gives an input to another
// machine of the group, as a simulator does. Call it before giving the
// machine any input.
func (h SimHooks[V]) ShareEffects(other *Machine[V]) { h.m.out = other.out }

// Prefetch is a hint that a request for the key numbered keyNumber (see
// NumberKeys) is coming: it starts loading what the machine knows of the key
// into the CPU's caches, so that the request finds it there. It changes
// nothing the machine does or reports. A simulator, which draws its next
// arrival before it handles the current one, calls it an arrival ahead, with
// the number it drew (so no name is parsed twice).
func (h SimHooks[V]) Prefetch(keyNumber int) {
	h.m.keys.prefetch(h.m.keys.numbered("", keyNumber))
}

// PrefetchFlight is a hint that a reply or timer for the flight in slot
// (FlightID.Slot) is coming: it starts loading the flight into the CPU's
// caches. It changes nothing the machine does or reports. A simulator calls
// it as it starts handling a reply from a distant store, before it reads
// the reply's record, so that the two loads overlap instead of following
// each other.
func (h SimHooks[V]) PrefetchFlight(slot uint32) {
	if m := h.m; int(slot) < len(m.flights) {
		prefetch.Object(m.flights[slot])
	}
}
