package real_test

// This file holds the scenarios that run against every store (the embedded
// miniredis, a redis-server, a Redis Cluster) and the helpers they share.
// Every loop in it is bounded: a wait polls at most until a deadline, and a
// stampede runs a fixed number of callers.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// noLeaks makes t fail if a goroutine started during t outlives it. Call it
// first, so that its check runs after every other cleanup.
func noLeaks(t *testing.T) {
	t.Helper()
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
}

// backend is a store the scenarios run against.
type backend struct {
	name string
	// client returns a new client, closed when t ends.
	client func(t *testing.T) redis.UniversalClient
	// outage makes every request fail until end is called.
	outage func(t *testing.T) (end func())
	// measure returns the round trips and commands the store saw from
	// clients while f ran; nil when the store cannot tell.
	measure func(t *testing.T, f func()) (roundTrips, commands uint64)
}

// level returns a level with the timings the scenarios use, or those of
// DefaultLevel where zero.
func level(lease, wait, poll time.Duration, policy locks.Policy) locks.Level {
	l := real.DefaultLevel
	l.OnTimeout = policy
	if lease > 0 {
		l.LeaseTTL = lease
	}
	if wait > 0 {
		l.WaitTimeout = wait
	}
	if poll > 0 {
		l.PollInterval = poll
	}
	return l
}

