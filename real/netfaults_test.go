package real_test

// This file runs the driver under true network faults: each driver reaches
// redis-server through a proxy of its own (real/faultproxy), which slows,
// hangs or cuts its connections or loses a reply while the others carry on.
// Every scenario checks what the package promises under such faults: no
// caller waits past its deadline, no goroutine outlives the test, no lock
// outlives its lease, every caller gets a value or an error naming its cause,
// and the counts are exact.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/faultproxy"
	"github.com/stampsim/stampsim/real/redistest"
)

// netTimeout is the clients' dial, read and write timeout: what a command
// on a hung connection without a deadline of its own waits.
const netTimeout = 500 * time.Millisecond

// netNode is one driver and the proxy between its client and the server.
type netNode struct {
	proxy  *faultproxy.Proxy
	client *redis.Client
	d      *real.Driver
}

// netNodes returns n drivers for opt, each through a proxy of its own to
// srv, closed (driver, client, proxy) when t ends.
func netNodes(t *testing.T, srv *redistest.Server, n int, opt real.Options) []*netNode {
	t.Helper()
	return hookedNetNodes(t, srv, n, opt, nil)
}

// hookedNetNodes is netNodes with hook(i), when hook is not nil, added to
// the i-th driver's client.
func hookedNetNodes(t *testing.T, srv *redistest.Server, n int, opt real.Options, hook func(i int) redis.Hook) []*netNode {
	t.Helper()
	out := make([]*netNode, n)
	for i := range out {
		p, err := faultproxy.New(srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		c := redis.NewClient(&redis.Options{
			Addr: p.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true,
			DialTimeout: netTimeout, ReadTimeout: netTimeout, WriteTimeout: netTimeout,
		})
		t.Cleanup(func() { c.Close() })
		if hook != nil {
			c.AddHook(hook(i))
		}
		o := opt
		o.Clients = map[locks.Scope]redis.UniversalClient{locks.ScopeZone: c, locks.ScopeRegion: c, locks.ScopeGlobal: c}
		d, err := real.New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if err := d.LoadScripts(context.Background()); err != nil {
			t.Fatal(err)
		}
		out[i] = &netNode{proxy: p, client: c, d: d}
	}
	return out
}

// leaseWatch polls lock keys on the server directly (not through a proxy)
// and records every token it sees there, with the longest it saw the token
// hold its key without a break and the largest remaining lease, so that a
// test can show that no lock outlived its lease. A flight keeps its token
// while it waits at a level, so the same token can hold a key twice: the
// lock a lost reply took, and the one its flight takes once that lease has
// run out; each hold is measured on its own.
type leaseWatch struct {
	c    *redis.Client
	keys []string
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	tokens map[string]*sighting
	// holder is the token each key held at the last sample, "" for none.
	holder map[string]string
	err    error
}

type sighting struct {
	key string
	// from is when the token's current hold of its key began; longest the
	// longest hold seen.
	from    time.Time
	longest time.Duration
	maxTTL  time.Duration
}

func watchLeases(t *testing.T, addr string, keys ...string) *leaseWatch {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	w := &leaseWatch{c: c, keys: keys, stop: make(chan struct{}), done: make(chan struct{}), tokens: map[string]*sighting{}, holder: map[string]string{}}
	go w.run()
	t.Cleanup(func() { w.halt(); c.Close() })
	return w
}

func (w *leaseWatch) run() {
	defer close(w.done)
	ctx := context.Background()
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		for _, k := range w.keys {
			pipe := w.c.Pipeline()
			tok, ttl := pipe.Get(ctx, k), pipe.PTTL(ctx, k)
			_, err := pipe.Exec(ctx)
			now := time.Now()
			w.mu.Lock()
			// A missing key ends the hold; so does one that went between
			// the GET and the PTTL (two commands: released, or its lease
			// ran out), whose token was not seen holding it with a TTL.
			if errors.Is(err, redis.Nil) || (err == nil && ttl.Val() == -2) {
				w.holder[k] = ""
				w.mu.Unlock()
				continue
			}
			if err != nil {
				w.err = errors.Join(w.err, fmt.Errorf("watching %s: %w", k, err))
			} else {
				s := w.tokens[tok.Val()]
				if s == nil {
					s = &sighting{key: k}
					w.tokens[tok.Val()] = s
				}
				if w.holder[k] != tok.Val() {
					s.from = now
					w.holder[k] = tok.Val()
				}
				s.longest = max(s.longest, now.Sub(s.from))
				d := ttl.Val()
				if d == -1 { // a lock without an expiry
					d = time.Duration(1 << 62)
				}
				s.maxTTL = max(s.maxTTL, d)
			}
			w.mu.Unlock()
		}
	}
}

