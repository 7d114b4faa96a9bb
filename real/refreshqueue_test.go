package real_test

// A caller that joins a background refresh must not wait in the refresh
// queue behind other keys' refreshes: the machine tells the driver
// (locks.EffectExpediteFetch), and the queued call starts at once.

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/redistest"
)

func TestJoinedRefreshSkipsTheQueue(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		noLeaks(t)
		b, _ := miniBackend(t)
		scenarioJoinedRefresh(t, b)
	})
	t.Run("redis-server", func(t *testing.T) {
		b := serverBackend(redistest.StartT(t))
		t.Run("joined refresh", func(t *testing.T) {
			noLeaks(t)
			scenarioJoinedRefresh(t, b)
		})
	})
}

// With one refresh goroutine (MaxRefreshes 1), key "slow"'s refresh calls
// an upstream that hangs until the test lets it go, and key "joined"'s
// refresh is queued behind it. A caller that comes for "joined" past its
// hard TTL joins that refresh: it must get the refreshed value in about
// the 20ms of its own call, not after the slow one (which it would wait
// for, past its 3s context, were its call left in the queue).
func scenarioJoinedRefresh(t *testing.T, b *backend) {
	const soft, hard = 100 * time.Millisecond, 1500 * time.Millisecond
	// The region cache keeps a value as long as the node's soft TTL and
	// serves nothing stale, so that each refresh finds it gone there and
	// calls the upstream as the region lock's holder.
	opt := real.Options{Topology: swrTopology(hard, 0), NodeCacheTTL: soft, SharedCacheTTL: soft, MaxRefreshes: 1, FetchTimeout: 10 * time.Second}
	d := newDriver(t, b, opt)

	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var slowCalls, slowReturned atomic.Int64
	slow := func(ctx context.Context) ([]byte, error) {
		if slowCalls.Add(1) == 1 {
			return []byte("slow#1"), nil
		}
		select {
		case started <- struct{}{}:
		default:
		}
		defer slowReturned.Add(1)
		select {
		case <-release:
			return []byte("slow#2"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	let := func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}
	t.Cleanup(let) // before the driver's Close, which waits for the call
	joined := &upstream{delay: 20 * time.Millisecond, value: "j"}

	for _, k := range []struct {
		key   string
		fetch func(context.Context) ([]byte, error)
	}{{"slow", slow}, {"joined", joined.fetch}} {
		if _, err := d.Do(context.Background(), k.key, k.fetch); err != nil {
			t.Fatal(err)
		}
	}
	filled := time.Now()
	time.Sleep(2 * soft) // past the soft TTL at the node, and the region's TTL

	if r, err := d.Do(context.Background(), "slow", slow); err != nil || r.Served != locks.ServedStaleRevalidating {
		t.Fatalf("slow past its soft TTL: served %v (%v), want revalidating", r.Served, err)
	}
	select {
	case <-started: // the one refresh goroutine is taken
	case <-time.After(5 * time.Second):
		t.Fatal("slow's refresh never called its upstream")
	}
	if r, err := d.Do(context.Background(), "joined", joined.fetch); err != nil || r.Served != locks.ServedStaleRevalidating {
		t.Fatalf("joined past its soft TTL: served %v (%v), want revalidating", r.Served, err)
	}
	waitFor(t, 5*time.Second, "joined's refresh to ask for its call", func() bool { return d.Stats().UpstreamCalls[locks.CauseHolder] == 4 })
	if n := joined.calls.Load(); n != 1 {
		t.Fatalf("joined's upstream was called %d times with its refresh queued behind slow's, want 1 (the fill)", n)
	}
	if left := time.Until(filled.Add(hard)); left < 100*time.Millisecond {
		t.Fatalf("the setup took until %v before joined's hard TTL; the caller would not join the refresh", left)
	}

	time.Sleep(time.Until(filled.Add(hard + 100*time.Millisecond))) // past joined's hard TTL at the node
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	r, err := d.Do(ctx, "joined", joined.fetch)
	took := time.Since(start)
	if err != nil || r.Served != locks.ServedCollapsed || string(r.Value) != "j#2" {
		t.Fatalf("a caller joining joined's queued refresh: %q served %v (%v) after %v, want the refreshed j#2, collapsed", r.Value, r.Served, err, took)
	}
	if took > time.Second {
		t.Errorf("a caller joining joined's queued refresh waited %v for its 20ms call, want well under 1s", took)
	}
	if slowReturned.Load() != 0 {
		t.Errorf("slow's refresh returned before the caller was answered: the test did not hold the refresh goroutine")
	}
	let()
	waitFor(t, 5*time.Second, "both refreshes to end", func() bool { return d.Stats().RefreshOutcomes[locks.OutcomeRefreshed] == 2 })
}
