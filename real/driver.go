package real

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
)

// ErrClosed is returned by Do on a closed driver.
var ErrClosed = errors.New("driver closed")

// opTimeout bounds a store operation that carries no deadline of its own
// (an unsubscription).
const opTimeout = 5 * time.Second

// Result is what Do returns: the value and how the request was served.
type Result struct {
	// Value is the cached or fetched value. Every caller served by one
	// upstream call gets the same slice: it must not be modified.
	Value []byte
	// Served says how the request got its reply.
	Served locks.Served
}

// Driver is one node of the lock protocol against Redis. It is safe for
// concurrent use.
type Driver struct {
	cfg    config
	epoch  time.Time
	stores [locks.MaxLevels]*store // by scope; nil for the node scope and unused scopes

	life       context.Context // ends when the driver is closed; parent of every I/O
	cancelLife context.CancelFunc
	done       chan struct{} // closed to stop the timer goroutine
	shutDown   chan struct{} // closed when Close (or kill) has finished
	wake       chan struct{} // tells the timer goroutine that the earliest timer changed

	opsWG    sync.WaitGroup // store operations and fetches; Add only under mu
	timersWG sync.WaitGroup // the timer goroutine
	readWG   sync.WaitGroup // pub/sub readers

	mu        sync.Mutex
	m         *locks.Machine[[]byte]
	closed    bool
	killed    bool
	nextID    locks.ReqID
	reqs      map[locks.ReqID]*request
	owners    []ownerFetch // by flight slot: the fetch function of the flight's first request
	fetches   map[locks.FlightID]*fetchRun
	timers    timerHeap
	slots     []*timerItem // the machine's pending timers, by Timer.Slot()
	wait      histogram
	levelName []string
	// xrand draws XFetch's uniforms for Do (Options.XFetchSource); nil
	// without XFetch.
	xrand *rand.Rand
	// starter is, while a request answered at once is being collected, its
	// fetch function: a background refresh it started (its flight's first
	// effect) calls it later.
	starter   func(context.Context) ([]byte, error)
	refreshes refreshQueue

	counts counters
}

// request is a caller waiting in Do.
type request struct {
	ch    chan locks.Reply[[]byte]
	fetch func(context.Context) ([]byte, error)
}

var requestPool = sync.Pool{New: func() any { return &request{ch: make(chan locks.Reply[[]byte], 1)} }}

// New returns a driver for opt, or an error naming the option that is wrong.
func New(opt Options) (*Driver, error) {
	cfg, err := opt.resolve()
	if err != nil {
		return nil, fmt.Errorf("stampsim/real: %w", err)
	}
	mc := locks.Config{
		Topology:       cfg.topo,
		NodeCacheTTL:   cfg.nodeCacheTTL,
		SharedCacheTTL: cfg.sharedCacheTTL,
		StaleFor:       cfg.staleFor,
		TTLJitter:      cfg.ttlJitter,
		XFetchBeta:     cfg.xfetchBeta,
	}
	if _, err := crand.Read(mc.Seed[:]); err != nil {
		return nil, fmt.Errorf("stampsim/real: seeding lock tokens: %w", err)
	}
	m, err := locks.NewMachine[[]byte](mc)
	if err != nil {
		return nil, fmt.Errorf("stampsim/real: %w", err)
	}
	d := &Driver{
		cfg:      cfg,
		epoch:    time.Now(),
		done:     make(chan struct{}),
		shutDown: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		m:        m,
		reqs:     make(map[locks.ReqID]*request),
		fetches:  make(map[locks.FlightID]*fetchRun),
		wait:     newHistogram(),
	}
	if cfg.xfetchBeta > 0 {
		src := cfg.xfetchSource
		if src == nil {
			var seed [32]byte
			if _, err := crand.Read(seed[:]); err != nil {
				return nil, fmt.Errorf("stampsim/real: seeding XFetch's draws: %w", err)
			}
			src = rand.NewChaCha8(seed)
		}
		d.xrand = rand.New(src)
	}
	for _, l := range cfg.topo.Levels {
		d.levelName = append(d.levelName, l.LevelName())
		if !l.Scope.Shared() || d.stores[l.Scope] != nil {
			continue
		}
		c := opt.Clients[l.Scope]
		if c == nil {
			return nil, fmt.Errorf("stampsim/real: topology %q has a %s level but Options.Clients has no client for scope %s", cfg.topo.Name, l.LevelName(), l.Scope)
		}
		if _, ring := c.(*redis.Ring); ring {
			// A Ring shards channels by name, which one subscriber
			// connection per store cannot follow.
			return nil, fmt.Errorf("stampsim/real: the client for scope %s is a redis.Ring, which the driver does not support (use a Client, a failover Client or a ClusterClient)", l.Scope)
		}
		d.stores[l.Scope] = newStore(d, l.Scope, c, cfg.prefix)
	}
	d.life, d.cancelLife = context.WithCancel(context.Background())
	d.timersWG.Add(1)
	go d.timerLoop()
	return d, nil
}

