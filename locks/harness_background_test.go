package locks_test

// The harness's checks of background calls (Fetch.Background and
// EffectExpediteFetch), run by every test that drives the world, the
// transcripts and FuzzMachines among them:
//
//   - an upstream call goes out as Background exactly when no request waits
//     in its flight (a follower's hedge aside, whose caller waits in a
//     flight of its own);
//   - EffectExpediteFetch names a call of the node that went out as
//     Background, is still on its way and was not expedited before, and
//     comes while a request joins that call's flight;
//   - a request that joins a flight whose call went out as Background and
//     has not been expedited gets EffectExpediteFetch in the same input.
//
// A driver may hold a background call back (the real driver queues it), so
// a caller left waiting for one would wait on that queue; the checks make
// sure the machine never lets that happen.

import (
	"testing"

	"github.com/stampsim/stampsim/locks"
)

// fuzzJoinSeeds are FuzzMachines inputs (see newFuzzWorld) in which a
// request joins a background refresh while its upstream call is on its way
// (EffectExpediteFetch), which random steps seldom reach: one node, a
// faulty run (node cache 100ms, hard TTL 300ms), 1s upstream calls, no
// store latency, one key. The first call (renewing its lease once on the
// way, in two-level) fills the cache by 1s; at 1.1s (node-only) or 1.25s
// (two-level, once the region's value has expired) a stale request starts
// the refresh, whose call goes out in the background; a request past the
// hard TTL joins it, and later hedges when its node-level wait runs out.
var fuzzJoinSeeds = [][]byte{
	{1, 0x01, 0, 0, 0x0f, 0x0c, 4, 7, 0, 0, 15, 15, 13, 2, 7, 0, 0, 15, 13, 2, 13, 2, 7, 0, 0, 15},
	{3, 0x01, 0, 0, 0x0f, 0x0c, 4, 7, 0, 0, 15, 15, 15, 15, 15, 15, 15, 15, 15, 13, 2, 13, 2, 13, 1, 13, 1, 13, 1, 13, 1, 13, 1, 7, 0, 0, 15, 15, 15, 13, 2, 7, 0, 0, 15},
}

// TestFuzzJoinSeeds makes sure that each of fuzzJoinSeeds still reaches
// what it is there for: a background call that a joining request
// expedites.
func TestFuzzJoinSeeds(t *testing.T) {
	for i, seed := range fuzzJoinSeeds {
		fz := newFuzzWorld(t, seed)
		fz.run()
		expedited := 0
		for _, f := range fz.fetches {
			if f.expedited {
				expedited++
			}
		}
		if expedited != 1 {
			t.Errorf("seed %d (%s): %d upstream calls expedited, want 1\n%s", i, locks.Builtins[seed[0]].Name, expedited, fz.describe())
		}
	}
}

// waitsIn reports whether request r waits in flight id of node n: it joined
// or started that flight (its Handle names it), has had no reply, was not
// cancelled and did not leave it to hedge.
func (w *world) waitsIn(r *reqRec, n *node, id locks.FlightID) bool {
	return r.node == n && r.handle.Valid() && r.handle.Flight == id && r.replies == 0 && !r.cancelled && !r.hedged
}

// waiting returns a request that waits in flight id of node n, or nil.
func (w *world) waiting(n *node, id locks.FlightID) *reqRec {
	for _, r := range w.joined[flightKey{n.id, id}] {
		if w.waitsIn(r, n, id) {
			return r
		}
	}
	return nil
}

// noteJoined records that request r started or joined the flight its
// Handle names, for waiting.
func (w *world) noteJoined(r *reqRec) {
	if !r.handle.Valid() {
		return
	}
	if w.joined == nil {
		w.joined = make(map[flightKey][]*reqRec)
	}
	k := flightKey{r.node.id, r.handle.Flight}
	w.joined[k] = append(w.joined[k], r)
}

// checkFetch checks an EffectFetch of node n before the world starts the
// call: Background, exactly when nobody waits in the flight. A follower's
// hedge (CauseFollowerTimeout) has its caller, the owner, in a flight of
// its own, which its Handle does not name; that caller is marked hedged.
func (w *world) checkFetch(n *node, fe locks.Fetch) {
	if fe.Cause == locks.CauseFollowerTimeout {
		if fe.Background {
			w.tb.Errorf("%v: node %d: a follower's hedge for %q went out as background", dur(w.now), n.id, fe.Key)
		}
		if fe.Owner >= 1 && int(fe.Owner) <= len(w.reqs) {
			w.reqs[fe.Owner-1].hedged = true
		}
		return
	}
	r := w.waiting(n, fe.Flight)
	switch {
	case fe.Background && r != nil:
		w.tb.Errorf("%v: node %d: upstream call of flight %v for %q went out as background while request %d waits in the flight", dur(w.now), n.id, fe.Flight, fe.Key, r.id)
	case !fe.Background && r == nil:
		w.tb.Errorf("%v: node %d: upstream call of flight %v for %q went out for callers, but no request waits in the flight", dur(w.now), n.id, fe.Flight, fe.Key)
	}
}

// callOf returns node n's upstream call of flight id that is still on its
// way, or nil.
func (w *world) callOf(n *node, id locks.FlightID) *fetchRec {
	for i := len(w.fetches) - 1; i >= 0; i-- {
		if f := w.fetches[i]; f.node == n && f.fetch.Flight == id && !f.finished {
			return f
		}
	}
	return nil
}

// checkExpedite checks an EffectExpediteFetch of node n and marks its call
// expedited.
func (w *world) checkExpedite(n *node, fe locks.Fetch) {
	f := w.callOf(n, fe.Flight)
	switch {
	case f == nil:
		w.tb.Errorf("%v: node %d: expedite of flight %v for %q, which has no upstream call on its way", dur(w.now), n.id, fe.Flight, fe.Key)
		return
	case !f.fetch.Background:
		w.tb.Errorf("%v: node %d: expedite of call %d for %q, which did not go out as background", dur(w.now), n.id, f.n, fe.Key)
	case f.expedited:
		w.tb.Errorf("%v: node %d: call %d for %q expedited twice", dur(w.now), n.id, f.n, fe.Key)
	case f.fetch.Key != fe.Key:
		w.tb.Errorf("%v: node %d: expedite of call %d names key %q, the call is for %q", dur(w.now), n.id, f.n, fe.Key, f.fetch.Key)
	}
	if r := w.arriving; r == nil || r.node != n || !r.handle.Valid() || r.handle.Flight != fe.Flight {
		w.tb.Errorf("%v: node %d: expedite of call %d for %q comes with no request joining its flight", dur(w.now), n.id, f.n, fe.Key)
	}
	f.expedited = true
}

// checkJoined checks, once request r's input has been handled, that r is
// not left waiting for a background call that nothing expedited.
func (w *world) checkJoined(r *reqRec) {
	if !r.handle.Valid() || !w.waitsIn(r, r.node, r.handle.Flight) {
		return
	}
	if f := w.callOf(r.node, r.handle.Flight); f != nil && f.fetch.Background && !f.expedited {
		w.tb.Errorf("%v: node %d: request %d joined flight %v, whose call %d for %q went out as background, and the call was not expedited", dur(w.now), r.node.id, r.id, r.handle.Flight, f.n, f.fetch.Key)
	}
}
