package locks

import (
	"fmt"
	"time"
)

// Stale-while-revalidate (Level.HardTTL) and the background refreshes it
// starts.
//
// A level with a hard TTL treats the cache TTL of Config as the soft TTL: a
// value past it and within the hard TTL is served at once, as
// ServedStaleRevalidating, while one background refresh of the key goes
// through the lock levels as a flight that no caller waits for; past the hard
// TTL requests wait as they do without it.
//
//   - The node cache: a request that finds its key's entry within swrNode
//     past its soft TTL is answered at once, and starts the refresh unless
//     one is registered for the key (keyEntry.flight): startRefresh.
//   - A shared cache: every read-or-acquire at the level carries the level's
//     stale window (Op.Refresh), and the store tries the lock for a value
//     that close to its expiry as if it were missing, returning it beside
//     the lock's state (Result.Stale). The flight serves it to its waiters,
//     puts it in the node cache until the shared cache's hard TTL, and goes
//     on as the key's background refresh (revalidated): with the lock, to
//     the next level and the upstream; with the lock held by another node's
//     refresh, waiting for that one's value as any waiter does. The stores'
//     lock makes it one refresh per key across the fleet.
//
// With a node level the refresh is its key's flight on the node, so that a
// request that misses the node cache (past the hard TTL, or with no node
// cache) joins it and waits for its value as a follower. Its upstream call
// goes out as Fetch.Background only while nobody has joined (startFetch),
// and the first request to join once it has gone out emits
// EffectExpediteFetch: the real driver queues background calls behind each
// other, and a caller must not wait in that queue.
//
// A refresh ends refreshed (it called the upstream), superseded (a shared
// cache had a fresh value) or failed (an upstream error, a wait that timed
// out, an abort), counted in Stats.RefreshOutcomes. A refresh whose wait
// times out gives up rather than hedge, unless requests joined it after
// the hard TTL, who wait as any followers do.

// setRevalidate checks each level's hard TTL against its soft TTL and sets
// the machine's stale windows (swr, swrNode, refresh, valueTTL). The node
// cache serves stale for the node level's window or, without one, for the
// longest shared window, so that a value read stale from a shared cache is
// served from the node until that cache's hard TTL.
func (m *Machine[V]) setRevalidate() error {
	for i, l := range m.levels {
		if l.Scope.Shared() {
			m.valueTTL[i] = m.cfg.SharedCacheTTL
		}
		if l.HardTTL == 0 {
			continue
		}
		soft, what := m.cfg.SharedCacheTTL, "shared cache TTL"
		if !l.Scope.Shared() {
			soft, what = m.cfg.NodeCacheTTL, "node cache TTL"
			if soft <= 0 {
				return &FieldError{m.cfg.Topology.Name, i, "hard_ttl", fmt.Sprintf("%v needs a node cache (the node cache TTL is 0)", l.HardTTL)}
			}
		}
		if l.HardTTL <= soft {
			return &FieldError{m.cfg.Topology.Name, i, "hard_ttl", fmt.Sprintf("%v must be longer than the soft TTL (the %s, %v)", l.HardTTL, what, soft)}
		}
		m.swr = true
		if !l.Scope.Shared() {
			m.swrNode = l.HardTTL - soft
			continue
		}
		m.refresh[i] = l.HardTTL - soft
		m.valueTTL[i] = l.HardTTL
	}
	if m.swr && (!m.nodeLevel || m.levels[0].HardTTL == 0) {
		for _, r := range m.refresh {
			m.swrNode = max(m.swrNode, r)
		}
	}
	return nil
}

// startRefresh starts the background refresh of key k for request id, which
// found k's node-cache entry e stale at now and has been answered: a flight
// in which nobody waits, registered as k's flight so that no second one
// starts on the node and, with a node level, requests that come after the
// hard TTL join it. It enters the first shared level (EffectSetTimer,
// EffectStore) or, without one, calls the upstream (EffectFetch).
func (m *Machine[V]) startRefresh(k keyRef, e keyEntry[V], id ReqID, now Time) {
	f := m.newFlight(k, id, now)
	f.leave(0)
	f.background = true
	f.keyed = true
	e.flight = f.id.Slot + 1
	m.keys.set(k, e)
	m.stats.Refreshes++
	m.enterLevel(f, now, m.firstLevel)
}

// revalidated runs when f's read-or-acquire at level i found a stale value
// (res.Stale) and took the lock or found it held. A flight that is already
// a refresh just goes on. Otherwise f serves the stale value to its waiters
// (ServedStaleRevalidating), puts it in the node cache so that it is served
// there until the shared cache's hard TTL, and becomes the key's refresh; a
// value that is still fresh but due for XFetch's early refresh is served
// and cached as a hit instead;
// it reports false, and the caller ends f, when another refresh of the key
// runs on the node.
func (m *Machine[V]) revalidated(f *flight[V], now Time, res Result[V], i int) bool {
	// A value with more time left than the stale window is fresh: the store
	// answered it as due for XFetch's early refresh. Without a stale window
	// it can be nothing else, whatever time left the store reports (Redis
	// reports it in whole milliseconds: 0 in the last one).
	earlyRead := res.ValueTTL > m.refresh[i] || m.refresh[i] == 0
	if earlyRead {
		m.stats.EarlyReads++
	}
	if f.background {
		return true
	}
	owner := f.waiters[0]
	if earlyRead {
		served := ServedHit
		if f.waited {
			served = ServedCollapsed
		}
		m.replyAll(f, served, ServedCollapsed, res.Value, nil, -1)
	} else {
		m.replyAll(f, ServedStaleRevalidating, ServedStaleRevalidating, res.Value, nil, int8(i))
	}
	// Nobody waits any more; keep the owner as waiters[0], gone, for
	// Fetch.Owner and so that later followers join behind it.
	if f.waiters == nil {
		f.owner[0] = owner
		f.waiters = f.owner[:1]
	}
	f.waiters = f.waiters[:1]
	f.gone[0] |= 1
	f.head = 1
	m.cancelTimer(f, TimerFollower)
	e := m.keys.get(f.key)
	switch {
	case m.cfg.NodeCacheTTL > 0 && earlyRead:
		e.value, e.cached, e.delta = res.Value, true, packDelta(res.Delta)
		e.fresh = now.Add(m.cfg.NodeCacheTTL)
		m.keys.set(f.key, e)
		m.sweepCache(now)
	case m.cfg.NodeCacheTTL > 0 && m.swrNode > 0:
		e.value, e.cached = res.Value, true
		e.fresh = min(now, now.Add(res.ValueTTL-m.swrNode))
		m.keys.set(f.key, e)
		m.sweepCache(now)
	}
	if !f.keyed {
		if e.flight != 0 {
			return false
		}
		f.keyed = true
		e.flight = f.id.Slot + 1
		m.keys.set(f.key, e)
	}
	f.background = true
	m.stats.Refreshes++
	return true
}

// refreshEnded counts how f's background refresh ended, if f is one, and
// makes it an ordinary flight again for the rest of its end.
func (m *Machine[V]) refreshEnded(f *flight[V], o Outcome) {
	if f.background {
		m.stats.RefreshOutcomes[o]++
		f.background = false
	}
}

// staleTTL is how long a shared level's cache keeps a value written with
// soft TTL ttl: ttl plus the level's stale window.
func (m *Machine[V]) staleTTL(i int, ttl time.Duration) time.Duration { return ttl + m.refresh[i] }
