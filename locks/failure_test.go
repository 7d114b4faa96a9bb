package locks_test

// Specifications of failures: a store that errors or does not answer, an
// upstream that errors, requests cancelled, a machine aborted.

import (
	"errors"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A store that fails counts as not acquiring: the flight retries at the poll
// interval until its wait timeout passes, then applies its policy, so every
// request is answered by the wait timeout (plus the hedge's own call), never
// later. A hedge caused by store errors says so (cause store-error). A store
// that does not answer at all is the same to the flight, except that it has
// seen no error: its hedge is a waiter timeout.
func TestStoreFailure(t *testing.T) {
	tests := []struct {
		name      string
		fault     fault
		policy    locks.Policy
		staleFor  time.Duration
		want      locks.Served // the owner's reply; followers are collapsed or the same
		wantValue int
		wantErr   error
		wantCause locks.Cause
		wantAt    time.Duration
	}{
		{"errors/invoke", faultError, locks.PolicyInvoke, 0, locks.ServedHedged, 2, nil, locks.CauseStoreError, 2200 * ms},
		{"errors/fail", faultError, locks.PolicyFail, 0, locks.ServedError, 0, locks.ErrWaitTimeout, 0, 2100 * ms},
		{"errors/stale", faultError, locks.PolicyStale, 10 * time.Second, locks.ServedStale, 1, nil, 0, 2100 * ms},
		{"errors/stale, none held", faultError, locks.PolicyStale, 0, locks.ServedError, 0, locks.ErrWaitTimeout, 0, 2100 * ms},
		{"no answer/invoke", faultDrop, locks.PolicyInvoke, 0, locks.ServedHedged, 2, nil, locks.CauseWaiterTimeout, 2200 * ms},
		{"no answer/fail", faultDrop, locks.PolicyFail, 0, locks.ServedError, 0, locks.ErrWaitTimeout, 0, 2100 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := builtin(t, "two-level", func(i int, l *locks.Level) {
				if i == 1 {
					l.WaitTimeout, l.OnTimeout = time.Second, tt.policy
				} else {
					l.WaitTimeout = 5 * time.Second
				}
			})
			cfg := defaultConfig(top, place{})
			cfg.NodeCacheTTL, cfg.SharedCacheTTL, cfg.StaleFor = 500*ms, 500*ms, tt.staleFor
			// The region store works for the first call, and fails from
			// 1s on.
			cfg.StoreFault = func(now locks.Time, _ *store, _ locks.Op[int]) fault {
				if now >= at(time.Second) {
					return tt.fault
				}
				return faultNone
			}
			w := newWorld(t, cfg)
			w.request(at(0), 0, "k")
			ids := w.requests(at(1100*ms), 0, "k", 3)
			w.run()
			w.settled(true) // locks taken before the failure may outlive it

			for i, id := range ids {
				rep, want := w.reply(id), tt.want
				if i > 0 && want == locks.ServedHedged {
					want = locks.ServedCollapsed
				}
				if rep.Served != want || rep.Value != tt.wantValue || !errors.Is(rep.Err, tt.wantErr) {
					t.Errorf("request %d: %+v, want %s with value %d, error %v", id, rep, want, tt.wantValue, tt.wantErr)
				}
				if got := w.req(id).repliedAt; got != at(tt.wantAt) {
					t.Errorf("request %d answered at %v, want %v", id, dur(got), tt.wantAt)
				}
			}
			if tt.policy == locks.PolicyInvoke {
				if f := w.fetches[len(w.fetches)-1]; len(w.fetches) != 2 || f.fetch.Cause != tt.wantCause || f.fetch.Level != 1 {
					t.Errorf("calls %s, want a second one with cause %s at level 1", w.describe(), tt.wantCause)
				}
			}
			st := w.nodes[0].m.Stats()
			if tt.fault == faultError && st.StoreErrors == 0 {
				t.Errorf("no store error counted")
			}
			// The flight retried at the poll interval (50ms) while it waited.
			if st.Ops[locks.OpReadOrAcquire] < 10 && tt.fault == faultError {
				t.Errorf("%d read-or-acquire operations, want a retry every 50ms for 1s", st.Ops[locks.OpReadOrAcquire])
			}
		})
	}
}