func (w *leaseWatch) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// check stops the watch and fails t if a lock was ever set to live longer
// than lease, or, when renewed is false (no holder could renew), if a token
// held its key longer than lease and slack at a stretch.
func (w *leaseWatch) check(t *testing.T, lease time.Duration, renewed bool, slack time.Duration) (tokens int) {
	t.Helper()
	w.halt()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		t.Error(w.err)
	}
	for tok, s := range w.tokens {
		if s.maxTTL > lease {
			t.Errorf("lock %s held by %s had %v left, more than its lease %v", s.key, tok, s.maxTTL, lease)
		}
		if held := s.longest; !renewed && held > lease+slack {
			t.Errorf("lock %s held by %s for %v, beyond its lease %v (and %v of slack) without renewal", s.key, tok, held, lease, slack)
		}
	}
	return len(w.tokens)
}

// noLocksLeft fails t if a key matching pattern is still on the server.
func noLocksLeft(t *testing.T, addr, pattern string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	keys, err := c.Keys(context.Background(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("locks left on the server: %q", keys)
	}
}

// checkOutcomes fails t for every caller that got neither a value nor an
// error naming its key and wrapping want, or that took longer than limit.
func checkOutcomes(t *testing.T, who string, out []outcome, key string, want error, limit time.Duration) {
	t.Helper()
	for i, o := range out {
		switch {
		case o.took > limit:
			t.Errorf("%s caller %d took %v, beyond its deadline and slack (%v)", who, i, o.took, limit)
		case want == nil && (o.err != nil || len(o.res.Value) == 0):
			t.Errorf("%s caller %d: %q, %v; want a value", who, i, o.res.Value, o.err)
		case want != nil && (!errors.Is(o.err, want) || !strings.Contains(o.err.Error(), fmt.Sprintf("%q", key))):
			t.Errorf("%s caller %d: %v; want an error naming key %q and wrapping %v", who, i, o.err, key, want)
		}
	}
}

// measureDriverTraffic is measureServers for one server that the test also
// reads directly (GET, PTTL, EXISTS, from outside scripts): those requests
// and commands are not the drivers', and are taken out. f must start those
// reads and stop them before it returns: a read made while the measure
// starts may reach the monitor and not the server's reset counts (or, at the
// end, the counts and not the monitor), which would take out commands that
// were never counted.
func measureDriverTraffic(t *testing.T, addr string, f func()) (roundTrips, commands uint64) {
	t.Helper()
	mon, err := redistest.StartMonitor(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := redistest.ResetStats(addr); err != nil {
		t.Fatal(err)
	}
	f()
	lines, err := mon.Stop()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := redistest.CommandStats(addr)
	if err != nil {
		t.Fatal(err)
	}
	var test uint64
	for _, l := range lines {
		if l.Client != "lua" && (l.Command == "get" || l.Command == "pttl" || l.Command == "exists") {
			test++
		}
	}
	return uint64(redistest.Requests(lines)) - test, redistest.Counted(stats) - test
}

// slack is what a loaded machine may add to a deadline before a test calls
// a caller late.
const slack = 700 * time.Millisecond

func TestNetworkFaults(t *testing.T) {
	srv := redistest.StartT(t)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *redistest.Server)
	}{
		{"one node's store slow or half-open", netFaultAtOneNode},
		{"reset in the middle of a script", netResetMidScript},
		{"holder partitioned beyond its lease", netPartitionedHolder},
		{"pub/sub dropped while waiting", netPubSubDropped},
	} {
		t.Run(sc.name, func(t *testing.T) {
			noLeaks(t)
			sc.run(t, srv)
		})
	}
}

