package locks

// keyEntry is what a machine keeps about one key: its node-cache entry and
// the node-level flight that collapses its requests. Both live in one entry
// of the key table (Machine.keys) so that a request costs one lookup, and a
// miss one more write to register its flight. An entry with neither a
// flight nor a value within its stale window is useless, and the sweep
// drops it.
type keyEntry[V any] struct {
	value  V
	fresh  Time   // the value is fresh before this time
	flight uint32 // slot+1 of the key's node-level flight; 0: none
	cached bool   // value and fresh are set
}

// staleUntil returns until when the node cache keeps e's value for the stale
// policy (it is fresh before e.fresh). A timeout under PolicyStale serves the
// value while now is before this, fresh or not.
func (m *Machine[V]) staleUntil(e keyEntry[V]) Time { return e.fresh.Add(m.cfg.StaleFor) }

// sweepCache drops node-cache entries past their stale window that no flight
// uses. It walks the table once as many values have been cached as the last
// sweep kept (and at least sweepMin), so the table holds at most about twice
// max(sweepMin, entries in use) and a sweep costs O(1) per value cached.
// (Counting against the table's current size instead would never sweep again
// under a stream of new keys: the table grows as fast as the count.) Only
// entries no request can use are dropped, so the order in which the table is
// walked changes nothing a run observes. A small table matters more than the
// sweeps: a simulator's hundreds of machines must keep theirs in cache.
//
// It runs each time finish caches a value, and emits nothing.
func (m *Machine[V]) sweepCache(now Time) {
	m.sinceSweep++
	if m.sinceSweep < max(sweepMin, m.afterSweep) {
		return
	}
	// An entry is stale for good once fresh+StaleFor <= now.
	kept := m.keys.sweep(now - Time(m.cfg.StaleFor))
	m.sinceSweep, m.afterSweep = 0, kept
}

// sweepMin is the fewest values a machine caches between two sweeps.
const sweepMin = 64