// A subscription that fails leaves its waiters polling, and they are still
// answered as soon as a poll finds the value. Each poll that finds the lock
// still held tries to subscribe again before its next poll.
func TestSubscribeFailureFallsBackToPolling(t *testing.T) {
	top := builtin(t, "two-level", func(_ int, l *locks.Level) { l.PollInterval = 30 * ms })
	cfg := defaultConfig(top, place{}, place{})
	cfg.StoreFault = func(_ locks.Time, _ *store, op locks.Op[int]) fault {
		if op.Kind == locks.OpSubscribe {
			return faultError
		}
		return faultNone
	}
	w := newWorld(t, cfg)
	w.request(at(0), 0, "k")
	waiter := w.request(at(10*ms), 1, "k")
	w.run()
	w.settled(false)
	if r := w.reply(waiter); r.Served != locks.ServedCollapsed {
		t.Errorf("waiter got %+v, want collapsed", r)
	}
	// Read (held) at 11ms, subscribe fails at 13ms, poll at 45ms (held),
	// subscribe fails at 47ms, poll at 79ms (held), subscribe fails at 81ms,
	// poll at 113ms finds the value published at 103ms.
	if got := w.req(waiter).repliedAt; got != at(114*ms) {
		t.Errorf("waiter answered at %v, want 114ms", dur(got))
	}
	if got, want := w.nodeOps(1), map[locks.OpKind]int{locks.OpReadOrAcquire: 4, locks.OpSubscribe: 3}; !sameCounts(got, want) {
		t.Errorf("waiter sent %v, want %v", got, want)
	}
	if len(w.fetches) != 1 {
		t.Errorf("%d calls, want 1", len(w.fetches))
	}
}

// An upstream error is the answer of every request collapsed onto the call
// that failed; nothing is cached, and the locks are released, so the next
// request calls again. Flights of other nodes waiting for the lock are not
// collapsed onto the failure: they take the released lock and call once more.
func TestUpstreamError(t *testing.T) {
	boom := errors.New("upstream: 503")
	cfg := defaultConfig(builtin(t, "two-level"), place{}, place{})
	cfg.UpstreamFn = func(n int, _ string) (time.Duration, error) {
		if n == 1 {
			return 100 * ms, boom
		}
		return 100 * ms, nil
	}
	w := newWorld(t, cfg)
	region := w.store(locks.ScopeRegion, 0, 0)
	failed := w.requests(at(0), 0, "k", 5)
	other := w.request(at(10*ms), 1, "k")

	w.runUntil(at(103 * ms)) // the release reaches the store at 103ms
	if _, ok := region.s.Holder(w.now, "k"); ok && len(region.acquisitions) == 1 {
		t.Errorf("the failed holder's lock is still held")
	}
	if _, ok := region.s.Value(w.now, "k"); ok {
		t.Errorf("the region cache holds a value after the failure")
	}
	later := w.request(at(time.Second), 0, "k")
	w.run()
	w.settled(false)

	for _, id := range failed {
		if r := w.reply(id); r.Served != locks.ServedError || !errors.Is(r.Err, boom) {
			t.Errorf("request %d: %+v, want the upstream error", id, r)
		}
	}
	if r := w.reply(other); r.Served != locks.ServedFetched || r.Value != 2 {
		t.Errorf("node 1: %+v, want it to take the lock and fetch (value 2)", r)
	}
	// Node 0 cached nothing from the failure; it got the value from the
	// region cache that node 1 filled.
	if r := w.reply(later); r.Served != locks.ServedHit || r.Value != 2 {
		t.Errorf("later request: %+v, want a region hit on value 2", r)
	}
	if got := w.nodes[0].m.Stats(); got.UpstreamErrors != 1 || got.Ops[locks.OpRelease] != 1 {
		t.Errorf("node 0 counted %d upstream errors and %d releases, want 1 and 1", got.UpstreamErrors, got.Ops[locks.OpRelease])
	}
}

