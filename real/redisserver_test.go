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

// measureServers returns what the servers at addrs saw from clients while f
// ran: requests by MONITOR, commands by INFO commandstats.
func measureServers(t *testing.T, addrs []string, f func()) (roundTrips, commands uint64) {
	t.Helper()
	var mons []*redistest.Monitor
	for _, a := range addrs {
		m, err := redistest.StartMonitor(a)
		if err != nil {
			t.Fatal(err)
		}
		mons = append(mons, m)
		if err := redistest.ResetStats(a); err != nil {
			t.Fatal(err)
		}
	}
	f()
	for i, a := range addrs {
		lines, err := mons[i].Stop()
		if err != nil {
			t.Fatal(err)
		}
		roundTrips += uint64(redistest.Requests(lines))
		stats, err := redistest.CommandStats(a)
		if err != nil {
			t.Fatal(err)
		}
		commands += redistest.Counted(stats)
	}
	return roundTrips, commands
}

// serverBackend runs the scenarios on srv; an outage kills it, and its end
// starts it again, empty, on the same port.
func serverBackend(srv *redistest.Server) *backend {
	return &backend{
		name: "redis-server",
		client: func(t *testing.T) redis.UniversalClient {
			c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
			t.Cleanup(func() { c.Close() })
			return c
		},
		outage: func(t *testing.T) func() {
			if err := srv.Kill(); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := srv.Restart(); err != nil {
					t.Fatal(err)
				}
			}
		},
		measure: func(t *testing.T, f func()) (uint64, uint64) { return measureServers(t, []string{srv.Addr}, f) },
	}
}

func TestRedisServer(t *testing.T) {
	srv := redistest.StartT(t)
	b := serverBackend(srv)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *backend)
	}{
		{"stampede", scenarioStampede},
		{"round-trip budget", scenarioRoundTripBudget},
		{"fence TTL", scenarioFenceTTL},
		{"dead holder", scenarioDeadHolder},
		{"stale token", scenarioStaleToken},
		{"outage", scenarioOutage},
		{"cancel", scenarioCancel},
		{"server counts", scenarioServerCounts},
		{"killed mid-stampede", scenarioKilledMidStampede},
	} {
		t.Run(sc.name, func(t *testing.T) {
			noLeaks(t)
			sc.run(t, b)
		})
	}
}

// The server's own counts of a whole stampede agree with the drivers':
// INFO commandstats with their commands, MONITOR with their round trips.
func scenarioServerCounts(t *testing.T, b *backend) {
	for _, name := range []string{"two-level", "one-level"} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			ds := newDrivers(t, b, 10, real.Options{Topology: topology(t, name, level(5*time.Second, 10*time.Second, 20*time.Millisecond, locks.PolicyFail))})
			if err := ds[0].LoadScripts(context.Background()); err != nil {
				t.Fatal(err)
			}
			u := &upstream{delay: 100 * time.Millisecond, value: "v"}
			trips, cmds := b.measure(t, func() {
				for i, o := range stampede(ds, 500, "counted-"+name, u.fetch) {
					if o.err != nil {
						t.Errorf("caller %d: %v", i, o.err)
					}
				}
				for _, d := range ds {
					d.Close() // every store operation has finished
				}
			})
			s := totals(ds)
			if trips != s.RoundTrips() || cmds != s.Commands() {
				t.Errorf("the server saw %d requests and ran %d commands; the drivers count %d round trips and %d commands",
					trips, cmds, s.RoundTrips(), s.Commands())
			}
			t.Logf("%s: 500 callers on 10 nodes: %d round trips, %d commands, %d upstream calls", name, trips, cmds, u.calls.Load())
		})
	}
}

