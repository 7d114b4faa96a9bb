package locks

// The simulator's speed hooks. None of them changes what a machine decides
// or reports: they let a driver of hundreds of machines, which knows its
// keys by number and what its next inputs will touch, keep that in the
// CPU's caches. A production driver needs none of them.

import "github.com/stampsim/stampsim/internal/prefetch"

// RequestNumbered is Request for a key that Config.KeyNumber numbers
// keyNumber (it must be what KeyNumber returns for key): a simulator, which
// draws its keys as numbers, saves the machine numbering each key again.
func (m *Machine[V]) RequestNumbered(now Time, id ReqID, key string, keyNumber int) Handle {
	return m.request(now, id, key, m.keys.numbered(key, keyNumber))
}

// ShareEffects makes m collect its effects in the same buffers as other, so
// that a driver of hundreds of machines writes every batch into memory that
// is already in the CPU's caches, instead of into one cold buffer per
// machine. The driver must then take the effects of each input (Ready on the
// machine that got it) before it gives an input to another machine of the
// group, as a simulator does. Call it before giving m any input.
func (m *Machine[V]) ShareEffects(other *Machine[V]) { m.out = other.out }

// Prefetch is a hint that a request for the key that Config.KeyNumber
// numbers keyNumber is coming: it starts loading what the machine knows of
// the key into the CPU's caches, so that Request finds it there. It changes
// nothing the machine does or reports. A simulator, which draws its next
// arrival before it handles the current one, calls it an arrival ahead, with
// the number it drew (so no name is parsed twice).
func (m *Machine[V]) Prefetch(keyNumber int) {
	m.keys.prefetch(m.keys.numbered("", keyNumber))
}

// PrefetchFlight is a hint that a reply or timer for the flight in slot
// (FlightID.Slot) is coming: it starts loading the flight into the CPU's
// caches. It changes nothing the machine does or reports. A simulator calls
// it as it starts handling a reply from a distant store, before it reads
// the reply's record, so that the two loads overlap instead of following
// each other.
func (m *Machine[V]) PrefetchFlight(slot uint32) {
	if int(slot) < len(m.flights) {
		prefetch.Object(m.flights[slot])
	}
}