// Cancellation: a cancelled request gets no reply. Its flight goes on for
// the others; cancelling the last one aborts the flight: the upstream call is
// cancelled, the locks are released, the contenders are given back.
func TestCancel(t *testing.T) {
	type tc struct {
		name string
		// cancel picks which of the requests (3 on node 0 at 0ms, 1 on node
		// 1 at 10ms) to cancel at 50ms, during node 0's upstream call.
		cancel []int
		// want: how each request is served (-1: no reply).
		want          []locks.Served
		wantCancelled bool // the upstream call was cancelled
		wantCalls     int
	}
	const none = locks.Served(255)
	tests := []tc{
		{"a follower", []int{1}, []locks.Served{locks.ServedFetched, none, locks.ServedCollapsed, locks.ServedCollapsed}, false, 1},
		{"the owner", []int{0}, []locks.Served{none, locks.ServedCollapsed, locks.ServedCollapsed, locks.ServedCollapsed}, false, 1},
		// Node 1's flight takes the released lock and calls itself.
		{"every request of the holder's node", []int{0, 1, 2}, []locks.Served{none, none, none, locks.ServedFetched}, true, 2},
		{"the waiter on the other node", []int{3}, []locks.Served{locks.ServedFetched, locks.ServedCollapsed, locks.ServedCollapsed, none}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, defaultConfig(builtin(t, "two-level"), place{}, place{}))
			ids := append(w.requests(at(0), 0, "k", 3), w.request(at(10*ms), 1, "k"))
			for _, i := range tt.cancel {
				w.cancel(at(50*ms), ids[i])
			}
			w.run()
			w.settled(false)

			for i, id := range ids {
				r := w.req(id)
				switch {
				case tt.want[i] == none && (!r.cancelled || r.replies != 0):
					t.Errorf("request %d: cancelled %v, %d replies; want cancelled, none", i, r.cancelled, r.replies)
				case tt.want[i] != none && r.reply.Served != tt.want[i]:
					t.Errorf("request %d: %+v, want %s", i, r.reply, tt.want[i])
				}
			}
			if len(w.fetches) != tt.wantCalls || w.fetches[0].cancelled != tt.wantCancelled {
				t.Errorf("calls %s, want %d, the first cancelled: %v", w.describe(), tt.wantCalls, tt.wantCancelled)
			}
			if tt.wantCancelled {
				region := w.store(locks.ScopeRegion, 0, 0)
				if got := w.nodes[0].m.Stats().Ops[locks.OpRelease]; got != 1 {
					t.Errorf("node 0 sent %d releases, want 1", got)
				}
				// The cancelled call's result arrives later and is dropped.
				if got := w.nodes[0].m.Stats().LateReplies; got == 0 {
					t.Errorf("the cancelled call's late result was not counted as late")
				}
				if trail := region.acceptedTrail["k"]; len(trail) != 1 || region.publishes[0].node != 1 {
					t.Errorf("publishes %+v, want node 1's only", region.publishes)
				}
			}
		})
	}
}

// Cancelling the only request of a flight that is waiting at a shared level
// ends its wait: it unsubscribes, stops contending, and never takes the lock.
func TestCancelWhileWaitingAtSharedLevel(t *testing.T) {
	w := newWorld(t, defaultConfig(builtin(t, "two-level"), place{}, place{}))
	w.request(at(0), 0, "k")
	waiter := w.request(at(10*ms), 1, "k")
	w.cancel(at(50*ms), waiter)
	w.runUntil(at(60 * ms))
	region := w.store(locks.ScopeRegion, 0, 0)
	if got := w.contenders[contKey{1, region, "k"}].cur; got != 1 {
		t.Errorf("%d contenders after the cancel, want the holder alone", got)
	}
	if got := region.s.Subscribers("k"); len(got) != 0 {
		t.Errorf("subscribers %v after the cancel, want none", got)
	}
	w.run()
	w.settled(false)
	if got := w.nodeOps(1); got[locks.OpUnsubscribe] != 1 || got[locks.OpPublish] != 0 || got[locks.OpRelease] != 0 {
		t.Errorf("node 1 sent %v, want one unsubscribe and no publish or release", got)
	}
	if len(region.acquisitions) != 1 {
		t.Errorf("acquisitions %+v, want node 0's only", region.acquisitions)
	}
}

// Abort answers every waiting request with ErrAborted, cancels the upstream
// calls and releases the locks.
func TestAbort(t *testing.T) {
	w := newWorld(t, defaultConfig(builtin(t, "two-level"), place{}, place{}))
	held := w.requests(at(0), 0, "k", 2)
	waiting := w.request(at(10*ms), 1, "k")
	w.abort(at(50*ms), 0)
	w.abort(at(50*ms), 1)
	w.run()
	w.settled(false)
	for _, id := range append(held, waiting) {
		if r := w.reply(id); !errors.Is(r.Err, locks.ErrAborted) || w.req(id).repliedAt != at(50*ms) {
			t.Errorf("request %d: %+v at %v, want ErrAborted at 50ms", id, r, dur(w.req(id).repliedAt))
		}
	}
	if !w.fetches[0].cancelled {
		t.Errorf("the upstream call was not cancelled")
	}
}

