package locks_test

// Specifications of request collapsing: how many upstream calls each
// topology makes, who contends for which lock, and what each path costs in
// store round trips.

import (
	"fmt"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Requests for one key on one node make one flight, whatever the topology
// above the node level: one upstream call, one reply fetched, the rest
// collapsed, and the node level counts one acquisition and every other
// request as a waiter.
func TestNodeLevelMakesOneFlightPerKey(t *testing.T) {
	for _, topo := range []string{"node-only", "two-level", "fanout-tree"} {
		for _, n := range []int{1, 2, 10, 200} {
			t.Run(fmt.Sprintf("%s/%d requests", topo, n), func(t *testing.T) {
				w := newWorld(t, defaultConfig(builtin(t, topo), place{}))
				// Spread over the first 50ms; the flight takes longer than that.
				for i := range n {
					w.request(at(time.Duration(i)*50*ms/time.Duration(n)), 0, "k")
				}
				w.run()
				w.settled(false)

				if got := len(w.fetches); got != 1 {
					t.Fatalf("%d upstream calls, want 1\n%s", got, w.describe())
				}
				want := map[locks.Served]int{locks.ServedFetched: 1}
				if n > 1 {
					want[locks.ServedCollapsed] = n - 1
				}
				if got := w.served(); !sameCounts(got, want) {
					t.Errorf("served %v, want %v", got, want)
				}
				st := w.nodes[0].m.Stats().Levels[0]
				if st.Acquisitions != 1 || st.Waits != uint64(n-1) || st.PeakContenders != n {
					t.Errorf("node level stats %+v, want 1 acquisition, %d waits, peak %d", st, n-1, n)
				}
			})
		}
	}
}

// Each topology's promise, measured with every node asking for one key at
// once: how many upstream calls, and why they were made.
func TestUpstreamCallsPerTopology(t *testing.T) {
	tests := []struct {
		topology            string
		nodes, regions, zns int
		perNode             int
		wantCalls           int
		wantCause           locks.Cause
		// perRegion: exactly one call in each region.
		perRegion bool
	}{
		{"none", 4, 2, 1, 3, 12, locks.CauseNoLock, false},
		{"node-only", 4, 2, 1, 3, 4, locks.CauseNoLock, false},
		{"one-level", 4, 2, 1, 3, 2, locks.CauseHolder, true},
		{"two-level", 6, 3, 1, 3, 3, locks.CauseHolder, true},
		{"two-level", 12, 2, 2, 5, 2, locks.CauseHolder, true},
		{"global", 6, 3, 1, 3, 1, locks.CauseHolder, false},
		{"fanout-tree", 8, 2, 2, 3, 1, locks.CauseHolder, false},
	}
	for _, tt := range tests {
		for _, wake := range []locks.Wake{locks.WakeNotify, locks.WakePoll} {
			name := fmt.Sprintf("%s/%d nodes in %d regions/%s", tt.topology, tt.nodes, tt.regions, wake)
			t.Run(name, func(t *testing.T) {
				topo := builtin(t, tt.topology, func(_ int, l *locks.Level) { l.Wake = wake })
				w := newWorld(t, defaultConfig(topo, nodesIn(tt.nodes, tt.regions, tt.zns)...))
				for n := range tt.nodes {
					for i := range tt.perNode {
						w.request(at(time.Duration(n+i)*ms), n, "k")
					}
				}
				w.run()
				w.settled(false)

				if got := len(w.fetches); got != tt.wantCalls {
					t.Fatalf("%d upstream calls, want %d\n%s", got, tt.wantCalls, w.describe())
				}
				if got := w.causes(); got[tt.wantCause] != tt.wantCalls {
					t.Errorf("causes %v, want all %s", got, tt.wantCause)
				}
				if tt.perRegion {
					for r, c := range w.callsPerRegion() {
						if c != 1 {
							t.Errorf("region %d: %d calls, want 1", r, c)
						}
					}
				}
				for _, r := range w.reqs {
					if r.reply.Err != nil {
						t.Errorf("request %d: %v", r.id, r.reply.Err)
					}
				}
			})
		}
	}
}

// Two-level keeps the region lock's contenders to the nodes that have
// demand (at most one flight per node), while one-level makes every request a
// contender of the region lock, so its peak grows with the requests.
func TestRegionContenders(t *testing.T) {
	tests := []struct {
		topology string
		nodes    int // all in region 0
		perNode  int
		// wantPeak is the peak number of flights holding or waiting for the
		// region lock.
		wantPeak int
	}{
		{"two-level", 1, 1, 1},
		{"two-level", 1, 50, 1},
		{"two-level", 4, 1, 4},
		{"two-level", 4, 50, 4},
		{"one-level", 1, 1, 1},
		{"one-level", 1, 50, 50},
		{"one-level", 4, 1, 4},
		{"one-level", 4, 50, 200},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d nodes/%d requests each", tt.topology, tt.nodes, tt.perNode), func(t *testing.T) {
			w := newWorld(t, defaultConfig(builtin(t, tt.topology), nodesIn(tt.nodes, 1, 1)...))
			for n := range tt.nodes {
				for i := range tt.perNode {
					w.request(at(time.Duration(i)*ms/10), n, "k")
				}
			}
			w.run()
			w.settled(false)

			level := len(w.cfg.Topology.Levels) - 1
			region := w.store(locks.ScopeRegion, 0, 0)
			if got := w.peak(level, region, "k"); got != tt.wantPeak {
				t.Errorf("peak region contenders %d, want %d", got, tt.wantPeak)
			}
			if got := len(w.fetches); got != 1 {
				t.Errorf("%d upstream calls, want 1\n%s", got, w.describe())
			}
			// Every flight reads the region store at least once.
			flights := tt.nodes
			if tt.topology == "one-level" {
				flights *= tt.perNode
			}
			if got := region.ops[locks.OpReadOrAcquire]; got < flights {
				t.Errorf("%d read-or-acquire operations, want at least one per flight (%d)", got, flights)
			}
		})
	}
}