// One node's round trips take longer than its wait timeout (a latency
// spike), or its connections go half-open, while it and two other nodes
// stampede a key. The other nodes collapse on one upstream call; the slow
// node's callers meet their wait timeout at the region level and get what
// its policy says, at that deadline, not when the slow round trip ends.
func netFaultAtOneNode(t *testing.T, srv *redistest.Server) {
	const wait, spike, up, lease = 200 * time.Millisecond, 400 * time.Millisecond, 100 * time.Millisecond, 2 * time.Second
	for _, fault := range []struct {
		name  string
		apply func(*faultproxy.Proxy) error
	}{
		{"latency spike", func(p *faultproxy.Proxy) error { return p.Slow(spike, 0) }},
		{"half-open", (*faultproxy.Proxy).Hang},
	} {
		for _, tc := range []struct {
			policy    locks.Policy
			wantErr   error
			wantCalls int64
		}{
			{locks.PolicyInvoke, nil, 2},
			{locks.PolicyFail, locks.ErrWaitTimeout, 1},
		} {
			t.Run(fault.name+"/"+tc.policy.String(), func(t *testing.T) {
				noLeaks(t)
				prefix := fmt.Sprintf("nf-one-%d:", time.Now().UnixNano())
				topo := func(wait time.Duration) locks.Topology {
					return locks.Topology{Name: "two-level", Levels: []locks.Level{
						// The node level waits longer, so that the region's
						// timeout, and its policy, ends the slow node's wait.
						{Scope: locks.ScopeNode, WaitTimeout: 20 * wait, OnTimeout: tc.policy},
						{Scope: locks.ScopeRegion, LeaseTTL: lease, WaitTimeout: wait, PollInterval: 20 * time.Millisecond, OnTimeout: tc.policy},
					}}
				}
				// The other nodes wait longer than the faulty one, so that a
				// loaded machine does not time their waits out too.
				ns := append(netNodes(t, srv, 1, real.Options{Topology: topo(wait), Prefix: prefix}),
					netNodes(t, srv, 2, real.Options{Topology: topo(10 * wait), Prefix: prefix})...)
				lw := watchLeases(t, srv.Addr, prefix+"region:{k}:l")
				if err := fault.apply(ns[0].proxy); err != nil {
					t.Fatal(err)
				}
				u := &upstream{delay: up, value: "v"}
				var slow, fine []outcome
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); slow = stampede([]*real.Driver{ns[0].d}, 10, "k", u.fetch) }()
				go func() { defer wg.Done(); fine = stampede([]*real.Driver{ns[1].d, ns[2].d}, 20, "k", u.fetch) }()
				wg.Wait()
				checkOutcomes(t, "slowed node's", slow, "k", tc.wantErr, wait+up+slack)
				checkOutcomes(t, "other nodes'", fine, "k", nil, up+slack)
				if got := u.calls.Load(); got != tc.wantCalls {
					t.Errorf("%d upstream calls, want %d (one holder for the other nodes, and the slowed node's hedge under invoke)", got, tc.wantCalls)
				}
				s := ns[0].d.Stats()
				if s.Requests != 10 || s.Levels[1].Timeouts != 1 {
					t.Errorf("the slowed node counts %d requests and %d region timeouts, want 10 and 1", s.Requests, s.Levels[1].Timeouts)
				}
				if err := ns[0].proxy.Heal(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, "the slowed node to work again", func() bool {
					r, err := ns[0].d.Do(context.Background(), fmt.Sprintf("after-%d", time.Now().UnixNano()), u.fetch)
					return err == nil && r.Served == locks.ServedFetched
				})
				for _, n := range ns {
					n.d.Close()
				}
				if lw.check(t, lease, true, 0) == 0 {
					t.Error("the watch saw no lock: it watched the wrong key")
				}
				noLocksLeft(t, srv.Addr, prefix+"*:l")
			})
		}
	}
}

