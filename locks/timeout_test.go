package locks_test

// Specifications of what a waiter does when its wait times out, at the node
// level (a follower of its node's flight) and at a shared level (a flight
// waiting for another node's lock), under each policy.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// slowSecondCall is an upstream whose second call takes d and every other
// call 100ms.
func slowSecondCall(d time.Duration) func(int, string) (time.Duration, error) {
	return func(n int, _ string) (time.Duration, error) {
		if n == 2 {
			return d, nil
		}
		return 100 * ms, nil
	}
}

// timeoutCase is one policy and what the timed-out requests must get.
type timeoutCase struct {
	policy   locks.Policy
	staleFor time.Duration
	// want is how the timed-out requests are served; wantValue is the call
	// whose value they get (0 for an error).
	want      locks.Served
	wantValue int
	wantErr   error
	// wantCall is the cause of a third upstream call (the hedge), if any.
	hedge bool
}

// The caches of the scenarios below keep a value for 1s. With a stale window
// of 10s the value of the first call is still held when the wait times out
// at 3.1s; with 1s it is gone (it went stale at 1.1s and was dropped at 2.1s).
var timeoutCases = []timeoutCase{
	{policy: locks.PolicyInvoke, want: locks.ServedHedged, wantValue: 3, hedge: true},
	{policy: locks.PolicyFail, want: locks.ServedError, wantErr: locks.ErrWaitTimeout},
	{policy: locks.PolicyStale, staleFor: 10 * time.Second, want: locks.ServedStale, wantValue: 1},
	{policy: locks.PolicyStale, staleFor: time.Second, want: locks.ServedError, wantErr: locks.ErrWaitTimeout},
	{policy: locks.PolicyStale, staleFor: 0, want: locks.ServedError, wantErr: locks.ErrWaitTimeout},
}

func (tc timeoutCase) String() string {
	return fmt.Sprintf("%s/stale for %v", tc.policy, tc.staleFor)
}

// A follower that waits for its node's flight longer than the node level's
// wait timeout gives up by the node level's policy: invoke hedges with its
// own call (cause node-follower-timeout), fail replies ErrWaitTimeout, stale
// serves the node cache's expired value if it is within the stale window and
// fails otherwise. The flight goes on for its owner.
func TestFollowerTimeout(t *testing.T) {
	for _, tc := range timeoutCases {
		for _, topo := range []string{"node-only", "two-level"} {
			t.Run(topo+"/"+tc.String(), func(t *testing.T) {
				top := builtin(t, topo, func(i int, l *locks.Level) {
					if i == 0 {
						l.WaitTimeout, l.OnTimeout = 100*ms, tc.policy
					} else {
						l.WaitTimeout = 5 * time.Second
					}
				})
				cfg := defaultConfig(top, place{})
				cfg.NodeCacheTTL, cfg.SharedCacheTTL, cfg.StaleFor = time.Second, time.Second, tc.staleFor
				cfg.UpstreamFn = slowSecondCall(2 * time.Second)
				w := newWorld(t, cfg)
				w.request(at(0), 0, "k")                      // call 1 fills the caches
				owner := w.request(at(3*time.Second), 0, "k") // call 2, slow
				follower := w.request(at(3010*ms), 0, "k")    // times out at 3.11s
				w.run()
				w.settled(false)

				rep := w.reply(follower)
				checkTimedOut(t, w, follower, rep, tc, 0, 3110*ms)
				if got := w.reply(owner); got.Served != locks.ServedFetched || got.Value != 2 {
					t.Errorf("owner got %+v, want its own call's value 2", got)
				}
				if tc.hedge {
					if f := w.fetches[2]; f.fetch.Cause != locks.CauseFollowerTimeout || f.fetch.Level != 0 {
						t.Errorf("hedge call %+v, want cause %s at level 0", f.fetch, locks.CauseFollowerTimeout)
					}
				}
				if got := w.nodes[0].m.Stats().Levels[0].Timeouts; got != 1 {
					t.Errorf("node level counted %d timeouts, want 1", got)
				}
			})
		}
	}
}