// With many regions, two-level makes one call per region and each region's
// lock sees at most the nodes of that region.
func TestTwoLevelContendersStayWithinRegion(t *testing.T) {
	const nodes, regions, perNode = 12, 3, 20
	w := newWorld(t, defaultConfig(builtin(t, "two-level"), nodesIn(nodes, regions, 1)...))
	for n := range nodes {
		for i := range perNode {
			w.request(at(time.Duration(i)*ms), n, "k")
		}
	}
	w.run()
	w.settled(false)
	for r := range regions {
		if got, limit := w.peak(1, w.store(locks.ScopeRegion, r, 0), "k"), nodes/regions; got > limit || got < 1 {
			t.Errorf("region %d: peak contenders %d, want 1 to %d (its nodes)", r, got, limit)
		}
	}
	if got := w.callsPerRegion(); len(got) != regions || got[0] != 1 || got[1] != 1 || got[2] != 1 {
		t.Errorf("calls per region %v, want one in each of %d", got, regions)
	}
}

// A request that finds a fresh value in its node cache is answered at once,
// without a store operation or an upstream call.
func TestNodeCacheHit(t *testing.T) {
	w := newWorld(t, defaultConfig(builtin(t, "two-level"), place{}))
	first := w.request(at(0), 0, "k")
	w.runUntil(at(time.Second))
	opsBefore := w.nodes[0].m.Stats().Ops
	hit := w.request(at(time.Second), 0, "k")
	w.run()
	w.settled(false)

	rep := w.reply(hit)
	if rep.Served != locks.ServedHit || rep.Value != w.reply(first).Value {
		t.Errorf("reply %+v, want a hit with the first request's value %d", rep, w.reply(first).Value)
	}
	if at := w.req(hit).repliedAt; at != w.req(hit).at {
		t.Errorf("replied at %v, want at once (%v)", dur(at), dur(w.req(hit).at))
	}
	if got := w.nodes[0].m.Stats().Ops; got != opsBefore {
		t.Errorf("store operations went from %v to %v, want none", opsBefore, got)
	}
	if len(w.fetches) != 1 {
		t.Errorf("%d upstream calls, want 1", len(w.fetches))
	}
}