// A read-or-acquire runs on the server, takes the lock, and its reply is
// lost with its connection. The driver sees a store error and polls again;
// the lock it took without knowing holds its key until the lease ends, then
// the same caller takes the lock afresh and fetches once. Every request the
// driver sent reached the server, which counts exactly the driver's round
// trips, and ran the lost script's commands besides the driver's.
func netResetMidScript(t *testing.T, srv *redistest.Server) {
	const lease, wait, poll = time.Second, 4 * time.Second, 300 * time.Millisecond
	prefix := fmt.Sprintf("nf-reset-%d:", time.Now().UnixNano())
	opt := real.Options{Topology: topology(t, "one-level", level(lease, wait, poll, locks.PolicyFail)), NodeCacheTTL: -1, Prefix: prefix}
	n := netNodes(t, srv, 1, opt)[0]
	lockKey := prefix + "region:{k}:l"
	u := &upstream{value: "v"}
	var o outcome
	var lw *leaseWatch
	trips, cmds := measureDriverTraffic(t, srv.Addr, func() {
		lw = watchLeases(t, srv.Addr, lockKey) // inside the measure: see measureDriverTraffic
		// Exactly the first reply is lost, however slowly the proxy passes
		// it on. (Losing replies until the lost script's lock is seen, then
		// healing, races with that reply: still inside the proxy at the
		// heal, it passes.)
		if err := n.proxy.LoseNextReply(); err != nil {
			t.Fatal(err)
		}
		o = stampede([]*real.Driver{n.d}, 1, "k", u.fetch)[0]
		n.d.Close() // every store operation has finished
		lw.halt()   // and the watch sends nothing the counts would miss
	})
	checkOutcomes(t, "the", []outcome{o}, "k", nil, wait+slack)
	if o.took < lease/2 {
		t.Errorf("the caller got its value after %v: the lock its lost script took should have held it for most of the %v lease", o.took, lease)
	}
	s := n.d.Stats()
	if s.StoreErrors != 1 || upstreamCalls(s) != 1 || s.Levels[0].Acquisitions != 1 {
		t.Errorf("%d store errors, %d upstream calls, %d acquisitions; want 1 each", s.StoreErrors, upstreamCalls(s), s.Levels[0].Acquisitions)
	}
	// The lost read-or-acquire took the lock: 5 commands the driver never
	// heard of.
	if trips != s.RoundTrips() || cmds != s.Commands()+5 {
		t.Errorf("the server saw %d requests and ran %d commands; the driver counts %d round trips and %d commands (and lost a reply worth 5)",
			trips, cmds, s.RoundTrips(), s.Commands())
	}
	// The caller's own lock lives the millisecond of its fetch, which the
	// watch may not catch; the lost script's lives its whole lease. Both
	// carry the flight's one token, and each hold is judged on its own (a
	// loaded machine, holding the second longer, once made the two read as
	// one hold of 2.2s).
	if got := lw.check(t, lease, false, 100*time.Millisecond); got == 0 {
		t.Error("the watch saw no lock: not even the lost script's")
	}
	noLocksLeft(t, srv.Addr, prefix+"*:l")
}