// Topology returns the topology the driver runs, defaults filled in.
func (d *Driver) Topology() locks.Topology {
	t := d.cfg.topo
	t.Levels = append([]locks.Level(nil), t.Levels...)
	return t
}

// LoadScripts loads the driver's scripts into every store it uses (into
// every master of a Cluster), so that no EVALSHA is refused later. It is
// optional, since a refused EVALSHA falls back to EVAL, and it is set-up:
// Stats does not count it. Validation tooling calls it so that the store's
// counts hold only what the protocol did.
func (d *Driver) LoadScripts(ctx context.Context) error {
	for _, st := range d.stores {
		if st == nil {
			continue
		}
		for _, sc := range []*script{scriptReadOrAcquire, st.publish, scriptExtend, st.release} {
			sha, err := st.client.ScriptLoad(ctx, sc.src).Result()
			if err != nil {
				return fmt.Errorf("stampsim/real: loading scripts into the %s store: %w", st.scope, err)
			}
			if sha != sc.sha {
				return fmt.Errorf("stampsim/real: the %s store named a script %s, want %s", st.scope, sha, sc.sha)
			}
		}
	}
	return nil
}

func (d *Driver) now() locks.Time { return locks.Time(time.Since(d.epoch)) }

// wall returns the wall-clock moment of t.
func (d *Driver) wall(t locks.Time) time.Time { return d.epoch.Add(time.Duration(t)) }

// Do returns the value of key: from the node cache, from a shared cache, or
// from fetch, called by one caller for all the callers that want the key at
// once, as the topology arranges. fetch runs under a context of its own,
// derived from the driver's lifetime and Options.FetchTimeout, not from ctx:
// a caller that gives up does not cancel the call the others wait for.
//
// Do returns at once, with ctx's error, when ctx ends first. Errors name the
// key and wrap the cause: locks.ErrWaitTimeout (a wait timed out under the
// fail or stale policy), the fetch function's error, locks.ErrAborted (the
// driver was closed), ErrClosed, or ctx's error.
//
// A request may be served a value past its soft TTL at once
// (locks.ServedStaleRevalidating, stale-while-revalidate) or a fresh value
// that XFetch decides to refresh early; either starts a background refresh
// that calls fetch after Do has returned, under the same context rules, on
// one of the goroutines Options.MaxRefreshes bounds.
func (d *Driver) Do(ctx context.Context, key string, fetch func(ctx context.Context) ([]byte, error)) (Result, error) {
	return d.do(ctx, key, -1, fetch)
}

// DoDrawn is Do with XFetch's uniform draw u in (0, 1] given by the caller
// instead of drawn from Options.XFetchSource: validation replays the
// simulator's draws this way, request by request. A u outside (0, 1]
// never refreshes early; without XFetch it is ignored.
func (d *Driver) DoDrawn(ctx context.Context, key string, u float64, fetch func(ctx context.Context) ([]byte, error)) (Result, error) {
	if !(u > 0 && u <= 1) {
		u = 1 // the draw that never refreshes early, and keeps -1 for "draw"
	}
	return d.do(ctx, key, u, fetch)
}