// A request that misses its node cache but finds the value in the region
// cache costs exactly one store round trip: the read-or-acquire that reads
// it.
func TestSharedCacheHit(t *testing.T) {
	for _, topo := range []string{"two-level", "one-level"} {
		t.Run(topo, func(t *testing.T) {
			w := newWorld(t, defaultConfig(builtin(t, topo), place{}, place{}))
			first := w.request(at(0), 0, "k")
			w.runUntil(at(time.Second))
			hit := w.request(at(time.Second), 1, "k")
			w.run()
			w.settled(false)

			rep := w.reply(hit)
			if rep.Served != locks.ServedHit || rep.Value != w.reply(first).Value {
				t.Errorf("reply %+v, want a hit with value %d", rep, w.reply(first).Value)
			}
			if got, want := w.nodeOps(1), map[locks.OpKind]int{locks.OpReadOrAcquire: 1}; !sameCounts(got, want) {
				t.Errorf("node 1 sent %v, want %v", got, want)
			}
			// One round trip to the region store and back.
			if got, want := w.req(hit).repliedAt.Sub(w.req(hit).at), 2*w.cfg.Latency[locks.ScopeRegion]; got != want {
				t.Errorf("answered after %v, want one round trip (%v)", got, want)
			}
		})
	}
}

// What one miss costs in store round trips, per node. An uncontended miss
// with two-level costs two: read-or-acquire (acquired) and publish (which
// also releases). A node that waits for another node's flight in notify mode
// costs five: read-or-acquire (held), subscribe, read-or-acquire again once
// the subscription stands (still held: no release can slip between the two),
// read-or-acquire when the release is announced (the value), and unsubscribe.
// In poll mode it costs one read-or-acquire per poll.
func TestStoreRoundTripsPerMiss(t *testing.T) {
	tests := []struct {
		name       string
		wake       locks.Wake
		poll       time.Duration
		holder     map[locks.OpKind]int
		waiter     map[locks.OpKind]int
		waiterGets locks.Served
	}{
		{
			name:   "notify, poll as a rare safety net",
			wake:   locks.WakeNotify,
			poll:   time.Second,
			holder: map[locks.OpKind]int{locks.OpReadOrAcquire: 1, locks.OpPublish: 1},
			waiter: map[locks.OpKind]int{locks.OpReadOrAcquire: 3, locks.OpSubscribe: 1, locks.OpUnsubscribe: 1},
		},
		{
			// The holder's publish reaches the store at 103ms. The waiter
			// reads at 11ms, then polls every 30ms after each answer: at 43,
			// 75 (held) and 107ms (the value).
			name:   "poll every 30ms",
			wake:   locks.WakePoll,
			poll:   30 * ms,
			holder: map[locks.OpKind]int{locks.OpReadOrAcquire: 1, locks.OpPublish: 1},
			waiter: map[locks.OpKind]int{locks.OpReadOrAcquire: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := builtin(t, "two-level", func(_ int, l *locks.Level) { l.Wake, l.PollInterval = tt.wake, tt.poll })
			w := newWorld(t, defaultConfig(topo, place{}, place{}))
			holder := w.request(at(0), 0, "k")
			waiter := w.request(at(10*ms), 1, "k")
			w.run()
			w.settled(false)

			if got := w.nodeOps(0); !sameCounts(got, tt.holder) {
				t.Errorf("holder sent %v, want %v", got, tt.holder)
			}
			if got := w.nodeOps(1); !sameCounts(got, tt.waiter) {
				t.Errorf("waiter sent %v, want %v", got, tt.waiter)
			}
			if got := w.reply(holder); got.Served != locks.ServedFetched {
				t.Errorf("holder served %s, want fetched", got.Served)
			}
			if got := w.reply(waiter); got.Served != locks.ServedCollapsed || got.Value != w.reply(holder).Value {
				t.Errorf("waiter reply %+v, want collapsed onto the holder's value", got)
			}
			// The uncontended miss: one round trip before the call, the call,
			// and the reply as soon as the call returns.
			if got, want := w.req(holder).repliedAt, at(2*ms+100*ms); got != want {
				t.Errorf("holder answered at %v, want %v", dur(got), dur(want))
			}
		})
	}
}

// sameCounts compares two count maps, treating a missing key as zero.
func sameCounts[K comparable](a, b map[K]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
