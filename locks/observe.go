package locks

// Read-only views of a machine, for a driver that measures what its
// machines do over time (a simulator's time series). Neither changes
// anything a machine does or reports, and neither is needed to drive one.

// NodeWaiters returns how many requests wait for key's node-level flight:
// those that missed the node cache and started or joined it, less those
// answered, timed out or cancelled since. It is 0 when the key has no such
// flight in progress, and always without a node level. The node level's
// LevelStats.PeakContenders is the most it has been on any key; a driver
// that asks after each input that concerns key follows it over time.
func (m *Machine[V]) NodeWaiters(key string) int {
	if !m.nodeLevel {
		return 0
	}
	e := m.keys.get(m.keys.ref(key))
	if e.flight == 0 {
		return 0
	}
	return m.flights[e.flight-1].live
}

// FlightKey returns the key of flight id, and false when id names no
// flight in progress (it ended, or never was). A driver about to give the
// machine an input that names a flight (a timer) asks it first, to know
// which key's NodeWaiters the input may change.
func (m *Machine[V]) FlightKey(id FlightID) (string, bool) {
	f := m.lookup(id)
	if f == nil {
		return "", false
	}
	return f.key.name, true
}
