package real_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/redistest"
)

// A Cluster client whose slot map is out of date (a slot has moved and the
// client has not heard yet, or its pub/sub connection reached another
// master) sends a subscription to a master that does not own the channel,
// and the master answers MOVED. That answer must fail the subscription at
// once, so that its waiters poll, instead of leaving them waiting for a
// confirmation that never comes until their wait times out.
//
// The stale map is made deterministic here: the clients believe that the
// first master owns every slot, and the key lives on another. Commands are
// redirected by go-redis itself; a subscription is not.
func TestRedisClusterMovedSubscription(t *testing.T) {
	cl := redistest.StartClusterT(t, 3)
	noLeaks(t)
	wrong := cl.Servers[0].Addr
	key := keyNotOn(t, cl, wrong)
	stale := func(context.Context) ([]redis.ClusterSlot, error) {
		return []redis.ClusterSlot{{Start: 0, End: 16383, Nodes: []redis.ClusterNode{{Addr: wrong}}}}, nil
	}
	b := &backend{
		name: "cluster, stale slot map",
		client: func(t *testing.T) redis.UniversalClient {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ClusterSlots: stale, MaxRetries: -1, ContextTimeoutEnabled: true})
			t.Cleanup(func() { c.Close() })
			return c
		},
	}
	const wait = 5 * time.Second
	ds := newDrivers(t, b, 3, real.Options{Topology: topology(t, "two-level", level(10*time.Second, wait, 50*time.Millisecond, locks.PolicyFail))})
	u := &upstream{delay: 200 * time.Millisecond, value: "v"}
	var longest time.Duration
	for i, o := range stampede(ds, 30, key, u.fetch) {
		longest = max(longest, o.took)
		if o.err != nil {
			t.Errorf("caller %d: %v", i, o.err)
		} else if o.took > wait/2 {
			t.Errorf("caller %d waited %v for a value fetched in %v: its wake-up was lost", i, o.took, u.delay)
		}
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("%d upstream calls, want 1", n)
	}
	s := totals(ds)
	failed := s.Store[locks.ScopeRegion][locks.OpSubscribe].Errors
	if failed == 0 {
		t.Errorf("no subscription failed, yet every one went to %s, which does not own %q's slot", wrong, key)
	}
	t.Logf("the longest caller waited %v; %d subscriptions failed with MOVED", longest, failed)
}

// keyNotOn returns a cache key whose channel's slot is owned by a master
// other than addr.
func keyNotOn(t *testing.T, cl *redistest.Cluster, addr string) string {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer c.Close()
	for i := range 100 {
		key := fmt.Sprintf("k%d", i)
		// The driver's keys of one cache key share the hash tag {key}.
		m, err := c.MasterForKey(context.Background(), "{"+key+"}")
		if err != nil {
			t.Fatal(err)
		}
		if m.Options().Addr != addr {
			return key
		}
	}
	t.Fatalf("no key of k0..k99 lives off %s", addr)
	return ""
}