// A flight that waits for a shared lock held by another node longer than
// that level's wait timeout gives up by that level's policy, for every
// request it carries: invoke hedges (the owner is served hedged and its
// followers collapsed; cause waiter-timeout, naming the level), fail replies
// ErrWaitTimeout, stale serves the node's expired value or fails.
func TestSharedLevelTimeout(t *testing.T) {
	for _, tc := range timeoutCases {
		for _, topo := range []string{"one-level", "two-level"} {
			t.Run(topo+"/"+tc.String(), func(t *testing.T) {
				top := builtin(t, topo, func(i int, l *locks.Level) {
					if l.Scope == locks.ScopeRegion {
						l.WaitTimeout, l.OnTimeout = 200*ms, tc.policy
					} else {
						l.WaitTimeout = 5 * time.Second
					}
				})
				level := len(top.Levels) - 1
				cfg := defaultConfig(top, place{}, place{})
				cfg.NodeCacheTTL, cfg.SharedCacheTTL, cfg.StaleFor = time.Second, time.Second, tc.staleFor
				cfg.UpstreamFn = slowSecondCall(2 * time.Second)
				w := newWorld(t, cfg)
				w.request(at(0), 0, "k")                       // call 1 fills the region cache
				w.request(at(500*ms), 1, "k")                  // node 1 gets it from there: its node cache holds value 1
				holder := w.request(at(3*time.Second), 0, "k") // call 2 holds the region lock for 2s
				waiting := w.requests(at(3050*ms), 1, "k", 2)  // wait at the region level until 3.25s
				w.run()
				w.settled(false)

				for i, id := range waiting {
					tc := tc
					if tc.hedge && (i > 0 || topo == "one-level") {
						// Under two-level the second request follows the first
						// on its node: it is collapsed onto the hedge. Under
						// one-level each request is its own flight and hedges.
						tc.want = locks.ServedCollapsed
						if topo == "one-level" {
							tc.want, tc.wantValue = locks.ServedHedged, 3+i
						}
					}
					checkTimedOut(t, w, id, w.reply(id), tc, level, 3250*ms)
				}
				if got := w.reply(holder); got.Served != locks.ServedFetched || got.Value != 2 {
					t.Errorf("holder got %+v, want its own call's value 2", got)
				}
				if tc.hedge {
					for _, f := range w.fetches[2:] {
						if f.fetch.Cause != locks.CauseWaiterTimeout || int(f.fetch.Level) != level {
							t.Errorf("hedge call %+v, want cause %s at level %d", f.fetch, locks.CauseWaiterTimeout, level)
						}
					}
				}
				if got := w.nodes[1].m.Stats().Levels[level].Timeouts; got == 0 {
					t.Errorf("level %d counted no timeout", level)
				}
			})
		}
	}
}

// checkTimedOut checks the reply of a request whose wait at level timed out
// at timedOutAt.
func checkTimedOut(t *testing.T, w *world, id locks.ReqID, rep locks.Reply[int], tc timeoutCase, level int, timedOutAt time.Duration) {
	t.Helper()
	if rep.Served != tc.want {
		t.Errorf("request %d served %s (%+v), want %s", id, rep.Served, rep, tc.want)
		return
	}
	switch {
	case tc.wantErr != nil:
		if !errors.Is(rep.Err, tc.wantErr) || int(rep.Level) != level {
			t.Errorf("request %d: error %v at level %d, want %v at level %d", id, rep.Err, rep.Level, tc.wantErr, level)
		}
	case rep.Err != nil || rep.Value != tc.wantValue:
		t.Errorf("request %d: value %d, error %v, want value %d", id, rep.Value, rep.Err, tc.wantValue)
	}
	wantAt := at(timedOutAt)
	if tc.hedge {
		wantAt = wantAt.Add(100 * ms) // the hedge's own call
	}
	if tc.want == locks.ServedStale && int(rep.Level) != level {
		t.Errorf("request %d: stale at level %d, want %d", id, rep.Level, level)
	}
	if got := w.req(id).repliedAt; got != wantAt {
		t.Errorf("request %d answered at %v, want %v", id, dur(got), dur(wantAt))
	}
}