// A flight that gives up while its read-or-acquire is on its way (its only
// request was cancelled, or its wait timed out and it hedged) may still be
// granted the lock by the store. Nobody would ever publish or release that
// lock, so the machine gives it back as soon as the grant arrives, and the
// next flight takes it at once instead of waiting for the lease to run out.
func TestLockGrantedAfterFlightGaveUpIsReleased(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world, first locks.ReqID)
		want  locks.Served // the first request's reply; 255 for none
	}{
		{
			name:  "cancelled",
			setup: func(w *world, first locks.ReqID) { w.cancel(at(ms/2), first) },
			want:  255,
		},
		{
			name:  "timed out and hedged",
			setup: func(*world, locks.ReqID) {},
			want:  locks.ServedHedged,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig(builtin(t, "two-level"), place{}, place{})
			if tt.want == locks.ServedHedged {
				cfg.NodeConfig = func(i int, c *locks.Config) {
					if i == 0 { // node 0 gives up before its grant comes back at 2ms
						c.Topology = builtin(t, "two-level", func(i int, l *locks.Level) {
							if i == 1 {
								l.WaitTimeout = 1500 * time.Microsecond
							}
						})
					}
				}
			}
			w := newWorld(t, cfg)
			first := w.request(at(0), 0, "k") // the grant lands at 1ms, comes back at 2ms
			tt.setup(w, first)
			next := w.request(at(10*ms), 1, "k")
			w.run()
			w.settled(false)

			if r := w.req(first); (tt.want == 255) != (r.replies == 0) || (r.replies > 0 && r.reply.Served != tt.want) {
				t.Errorf("first request: %d replies, %+v; want %v", r.replies, r.reply, tt.want)
			}
			// Node 1 takes the lock at 11ms and fetches: answered at 112ms,
			// not after the 2s lease.
			if r := w.reply(next); r.Served != locks.ServedFetched || w.req(next).repliedAt != at(112*ms) {
				t.Errorf("next request: %+v at %v, want fetched at 112ms", r, dur(w.req(next).repliedAt))
			}
			if got := w.nodes[0].m.Stats().Ops[locks.OpRelease]; got != 1 {
				t.Errorf("node 0 sent %d releases, want 1 for the lock granted too late", got)
			}
		})
	}
}

// A follower that timed out at the node level and hedged is still a waiting
// request: cancelling it must cancel its hedge (no reply, the hedge's
// upstream call cancelled), whether or not the flight it left has ended.
func TestCancelHedgedFollower(t *testing.T) {
	tests := []struct {
		name      string
		firstCall time.Duration // the owner's call; the hedge's takes 500ms
	}{
		{"its flight still going", 2 * time.Second},
		{"its flight ended", 120 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := builtin(t, "node-only", func(_ int, l *locks.Level) { l.WaitTimeout = 100 * ms })
			cfg := defaultConfig(top, place{})
			cfg.UpstreamFn = func(n int, _ string) (time.Duration, error) {
				if n == 1 {
					return tt.firstCall, nil
				}
				return 500 * ms, nil
			}
			w := newWorld(t, cfg)
			owner := w.request(at(0), 0, "k")
			follower := w.request(at(10*ms), 0, "k") // hedges at 110ms
			w.cancel(at(150*ms), follower)
			w.run()
			w.settled(false)

			if r := w.req(follower); !r.cancelled || r.replies != 0 {
				t.Errorf("follower: cancelled %v, %d replies; want cancelled and no reply", r.cancelled, r.replies)
			}
			if len(w.fetches) != 2 || w.fetches[1].fetch.Cause != locks.CauseFollowerTimeout || !w.fetches[1].cancelled {
				t.Errorf("calls %s, want the second (the hedge) cancelled", w.describe())
			}
			if r := w.reply(owner); r.Served != locks.ServedFetched || r.Value != 1 {
				t.Errorf("owner: %+v, want fetched value 1", r)
			}
		})
	}
}