// do is Do with the draw u, or -1 to draw it from d.xrand.
func (d *Driver) do(ctx context.Context, key string, u float64, fetch func(ctx context.Context) ([]byte, error)) (Result, error) {
	if fetch == nil {
		return Result{Served: locks.ServedError}, fmt.Errorf("stampsim/real: key %q: nil fetch function", key)
	}
	if key == "" || key[0] == '}' {
		return Result{Served: locks.ServedError}, fmt.Errorf("stampsim/real: key %q: must not be empty or start with '}', which would empty its hash tag", key)
	}
	if err := ctx.Err(); err != nil {
		return Result{Served: locks.ServedError}, fmt.Errorf("stampsim/real: key %q: %w", key, err)
	}
	req := requestPool.Get().(*request)
	req.fetch = fetch

	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		req.fetch = nil
		requestPool.Put(req)
		return Result{Served: locks.ServedError}, fmt.Errorf("stampsim/real: key %q: %w", key, ErrClosed)
	}
	d.nextID++
	id := d.nextID
	d.reqs[id] = req
	now := d.now()
	if u < 0 {
		u = 1
		if d.xrand != nil {
			u = 1 - d.xrand.Float64() // in (0, 1]
		}
	}
	h := d.m.RequestDrawn(now, id, key, u)
	switch {
	case h.Valid() && h.Index == 0:
		d.registerOwner(h.Flight, fetch)
	case !h.Valid():
		// Answered at once; a refresh it started names its flight in
		// collect.
		d.starter = fetch
	}
	b := d.collect(now, false)
	d.starter = nil
	d.mu.Unlock()
	d.act(b)

	select {
	case r := <-req.ch:
		req.fetch = nil
		requestPool.Put(req)
		return d.result(key, r)
	case <-ctx.Done():
	}
	d.mu.Lock()
	if _, waiting := d.reqs[id]; waiting {
		delete(d.reqs, id)
		var b *batch
		if !d.closed {
			now := d.now()
			d.m.Cancel(now, h)
			b = d.collect(now, false)
		}
		d.mu.Unlock()
		d.act(b)
		req.fetch = nil
		requestPool.Put(req)
		return Result{Served: locks.ServedError}, fmt.Errorf("stampsim/real: key %q: %w", key, ctx.Err())
	}
	d.mu.Unlock()
	// The reply was delivered while ctx ended: it is in the channel.
	r := <-req.ch
	req.fetch = nil
	requestPool.Put(req)
	return d.result(key, r)
}

func (d *Driver) result(key string, r locks.Reply[[]byte]) (Result, error) {
	res := Result{Value: r.Value, Served: r.Served}
	if r.Err == nil {
		return res, nil
	}
	if r.Level >= 0 && int(r.Level) < len(d.levelName) {
		return res, fmt.Errorf("stampsim/real: key %q: level %s: %w", key, d.levelName[r.Level], r.Err)
	}
	return res, fmt.Errorf("stampsim/real: key %q: %w", key, r.Err)
}

// Close aborts every flight (its callers get locks.ErrAborted and the locks
// it holds are released), cancels the upstream calls in progress and waits
// for them and for every store operation to return, stops the timers and
// closes the pub/sub connections. It does not close the clients. Close is
// idempotent: a second call waits for the first to finish.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		<-d.shutDown
		return nil
	}
	now := d.now()
	d.m.Abort(now)
	b := d.collect(now, true)
	d.closed = true
	d.failWaiting(locks.ErrAborted)
	d.mu.Unlock()
	d.act(b)
	d.shutdown()
	return nil
}

// kill stops the driver as if its process had died: callers get
// locks.ErrAborted, and nothing more reaches the stores, so the locks it
// holds stay until their leases end.
func (d *Driver) kill() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		<-d.shutDown
		return
	}
	d.closed, d.killed = true, true
	for _, fr := range d.fetches {
		fr.reported = true
		fr.cancel()
	}
	d.failWaiting(locks.ErrAborted)
	d.mu.Unlock()
	d.cancelLife()
	d.shutdown()
}

// failWaiting answers every caller still waiting. Called under d.mu.
func (d *Driver) failWaiting(err error) {
	for id, req := range d.reqs {
		delete(d.reqs, id)
		req.ch <- locks.Reply[[]byte]{ID: id, Served: locks.ServedError, Err: err, Level: -1}
	}
}

func (d *Driver) shutdown() {
	close(d.done)
	d.timersWG.Wait()
	d.opsWG.Wait()
	d.refreshes.wg.Wait() // every refresh they ran is done: only their exits are left
	d.cancelLife()
	for _, s := range d.stores {
		if s != nil {
			s.subs.close()
		}
	}
	d.readWG.Wait()
	close(d.shutDown)
}

// Make sure the clients this package is written for satisfy what it uses.
var (
	_ redis.UniversalClient = (*redis.Client)(nil)
	_ redis.UniversalClient = (*redis.ClusterClient)(nil)
)
