package locks_test

// Specifications of the node's follower hedge (followerhedge.go): however
// many of a node's followers time out, the node has at most one upstream
// call for the key in flight because they did, and every count says what
// happened.

import (
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// followerHedgeCase is one story on node 1 (node 0 holds the region lock
// and freezes when dead is set) and the counts node 1 must end with.
type followerHedgeCase struct {
	name     string
	topology string
	// nodeWait and sharedWait are the waits of the node level and of every
	// shared level; policy is the node level's OnTimeout.
	nodeWait, sharedWait time.Duration
	policy               locks.Policy
	// dead: node 0 takes the lock first and freezes for 5s. Otherwise node 1
	// is alone, and its calls take slow.
	dead bool
	slow time.Duration
	// followers join node 1's flight 10ms after its owner (at once with
	// together), then late more 400ms after it.
	followers, late int
	together        bool

	wantCalls      [locks.NumCauses]uint64
	wantServed     map[locks.Served]uint64
	wantTimeouts   uint64 // node level
	sharedTimeouts uint64 // the outermost shared level
	wantPublishes  uint64 // to the locks node 1 held
}

var followerHedgeCases = []followerHedgeCase{
	{
		name: "dead holder, node wait shorter: the flight hedges once", topology: "two-level",
		nodeWait: 500 * ms, sharedWait: time.Second, policy: locks.PolicyInvoke, dead: true, followers: 30,
		wantCalls:    calls(locks.CauseFollowerTimeout, 1),
		wantServed:   map[locks.Served]uint64{locks.ServedHedged: 1, locks.ServedCollapsed: 30},
		wantTimeouts: 30,
	},
	{
		name: "dead holder, equal waits: the followers stay with the flight's young hedge", topology: "two-level",
		nodeWait: time.Second, sharedWait: time.Second, policy: locks.PolicyInvoke, dead: true, followers: 30,
		wantCalls:    calls(locks.CauseWaiterTimeout, 1),
		wantServed:   map[locks.Served]uint64{locks.ServedHedged: 1, locks.ServedCollapsed: 30},
		wantTimeouts: 30, sharedTimeouts: 1,
	},
	{
		// The zone lock is taken at 1ms, so the region's wait ends after
		// the followers': the flight hedges for them and keeps the zone.
		name: "dead holder, fanout-tree: the flight hedges holding its zone lock", topology: "fanout-tree",
		nodeWait: time.Second, sharedWait: time.Second, policy: locks.PolicyInvoke, dead: true, followers: 30, together: true,
		wantCalls:    calls(locks.CauseFollowerTimeout, 1),
		wantServed:   map[locks.Served]uint64{locks.ServedHedged: 1, locks.ServedCollapsed: 30},
		wantTimeouts: 30, wantPublishes: 1,
	},
	{
		name: "slow upstream: one follower hedge, the later ones join it", topology: "two-level",
		nodeWait: 300 * ms, sharedWait: time.Second, policy: locks.PolicyInvoke, slow: 2 * time.Second, followers: 10, late: 5,
		wantCalls:    addCalls(calls(locks.CauseHolder, 1), calls(locks.CauseFollowerTimeout, 1)),
		wantServed:   map[locks.Served]uint64{locks.ServedFetched: 1, locks.ServedHedged: 1, locks.ServedCollapsed: 14},
		wantTimeouts: 15, wantPublishes: 1,
	},
	{
		name: "slow upstream, node-only: one follower hedge", topology: "node-only",
		nodeWait: 300 * ms, policy: locks.PolicyInvoke, slow: 2 * time.Second, followers: 10, late: 5,
		wantCalls:    addCalls(calls(locks.CauseNoLock, 1), calls(locks.CauseFollowerTimeout, 1)),
		wantServed:   map[locks.Served]uint64{locks.ServedFetched: 1, locks.ServedHedged: 1, locks.ServedCollapsed: 14},
		wantTimeouts: 15,
	},
	{
		name: "dead holder, fail: each follower fails on its own", topology: "two-level",
		nodeWait: 500 * ms, sharedWait: time.Second, policy: locks.PolicyFail, dead: true, followers: 30,
		// The flight's region wait is invoke: it hedges at 1.01s for its owner.
		wantCalls:    calls(locks.CauseWaiterTimeout, 1),
		wantServed:   map[locks.Served]uint64{locks.ServedHedged: 1, locks.ServedError: 30},
		wantTimeouts: 30, sharedTimeouts: 1,
	},
}

func calls(c locks.Cause, n uint64) (out [locks.NumCauses]uint64) {
	out[c] = n
	return out
}

func addCalls(a, b [locks.NumCauses]uint64) [locks.NumCauses]uint64 {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

func TestFollowerHedgeCounts(t *testing.T) {
	for _, tc := range followerHedgeCases {
		t.Run(tc.name, func(t *testing.T) {
			top := builtin(t, tc.topology, func(i int, l *locks.Level) {
				l.LeaseTTL = 10 * time.Second
				if i == 0 {
					l.WaitTimeout, l.OnTimeout = tc.nodeWait, tc.policy
				} else {
					l.WaitTimeout = tc.sharedWait
				}
			})
			// Different zones, one region: node 1 takes its own zone lock.
			cfg := defaultConfig(top, place{0, 0}, place{0, 1})
			if tc.slow > 0 {
				cfg.Upstream = tc.slow
			}
			w := newWorld(t, cfg)
			if tc.dead {
				w.request(at(0), 0, "k")
				w.pause(at(50*ms), 0, 5*time.Second)
			}
			start := 100 * ms
			owner := w.request(at(start), 1, "k")
			after := 10 * ms
			if tc.together {
				after = 0
			}
			followers := w.requests(at(start+after), 1, "k", tc.followers)
			followers = append(followers, w.requests(at(start+400*ms), 1, "k", tc.late)...)
			w.run()
			w.settled(false)

			s := w.nodes[1].m.Stats()
			if s.Fetches != tc.wantCalls {
				t.Errorf("node 1 upstream calls by cause %v, want %v (%s)", s.Fetches, tc.wantCalls, w.describe())
			}
			for k := locks.Served(0); k < locks.NumServed; k++ {
				if s.Served[k] != tc.wantServed[k] {
					t.Errorf("node 1 served %s %d times, want %d", k, s.Served[k], tc.wantServed[k])
				}
			}
			if got := s.Ops[locks.OpPublish]; got != tc.wantPublishes {
				t.Errorf("node 1 published %d times, want %d", got, tc.wantPublishes)
			}
			if got := s.Levels[0].Timeouts; got != tc.wantTimeouts {
				t.Errorf("node level counted %d timeouts, want %d", got, tc.wantTimeouts)
			}
			if l := len(top.Levels) - 1; l > 0 {
				if got := s.Levels[l].Timeouts; got != tc.sharedTimeouts {
					t.Errorf("level %d counted %d timeouts, want %d", l, got, tc.sharedTimeouts)
				}
			}
			if tc.policy == locks.PolicyInvoke {
				if r := w.reply(owner); r.Err != nil {
					t.Errorf("owner: %+v, want a value", r)
				}
				for i, id := range followers {
					want := locks.ServedCollapsed
					if i == 0 && tc.slow > 0 {
						want = locks.ServedHedged // the follower hedge's owner
					}
					if r := w.reply(id); r.Served != want || r.Err != nil {
						t.Errorf("follower %d: %+v, want %s", id, r, want)
					}
				}
			}
		})
	}
}

// A follower that joined a follower's hedge is cancelled out of that hedge;
// the hedge goes on for whoever still waits in it and is cancelled with the
// last of them.
func TestCancelInFollowerHedge(t *testing.T) {
	tests := []struct {
		name         string
		cancel       []int // indexes into the followers: 0 hedged, 1 and 2 joined it
		wantCanceled bool  // the hedge's upstream call is cancelled
	}{
		{"one that joined", []int{1}, false},
		{"the hedge's owner", []int{0}, false},
		{"everyone in the hedge", []int{0, 1, 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := builtin(t, "node-only", func(_ int, l *locks.Level) { l.WaitTimeout = 100 * ms })
			cfg := defaultConfig(top, place{})
			cfg.Upstream = time.Second
			w := newWorld(t, cfg)
			owner := w.request(at(0), 0, "k")
			followers := []locks.ReqID{w.request(at(10*ms), 0, "k")} // hedges at 110ms
			followers = append(followers, w.requests(at(50*ms), 0, "k", 2)...)
			for _, i := range tt.cancel {
				w.cancel(at(300*ms), followers[i])
			}
			w.run()
			w.settled(false)

			if len(w.fetches) != 2 || w.fetches[1].fetch.Cause != locks.CauseFollowerTimeout || w.fetches[1].cancelled != tt.wantCanceled {
				t.Errorf("calls %s, want the second, the follower hedge, cancelled=%v", w.describe(), tt.wantCanceled)
			}
			for i, id := range followers {
				r := w.req(id)
				cancelled := false
				for _, c := range tt.cancel {
					cancelled = cancelled || c == i
				}
				switch {
				case cancelled && (!r.cancelled || r.replies != 0):
					t.Errorf("follower %d: cancelled %v, %d replies; want cancelled and no reply", id, r.cancelled, r.replies)
				case !cancelled && (r.replies != 1 || r.reply.Value != 2):
					t.Errorf("follower %d: %d replies, %+v; want the hedge's value 2", id, r.replies, r.reply)
				}
			}
			if r := w.reply(owner); r.Served != locks.ServedFetched || r.Value != 1 {
				t.Errorf("owner: %+v, want fetched value 1", r)
			}
		})
	}
}