func topology(t *testing.T, name string, l locks.Level) locks.Topology {
	t.Helper()
	topo, err := locks.Builtin(name, l)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// newDriver returns a driver for opt on a new client of b for every shared
// scope, closed when t ends.
func newDriver(t *testing.T, b *backend, opt real.Options) *real.Driver {
	t.Helper()
	c := b.client(t)
	opt.Clients = map[locks.Scope]redis.UniversalClient{locks.ScopeZone: c, locks.ScopeRegion: c, locks.ScopeGlobal: c}
	d, err := real.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func newDrivers(t *testing.T, b *backend, n int, opt real.Options) []*real.Driver {
	ds := make([]*real.Driver, n)
	for i := range ds {
		ds[i] = newDriver(t, b, opt)
	}
	return ds
}

// upstream is a fetch function that counts its calls and takes delay.
type upstream struct {
	calls atomic.Int64
	delay time.Duration
	value string
}

func (u *upstream) fetch(ctx context.Context) ([]byte, error) {
	n := u.calls.Add(1)
	t := time.NewTimer(u.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return fmt.Appendf(nil, "%s#%d", u.value, n), nil
}

// outcome is what one Do returned.
type outcome struct {
	res  real.Result
	err  error
	took time.Duration
}

// stampede runs callers concurrent Do calls for key, spread over ds in turn,
// and returns what each returned.
func stampede(ds []*real.Driver, callers int, key string, fetch func(context.Context) ([]byte, error)) []outcome {
	out := make([]outcome, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			r, err := ds[i%len(ds)].Do(context.Background(), key, fetch)
			out[i] = outcome{r, err, time.Since(t0)}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// waitFor polls cond every millisecond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func totals(ds []*real.Driver) (s real.Stats) {
	for _, d := range ds {
		x := d.Stats()
		s.Requests += x.Requests
		for i := range x.Served {
			s.Served[i] += x.Served[i]
		}
		for i := range x.UpstreamCalls {
			s.UpstreamCalls[i] += x.UpstreamCalls[i]
		}
		for sc := range x.Store {
			for k := range x.Store[sc] {
				s.Store[sc][k].Ops += x.Store[sc][k].Ops
				s.Store[sc][k].RoundTrips += x.Store[sc][k].RoundTrips
				s.Store[sc][k].Commands += x.Store[sc][k].Commands
				s.Store[sc][k].Errors += x.Store[sc][k].Errors
			}
		}
		s.Hedges += x.Hedges
		s.StoreErrors += x.StoreErrors
		s.Notifications += x.Notifications
	}
	return s
}

func upstreamCalls(s real.Stats) (n uint64) {
	for _, c := range s.UpstreamCalls {
		n += c
	}
	return n
}

// --- scenarios ---------------------------------------------------------------

// 1,000 concurrent callers of one key on 10 nodes make one upstream call
// when the topology has a shared level, one per node with node-only. (With
// one-level every caller is a flight of its own that polls the store, which
// the embedded miniredis, running a fresh Lua interpreter per script, serves
// slowly under the race detector: 200 callers show the same.)
func scenarioStampede(t *testing.T, b *backend) {
	for _, tc := range []struct {
		topology string
		callers  int
		want     int64
	}{
		{"two-level", 1000, 1},
		{"one-level", 200, 1},
		{"node-only", 1000, 10},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			noLeaks(t)
			ds := newDrivers(t, b, 10, real.Options{Topology: topology(t, tc.topology, level(5*time.Second, 10*time.Second, 50*time.Millisecond, locks.PolicyFail))})
			u := &upstream{delay: 100 * time.Millisecond, value: "v"}
			for i, o := range stampede(ds, tc.callers, "hot-"+tc.topology, u.fetch) {
				if o.err != nil {
					t.Fatalf("caller %d: %v", i, o.err)
				}
			}
			if got := u.calls.Load(); got != tc.want {
				t.Errorf("%d upstream calls, want %d", got, tc.want)
			}
			s := totals(ds)
			if s.Hedges != 0 || s.StoreErrors != 0 {
				t.Errorf("%d hedges and %d store errors, want none", s.Hedges, s.StoreErrors)
			}
		})
	}
}

// An uncontended miss with two-level costs 2 round trips, a shared-cache hit
// 1 and a node-cache hit none, by the driver's counts and by the store's.
func scenarioRoundTripBudget(t *testing.T, b *backend) {
	noLeaks(t)
	opt := real.Options{Topology: topology(t, "two-level", level(0, 0, 0, locks.PolicyInvoke))}
	a, c := newDriver(t, b, opt), newDriver(t, b, opt)
	if err := a.LoadScripts(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := &upstream{value: "v"}
	for _, step := range []struct {
		name        string
		d           *real.Driver
		served      locks.Served
		trips, cmds uint64
	}{
		{name: "uncontended miss", d: a, served: locks.ServedFetched, trips: 2, cmds: 5 + 8},
		{name: "shared-cache hit", d: c, served: locks.ServedHit, trips: 1, cmds: 2},
		{name: "node-cache hit", d: a, served: locks.ServedHit, trips: 0, cmds: 0},
	} {
		before := totals([]*real.Driver{a, c})
		var res real.Result
		var err error
		run := func() {
			res, err = step.d.Do(context.Background(), "budget", u.fetch)
			// The publish runs after the reply: let it finish.
			waitFor(t, 5*time.Second, "the store operations to finish", func() bool {
				return totals([]*real.Driver{a, c}).Store[locks.ScopeRegion][locks.OpPublish].Ops == 1
			})
		}
		var srvTrips, srvCmds uint64
		if b.measure != nil {
			srvTrips, srvCmds = b.measure(t, run)
		} else {
			run()
		}
		if err != nil || res.Served != step.served {
			t.Fatalf("%s: served %v, %v; want %v", step.name, res.Served, err, step.served)
		}
		after := totals([]*real.Driver{a, c})
		trips, cmds := after.RoundTrips()-before.RoundTrips(), after.Commands()-before.Commands()
		if trips != step.trips || cmds != step.cmds {
			t.Errorf("%s: the drivers count %d round trips and %d commands, want %d and %d", step.name, trips, cmds, step.trips, step.cmds)
		}
		if b.measure != nil && (srvTrips != step.trips || srvCmds != step.cmds) {
			t.Errorf("%s: the store saw %d requests and ran %d commands, want %d and %d", step.name, srvTrips, srvCmds, step.trips, step.cmds)
		}
	}
}

// The fence counter and the accepted fence expire like everything else the
// driver writes, at locks.FenceTTL (the longer of lease and cache TTL) after
// they were last set: once a key's value and lock are gone, nothing of it is
// left behind in the store.
func scenarioFenceTTL(t *testing.T, b *backend) {
	noLeaks(t)
	const lease, cacheTTL = 200 * time.Millisecond, 400 * time.Millisecond
	opt := real.Options{Topology: topology(t, "one-level", level(lease, 0, 0, locks.PolicyInvoke)), SharedCacheTTL: cacheTTL, Prefix: "fence-ttl:"}
	d := newDriver(t, b, opt)
	u := &upstream{value: "v"}
	if _, err := d.Do(context.Background(), "k", u.fetch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the publish", func() bool {
		return d.Stats().Store[locks.ScopeRegion][locks.OpPublish].Ops == 1
	})
	c := b.client(t)
	ctx := context.Background()
	fenceTTL := locks.FenceTTL(locks.Level{LeaseTTL: lease}, cacheTTL)
	for _, part := range []string{"f", "w", "v"} {
		key := "fence-ttl:region:{k}:" + part
		ttl, err := c.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > fenceTTL {
			t.Errorf("%s: TTL %v, want one in (0, %v]", key, ttl, fenceTTL)
		}
	}
	waitFor(t, 5*time.Second, "every key to expire", func() bool {
		keys, err := c.Keys(ctx, "fence-ttl:*").Result()
		return err == nil && len(keys) == 0
	})
}

// A holder whose process dies keeps its lock until the lease ends; then the
// others take it and fetch, without waiting for their wait timeout.
func scenarioDeadHolder(t *testing.T, b *backend) {
	noLeaks(t)
	const lease = 500 * time.Millisecond
	opt := real.Options{Topology: topology(t, "two-level", level(lease, 10*time.Second, 50*time.Millisecond, locks.PolicyFail))}
	dead := newDriver(t, b, opt)
	others := newDrivers(t, b, 3, opt)

	blocked := make(chan struct{})
	deadDone := make(chan error, 1)
	go func() {
		_, err := dead.Do(context.Background(), "orphan", func(ctx context.Context) ([]byte, error) {
			select {
			case <-blocked:
			case <-ctx.Done(): // the process died
			}
			return nil, errors.New("the dead node's fetch never finishes")
		})
		deadDone <- err
	}()
	waitFor(t, 5*time.Second, "the doomed node to take the lock", func() bool {
		s := dead.Stats()
		return s.Levels[1].Acquisitions == 1
	})
	dead.Kill()
	if err := <-deadDone; !errors.Is(err, locks.ErrAborted) {
		t.Errorf("the dead node's caller got %v, want %v", err, locks.ErrAborted)
	}
	close(blocked)

	u := &upstream{value: "fresh"}
	t0 := time.Now()
	for i, o := range stampede(others, 60, "orphan", u.fetch) {
		if o.err != nil {
			t.Fatalf("caller %d: %v", i, o.err)
		}
	}
	if took := time.Since(t0); took < lease/2 {
		t.Errorf("the others finished after %v, before the orphaned lease (%v) could have ended", took, lease)
	}
	if got := u.calls.Load(); got != 1 {
		t.Errorf("%d upstream calls after the holder died, want 1", got)
	}
	if s := totals(others); s.Hedges != 0 {
		t.Errorf("%d hedges: the others waited for their timeout instead of the lease", s.Hedges)
	}
}

// A holder that outlived its lease publishes with an older fence and a
// token that no longer holds the lock: its value is written (no newer one
// was), and the new holder's lock stays in place.
func scenarioStaleToken(t *testing.T, b *backend) {
	noLeaks(t)
	l := level(200*time.Millisecond, 10*time.Second, 20*time.Millisecond, locks.PolicyFail)
	l.NoRenew = true
	opt := real.Options{Topology: topology(t, "one-level", l), NodeCacheTTL: -1}
	first, second := newDriver(t, b, opt), newDriver(t, b, opt)
	admin := b.client(t)
	ctx := context.Background()
	lockKey := "stampsim:region:{stale}:l"

	release1, release2 := make(chan struct{}), make(chan struct{})
	done1, done2 := make(chan outcome, 1), make(chan outcome, 1)
	go func() {
		r, err := first.Do(ctx, "stale", func(context.Context) ([]byte, error) { <-release1; return []byte("first"), nil })
		done1 <- outcome{res: r, err: err}
	}()
	waitFor(t, 5*time.Second, "the first holder", func() bool { return first.Stats().Levels[0].Acquisitions == 1 })
	go func() {
		r, err := second.Do(ctx, "stale", func(context.Context) ([]byte, error) { <-release2; return []byte("second"), nil })
		done2 <- outcome{res: r, err: err}
	}()
	waitFor(t, 5*time.Second, "the second holder, once the first lease ran out", func() bool { return second.Stats().Levels[0].Acquisitions == 1 })
	secondToken, err := admin.Get(ctx, lockKey).Result()
	if err != nil {
		t.Fatalf("reading the second holder's lock: %v", err)
	}

	close(release1)
	if o := <-done1; o.err != nil || string(o.res.Value) != "first" {
		t.Fatalf("first holder: %q, %v", o.res.Value, o.err)
	}
	waitFor(t, 5*time.Second, "the first holder's publish", func() bool {
		return first.Stats().Store[locks.ScopeRegion][locks.OpPublish].Ops == 1
	})
	if got, err := admin.Get(ctx, lockKey).Result(); err != nil || got != secondToken {
		t.Errorf("after the stale holder published, the lock holds %q (%v), want the second holder's %q", got, err, secondToken)
	}
	close(release2)
	if o := <-done2; o.err != nil || string(o.res.Value) != "second" {
		t.Fatalf("second holder: %q, %v", o.res.Value, o.err)
	}
	waitFor(t, 5*time.Second, "the second holder's publish", func() bool {
		return second.Stats().Store[locks.ScopeRegion][locks.OpPublish].Ops == 1
	})
	if n, err := admin.Exists(ctx, lockKey).Result(); err != nil || n != 0 {
		t.Errorf("the second holder's publish left the lock in place (%d, %v)", n, err)
	}
	if got, _ := admin.Get(ctx, "stampsim:region:{stale}:v").Result(); got != "second" {
		t.Errorf("the cache holds %q, want the newer fence's %q", got, "second")
	}
}

// During an outage callers apply their level's policy within its wait
// timeout; when the store is back, the driver works again by itself.
func scenarioOutage(t *testing.T, b *backend) {
	const wait = 300 * time.Millisecond
	for _, tc := range []struct {
		policy locks.Policy
		// served says how the flight's owner and its followers are served.
		owner, follower locks.Served
		err             error
	}{
		{locks.PolicyInvoke, locks.ServedHedged, locks.ServedCollapsed, nil},
		{locks.PolicyFail, locks.ServedError, locks.ServedError, locks.ErrWaitTimeout},
		{locks.PolicyStale, locks.ServedStale, locks.ServedStale, nil},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			noLeaks(t)
			topo := locks.Topology{Name: "two-level", Levels: []locks.Level{
				// The node level waits longer, so that only the region's
				// timeout, and its policy, ends the waits.
				{Scope: locks.ScopeNode, WaitTimeout: 10 * wait, OnTimeout: tc.policy},
				{Scope: locks.ScopeRegion, LeaseTTL: time.Second, WaitTimeout: wait, PollInterval: 50 * time.Millisecond, OnTimeout: tc.policy},
			}}
			opt := real.Options{Topology: topo, NodeCacheTTL: 50 * time.Millisecond, StaleFor: time.Minute}
			ds := newDrivers(t, b, 2, opt)
			u := &upstream{value: "v"}
			for _, d := range ds { // every node cache holds the value
				if _, err := d.Do(context.Background(), "k", u.fetch); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(60 * time.Millisecond) // and it goes stale
			end := b.outage(t)
			owners := 0
			for i, o := range stampede(ds, 20, "k", u.fetch) {
				if o.res.Served == tc.owner {
					owners++
				}
				if (o.res.Served != tc.owner && o.res.Served != tc.follower) || !errors.Is(o.err, tc.err) || (tc.err == nil) != (o.err == nil) {
					t.Errorf("caller %d during the outage: served %v, %v; want %v or %v, %v", i, o.res.Served, o.err, tc.owner, tc.follower, tc.err)
				}
				if limit := wait + time.Second; o.took > limit {
					t.Errorf("caller %d took %v, beyond its wait timeout %v and a second of slack", i, o.took, wait)
				}
			}
			if tc.owner != tc.follower && owners != len(ds) {
				t.Errorf("%d callers served %v, want one per node (%d)", owners, tc.owner, len(ds))
			}
			end()
			waitFor(t, 10*time.Second, "the driver to work again", func() bool {
				r, err := ds[1].Do(context.Background(), fmt.Sprintf("after-%d", time.Now().UnixNano()), u.fetch)
				return err == nil && r.Served == locks.ServedFetched
			})
		})
	}
}

// A cancelled Do returns at once, even as the flight's owner; the flight
// goes on, with the owner's fetch function, for the others.
func scenarioCancel(t *testing.T, b *backend) {
	noLeaks(t)
	d := newDriver(t, b, real.Options{Topology: topology(t, "two-level", level(0, 0, 0, locks.PolicyFail))})
	release := make(chan struct{})
	ownerFetch := func(ctx context.Context) ([]byte, error) {
		select {
		case <-release:
			return []byte("owner's"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ownerDone := make(chan error, 1)
	go func() {
		_, err := d.Do(ctx, "c", ownerFetch)
		ownerDone <- err
	}()
	waitFor(t, 5*time.Second, "the owner's fetch", func() bool { return upstreamCalls(d.Stats()) == 1 })
	followerDone := make(chan outcome, 1)
	go func() {
		r, err := d.Do(context.Background(), "c", func(context.Context) ([]byte, error) { return []byte("follower's"), nil })
		followerDone <- outcome{res: r, err: err}
	}()
	waitFor(t, 5*time.Second, "the follower to wait", func() bool { return d.Stats().Waiting == 2 })
	cancel()
	if err := <-ownerDone; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled owner got %v, want %v", err, context.Canceled)
	}
	// The owner returned while its fetch was still blocked: at once.
	close(release)
	o := <-followerDone
	if o.err != nil || string(o.res.Value) != "owner's" || o.res.Served != locks.ServedCollapsed {
		t.Errorf("the follower got %q served %v (%v), want the owner's fetch, collapsed", o.res.Value, o.res.Served, o.err)
	}
}
