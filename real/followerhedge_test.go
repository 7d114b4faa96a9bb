package real_test

// The dead holder at a small scale, against the embedded miniredis and a
// redis-server: a node's followers whose waits pass while the region lock
// is held by a holder that never finishes must not each call the upstream
// (the node lock collapses their hedges, locks/followerhedge.go).

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/redistest"
)

func TestDeadHolderFollowersOnMiniredis(t *testing.T) {
	for _, tc := range deadHolderFollowerCases {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			b, _ := miniBackend(t)
			scenarioDeadHolderFollowers(t, b, "dead-"+tc.key, tc.nodeWait, tc.regionWait)
		})
	}
}

func TestDeadHolderFollowersOnRedisServer(t *testing.T) {
	b := serverBackend(redistest.StartT(t))
	for _, tc := range deadHolderFollowerCases {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			scenarioDeadHolderFollowers(t, b, "dead-"+tc.key, tc.nodeWait, tc.regionWait)
		})
	}
}

var deadHolderFollowerCases = []struct {
	name, key            string // a key of its own: a redis-server keeps the last case's value
	nodeWait, regionWait time.Duration
}{
	// The owner's region wait ends first and its flight hedges; its
	// followers' waits pass a moment later, while that call is young.
	{"equal waits", "equal", 500 * time.Millisecond, 500 * time.Millisecond},
	// The followers' waits pass first: the flight hedges for them, and the
	// upstream call is its owner's fetch function.
	{"node wait shorter", "shorter", 300 * time.Millisecond, 3 * time.Second},
}

// Driver 0 takes the region lock and its fetch never returns (its lease is
// renewed all along); 50 callers on driver 1 then make at most one upstream
// call, with the fetch function of the caller served hedged (the owner of
// the flight that hedged), and everyone else gets its value, collapsed.
func scenarioDeadHolderFollowers(t *testing.T, b *backend, key string, nodeWait, regionWait time.Duration) {
	topo := topology(t, "two-level", level(10*time.Second, regionWait, 50*time.Millisecond, locks.PolicyInvoke))
	topo.Levels[0].WaitTimeout = nodeWait
	opt := real.Options{Topology: topo}
	holder, live := newDriver(t, b, opt), newDriver(t, b, opt)

	release := make(chan struct{})
	holderDone := make(chan struct{})
	go func() {
		defer close(holderDone)
		_, _ = holder.Do(context.Background(), key, func(ctx context.Context) ([]byte, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return []byte("late"), nil
		})
	}()
	// Cleanups run last in, first out: this one before the drivers close.
	t.Cleanup(func() { close(release); <-holderDone })
	waitFor(t, 5*time.Second, "the holder to take the region lock", func() bool { return holder.Stats().Levels[1].Acquisitions == 1 })

	const callers = 50
	var calls atomic.Int64
	var mu sync.Mutex
	var called []int
	out := make([]outcome, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := live.Do(context.Background(), key, func(ctx context.Context) ([]byte, error) {
				calls.Add(1)
				mu.Lock()
				called = append(called, i)
				mu.Unlock()
				time.Sleep(100 * time.Millisecond) // past every follower's wait
				return []byte("fresh"), nil
			})
			out[i] = outcome{res: r, err: err}
		}()
	}
	close(start)
	wg.Wait()

	if n := calls.Load(); n != 1 {
		t.Fatalf("%d upstream calls on the live driver (callers %v), want 1: its followers hedged each on their own", n, called)
	}
	for i, o := range out {
		want := locks.ServedCollapsed
		if i == called[0] {
			want = locks.ServedHedged
		}
		if o.err != nil || string(o.res.Value) != "fresh" || o.res.Served != want {
			t.Errorf("caller %d: %q served %v (%v), want the one call's value, %v", i, o.res.Value, o.res.Served, o.err, want)
		}
	}
	if s := live.Stats(); s.Hedges != 1 {
		t.Errorf("the live driver counted %d hedges, want 1", s.Hedges)
	}
}