// The server dies in the middle of a stampede and comes back on the same
// port: every Do returns, with a value or an error, within its wait timeout
// and the fetch deadline, and the drivers reconnect by themselves.
func scenarioKilledMidStampede(t *testing.T, b *backend) {
	const wait, fetchTimeout = time.Second, 2 * time.Second
	ds := newDrivers(t, b, 10, real.Options{
		Topology:     topology(t, "two-level", level(2*time.Second, wait, 50*time.Millisecond, locks.PolicyInvoke)),
		FetchTimeout: fetchTimeout,
	})
	u := &upstream{delay: 300 * time.Millisecond, value: "v"}
	outs := make(chan []outcome, 1)
	go func() { outs <- stampede(ds, 1000, "doomed", u.fetch) }()
	time.Sleep(50 * time.Millisecond)
	end := b.outage(t)
	time.Sleep(300 * time.Millisecond)
	end()
	limit := wait + fetchTimeout + time.Second
	var got []outcome
	select {
	case got = <-outs:
	case <-time.After(limit + 5*time.Second):
		t.Fatalf("some Do did not return within %v of the stampede's start", limit+5*time.Second)
	}
	failed := 0
	for i, o := range got {
		if o.took > limit {
			t.Errorf("caller %d took %v, beyond its wait timeout and fetch deadline (%v)", i, o.took, limit)
		}
		if o.err != nil {
			failed++
		} else if len(o.res.Value) == 0 {
			t.Errorf("caller %d got neither a value nor an error", i)
		}
	}
	t.Logf("%d of 1000 callers failed, %d upstream calls", failed, u.calls.Load())
	for i, d := range ds {
		key := fmt.Sprintf("after-%d", i)
		waitFor(t, 10*time.Second, "the driver to reconnect", func() bool {
			r, err := d.Do(context.Background(), key, u.fetch)
			return err == nil && len(r.Value) > 0
		})
	}
	// Locks and notifications work again too: a new stampede collapses, and
	// its waiters are woken over the renewed pub/sub connections.
	before := totals(ds).Notifications
	again := &upstream{delay: 200 * time.Millisecond, value: "again"}
	for i, o := range stampede(ds, 200, "after-restart", again.fetch) {
		if o.err != nil {
			t.Errorf("caller %d after the restart: %v", i, o.err)
		}
	}
	if n, woken := again.calls.Load(), totals(ds).Notifications-before; n != 1 || woken == 0 {
		t.Errorf("after the restart: %d upstream calls and %d notifications; want 1 and some", n, woken)
	}
}

// Through a ClusterClient, with the keys of one cache key in one slot and
// sharded pub/sub, a stampede makes one upstream call per key, with no
// CROSSSLOT or MOVED error, and the servers' counts agree with the drivers'.
func TestRedisCluster(t *testing.T) {
	cl := redistest.StartClusterT(t, 3)
	noLeaks(t)
	b := &backend{
		name: "cluster",
		client: func(t *testing.T) redis.UniversalClient {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), MaxRetries: -1, ContextTimeoutEnabled: true})
			t.Cleanup(func() { c.Close() })
			return c
		},
	}
	ds := newDrivers(t, b, 10, real.Options{Topology: topology(t, "two-level", level(5*time.Second, 10*time.Second, 50*time.Millisecond, locks.PolicyFail))})
	if err := ds[0].LoadScripts(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := &upstream{delay: 100 * time.Millisecond, value: "v"}
	trips, cmds := measureServers(t, cl.Addrs(), func() {
		for i, o := range stampede(ds, 1000, "hot", u.fetch) {
			if o.err != nil {
				t.Fatalf("caller %d: %v", i, o.err)
			}
		}
		if got := u.calls.Load(); got != 1 {
			t.Errorf("%d upstream calls for one key, want 1", got)
		}
		// Keys in slots of every master at once.
		keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
		outs := make(chan []outcome, len(keys))
		for _, k := range keys {
			go func() { outs <- stampede(ds, 100, k, u.fetch) }()
		}
		for range keys {
			for i, o := range <-outs {
				if o.err != nil {
					t.Errorf("caller %d: %v", i, o.err)
				}
			}
		}
		if got := u.calls.Load(); got != 1+int64(len(keys)) {
			t.Errorf("%d upstream calls for %d keys, want %d", got, 1+len(keys), 1+len(keys))
		}
		for _, d := range ds {
			d.Close()
		}
	})
	s := totals(ds)
	if s.StoreErrors != 0 || s.Notifications == 0 {
		t.Errorf("%d store errors and %d notifications; want none and some", s.StoreErrors, s.Notifications)
	}
	if trips != s.RoundTrips() || cmds != s.Commands() {
		t.Errorf("the servers saw %d requests and ran %d commands; the drivers count %d round trips and %d commands",
			trips, cmds, s.RoundTrips(), s.Commands())
	}
}