// A holder is cut off from its store (its connections hang) in the middle of
// its upstream call, for longer than its lease: it cannot renew, so the lock
// is free when the lease ends, and another node's callers take it and fetch.
// Once the partition ends the old holder's call returns; its callers get its
// value, and its publish, fenced older than the new holder's, is refused:
// the cache keeps the newer value.
func netPartitionedHolder(t *testing.T, srv *redistest.Server) {
	const lease, partition = 300 * time.Millisecond, 1200 * time.Millisecond
	prefix := fmt.Sprintf("nf-part-%d:", time.Now().UnixNano())
	opt := real.Options{Topology: topology(t, "two-level", level(lease, 10*time.Second, 20*time.Millisecond, locks.PolicyFail)), Prefix: prefix}
	ns := netNodes(t, srv, 2, opt)
	old, next := ns[0], ns[1]
	lw := watchLeases(t, srv.Addr, prefix+"region:{k}:l")
	release := make(chan struct{})
	oldDone := make(chan outcome, 1)
	go func() {
		oldDone <- stampede([]*real.Driver{old.d}, 5, "k", func(ctx context.Context) ([]byte, error) {
			select {
			case <-release:
				return []byte("old"), nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		})[0]
	}()
	waitFor(t, 5*time.Second, "the first holder's lock", func() bool { return old.d.Stats().Levels[1].Acquisitions == 1 })
	if err := old.proxy.Hang(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	u := &upstream{value: "new"}
	fresh := stampede([]*real.Driver{next.d}, 10, "k", u.fetch)
	checkOutcomes(t, "the other node's", fresh, "k", nil, lease+slack)
	if took := time.Since(cut); took > partition {
		t.Fatalf("the other node took %v, not done within the partition (%v)", took, partition)
	}
	time.Sleep(partition - time.Since(cut))
	if err := old.proxy.Heal(); err != nil {
		t.Fatal(err)
	}
	close(release)
	o := <-oldDone
	checkOutcomes(t, "the old holder's", []outcome{o}, "k", nil, 5*time.Second)
	if string(o.res.Value) != "old" {
		t.Errorf("the old holder's caller got %q, want its own call's %q", o.res.Value, "old")
	}
	waitFor(t, 5*time.Second, "the old holder's publish", func() bool {
		return old.d.Stats().Store[locks.ScopeRegion][locks.OpPublish].Ops == 1
	})
	s := old.d.Stats()
	if s.WritesRefused != 1 || s.LeasesLost != 1 {
		t.Errorf("the old holder counts %d refused writes and %d lost leases, want 1 each", s.WritesRefused, s.LeasesLost)
	}
	if got := u.calls.Load(); got != 1 {
		t.Errorf("the other node made %d upstream calls, want 1", got)
	}
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer admin.Close()
	if got := admin.Get(context.Background(), prefix+"region:{k}:v").Val(); !strings.HasPrefix(got, "new") {
		t.Errorf("the cache holds %q, want the newer holder's value", got)
	}
	for _, n := range ns {
		n.d.Close()
	}
	// The old holder renewed before the cut; once cut off, its token must
	// be gone within a lease of the cut, which the other node's callers,
	// done within lease+slack of it, showed. No lock ever had more than a
	// lease to live.
	lw.check(t, lease, true, 0)
	noLocksLeft(t, srv.Addr, prefix+"*:l")
}

// The server drops every pub/sub connection while a node's callers wait for
// another node's lock. The release's notification may be lost with it; the
// waiters then learn of the value from their safety-net poll, within the
// lease, and one upstream call serves everyone.
func netPubSubDropped(t *testing.T, srv *redistest.Server) {
	const lease, hold = 2 * time.Second, 300 * time.Millisecond
	prefix := fmt.Sprintf("nf-pubsub-%d:", time.Now().UnixNano())
	opt := real.Options{Topology: topology(t, "two-level", level(lease, 10*time.Second, 50*time.Millisecond, locks.PolicyFail)), Prefix: prefix}
	ns := netNodes(t, srv, 2, opt)
	holder, waiter := ns[0], ns[1]
	lw := watchLeases(t, srv.Addr, prefix+"region:{k}:l")
	release := make(chan struct{})
	holderDone := make(chan outcome, 1)
	var calls int
	go func() {
		holderDone <- stampede([]*real.Driver{holder.d}, 1, "k", func(context.Context) ([]byte, error) {
			calls++
			<-release
			return []byte("v"), nil
		})[0]
	}()
	waitFor(t, 5*time.Second, "the holder's lock", func() bool { return holder.d.Stats().Levels[1].Acquisitions == 1 })
	waiting := make(chan []outcome, 1)
	go func() {
		waiting <- stampede([]*real.Driver{waiter.d}, 10, "k", func(context.Context) ([]byte, error) { return nil, errors.New("a waiter called the upstream") })
	}()
	waitFor(t, 5*time.Second, "the waiter to subscribe", func() bool {
		return waiter.d.Stats().Store[locks.ScopeRegion][locks.OpSubscribe].Ops == 1
	})
	if _, err := redistest.Do(srv.Addr, "CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(hold)
	close(release)
	t0 := time.Now()
	out := <-waiting
	checkOutcomes(t, "the waiting node's", out, "k", nil, lease+hold+slack)
	if took := time.Since(t0); took > lease+slack {
		t.Errorf("the waiters learnt of the value %v after the release, beyond the lease (%v) their poll is bounded by", took, lease)
	}
	if o := <-holderDone; o.err != nil || calls != 1 {
		t.Errorf("the holder: %v after %d upstream calls, want a value after 1", o.err, calls)
	}
	if s := waiter.d.Stats(); upstreamCalls(s) != 0 || s.Requests != 10 {
		t.Errorf("the waiting node counts %d requests and %d upstream calls, want 10 and none", s.Requests, upstreamCalls(s))
	}
	for _, n := range ns {
		n.d.Close()
	}
	lw.check(t, lease, true, 0)
	noLocksLeft(t, srv.Addr, prefix+"*:l")
}
