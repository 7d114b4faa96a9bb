package real

import (
	"container/heap"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
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

	counts counters
}

// request is a caller waiting in Do.
type request struct {
	ch    chan locks.Reply[[]byte]
	fetch func(context.Context) ([]byte, error)
}

var requestPool = sync.Pool{New: func() any { return &request{ch: make(chan locks.Reply[[]byte], 1)} }}

type ownerFetch struct {
	gen   uint32
	fetch func(context.Context) ([]byte, error)
}

// fetchRun is one upstream call in progress.
type fetchRun struct {
	flight   locks.FlightID
	key      string
	cause    locks.Cause
	fn       func(context.Context) ([]byte, error)
	ctx      context.Context
	cancel   context.CancelFunc
	deadline *timerItem
	reported bool // the machine has been told how it ended (or no longer cares)
}

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
	}
	if _, err := rand.Read(mc.Seed[:]); err != nil {
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
func (d *Driver) Do(ctx context.Context, key string, fetch func(ctx context.Context) ([]byte, error)) (Result, error) {
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
	h := d.m.Request(now, id, key)
	if h.Valid() && h.Index == 0 {
		for int(h.Flight.Slot) >= len(d.owners) {
			d.owners = append(d.owners, ownerFetch{})
		}
		d.owners[h.Flight.Slot] = ownerFetch{gen: h.Flight.Gen, fetch: fetch}
	}
	b := d.collect(now, false)
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
	d.cancelLife()
	for _, s := range d.stores {
		if s != nil {
			s.subs.close()
		}
	}
	d.readWG.Wait()
	close(d.shutDown)
}

// --- feeding the machine -----------------------------------------------------

// batch is the I/O and the observer calls one input asked for, to be done
// after d.mu is released.
type batch struct {
	ops      []locks.Op[[]byte]
	drains   []*subscriber
	fetches  []*fetchRun
	contends []locks.Effect[[]byte]
	replies  []replyEvent
}

type replyEvent struct {
	served  locks.Served
	latency time.Duration
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// collect takes the machine's effects and does, under d.mu, what must be
// done in order: timers, replies, the bookkeeping of fetches, the queue of
// subscriptions. It returns the rest, or nil when there is none.
//
// A closed driver starts I/O only for inputs that come from Close itself or
// from a goroutine counted in opsWG (tracked): a lock granted to an
// operation still in flight at Close must be given back, and only counted
// goroutines may add to opsWG while Close waits for it.
func (d *Driver) collect(now locks.Time, tracked bool) *batch {
	effs := d.m.Ready()
	if len(effs) == 0 {
		return nil
	}
	io := tracked || !d.closed
	b := batchPool.Get().(*batch)
	obs := d.cfg.obs != nil
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case locks.EffectStore:
			if !io {
				continue
			}
			st := d.stores[e.Op.Scope]
			if st == nil {
				d.cfg.log.Error("store operation for a scope without a store", "op", e.Op.Kind, "scope", e.Op.Scope, "key", e.Op.Key)
				continue
			}
			d.opsWG.Add(1)
			if e.Op.Kind == locks.OpSubscribe || e.Op.Kind == locks.OpUnsubscribe {
				st.subs.enqueue(e.Op)
				b.drains = append(b.drains, st.subs)
			} else {
				b.ops = append(b.ops, e.Op)
			}
		case locks.EffectSetTimer:
			d.setMachineTimer(e.Timer, e.At)
		case locks.EffectCancelTimer:
			d.cancelMachineTimer(e.Timer)
		case locks.EffectFetch:
			if !io {
				continue
			}
			b.fetches = append(b.fetches, d.startFetch(now, e.Fetch))
			d.opsWG.Add(1)
		case locks.EffectCancelFetch:
			if fr := d.fetches[e.Fetch.Flight]; fr != nil {
				delete(d.fetches, e.Fetch.Flight)
				fr.reported = true
				d.removeTimer(fr.deadline)
				fr.cancel()
			}
		case locks.EffectReply:
			for r := range e.Replies {
				d.deliverReply(now, r, obs, b)
			}
		case locks.EffectContend:
			if obs {
				b.contends = append(b.contends, *e)
			}
		}
	}
	return b
}

// act does a batch's I/O and observer calls. Called without d.mu.
func (d *Driver) act(b *batch) {
	if b == nil {
		return
	}
	now := time.Now()
	for _, op := range b.ops {
		go d.runOp(op, now)
	}
	for _, s := range b.drains {
		go s.drain()
	}
	for _, fr := range b.fetches {
		go d.runFetch(fr)
	}
	if o := d.cfg.obs; o != nil {
		for _, e := range b.contends {
			o.Contend(int(e.Op.Level), e.Op.Key, int(e.Delta))
		}
		for _, r := range b.replies {
			o.Reply(r.served, r.latency)
		}
	}
	clear(b.ops)
	b.ops, b.drains, b.fetches, b.contends, b.replies = b.ops[:0], b.drains[:0], b.fetches[:0], b.contends[:0], b.replies[:0]
	batchPool.Put(b)
}

// input feeds one input to the machine under d.mu and acts on its effects;
// tracked says that the caller runs in a goroutine counted in opsWG. A
// killed driver feeds nothing.
func (d *Driver) input(tracked bool, feed func(now locks.Time)) {
	d.mu.Lock()
	if d.killed {
		d.mu.Unlock()
		return
	}
	now := d.now()
	feed(now)
	b := d.collect(now, tracked)
	d.mu.Unlock()
	d.act(b)
}

// --- store operations -----------------------------------------------------------

func (d *Driver) opContext(deadline locks.Time) (context.Context, context.CancelFunc) {
	if deadline == 0 {
		return context.WithTimeout(d.life, opTimeout)
	}
	return context.WithDeadline(d.life, d.wall(deadline))
}

// runOp runs op, which the machine asked for at emitted.
func (d *Driver) runOp(op locks.Op[[]byte], emitted time.Time) {
	defer d.opsWG.Done()
	ctx, cancel := d.opContext(op.Deadline)
	o := d.stores[op.Scope].run(ctx, op)
	o.emitted = emitted
	cancel()
	d.storeDone(true, op, o)
}

// storeDone counts a finished store operation and feeds its result; tracked
// says that the caller runs in a goroutine counted in opsWG. The observer is
// told once the machine has the result, with the time from the machine
// asking for the operation to then: the round trip as the protocol sees it,
// the goroutines' waits for the CPU and the driver's mutex included.
func (d *Driver) storeDone(tracked bool, op locks.Op[[]byte], o outcome) {
	d.counts.op(op.Scope, op.Kind, o)
	if o.res.Status == locks.StatusError {
		d.cfg.log.Debug("store operation failed", "op", op.Kind, "scope", op.Scope, "key", op.Key, "err", o.res.Err)
	}
	var took time.Duration
	d.input(tracked, func(now locks.Time) {
		d.m.StoreDone(now, op, o.res)
		if !o.emitted.IsZero() {
			took = time.Since(o.emitted)
		}
	})
	if obs := d.cfg.obs; obs != nil {
		obs.StoreOp(op.Scope, op.Kind, o.roundTrips, o.commands, took)
	}
}

// notified feeds a release notification.
func (d *Driver) notified(scope locks.Scope, key string) {
	d.counts.notifications.Add(1)
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	now := d.now()
	d.m.Notified(now, scope, key)
	b := d.collect(now, false)
	d.mu.Unlock()
	d.act(b)
}

// --- upstream calls ----------------------------------------------------------------

// startFetch prepares the upstream call f asks for. Called under d.mu.
func (d *Driver) startFetch(now locks.Time, f locks.Fetch) *fetchRun {
	fr := &fetchRun{flight: f.Flight, key: f.Key, cause: f.Cause}
	if req := d.reqs[f.Owner]; req != nil {
		fr.fn = req.fetch
	}
	if int(f.Flight.Slot) < len(d.owners) {
		if o := &d.owners[f.Flight.Slot]; o.gen == f.Flight.Gen && o.fetch != nil {
			if fr.fn == nil {
				fr.fn = o.fetch
			}
			o.fetch = nil // do not keep the caller's closure alive
		}
	}
	if fr.fn == nil { // cannot happen: the owner's request or its flight's record is there
		fr.fn = func(context.Context) ([]byte, error) {
			return nil, fmt.Errorf("no fetch function for request %d", f.Owner)
		}
	}
	fr.ctx, fr.cancel = context.WithTimeout(d.life, d.cfg.fetchTimeout)
	fr.deadline = &timerItem{at: now.Add(d.cfg.fetchTimeout), idx: -1, kind: timerFetch, fetch: fr}
	d.addTimer(fr.deadline)
	d.fetches[f.Flight] = fr
	d.counts.fetches.Add(1)
	return fr
}

func (d *Driver) runFetch(fr *fetchRun) {
	defer d.opsWG.Done()
	if obs := d.cfg.obs; obs != nil {
		obs.Fetch(fr.cause)
	}
	v, err := call(fr.ctx, fr.fn)
	fr.cancel()
	d.fetchDone(true, fr, v, err)
}

// call runs fn, turning a panic into an error so that one bad fetch does not
// take the process, or the flight's other callers, down with it.
func call(ctx context.Context, fn func(context.Context) ([]byte, error)) (v []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("fetch panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx)
}

// fetchDone feeds the end of an upstream call, unless the machine has
// already been told (its deadline passed, or the flight was aborted).
func (d *Driver) fetchDone(tracked bool, fr *fetchRun, v []byte, err error) {
	d.input(tracked, func(now locks.Time) {
		if fr.reported {
			return
		}
		fr.reported = true
		delete(d.fetches, fr.flight)
		d.removeTimer(fr.deadline)
		if err != nil {
			d.counts.upstreamErrors.Add(1)
		}
		d.m.Fetched(now, fr.flight, v, err)
	})
}

// --- timers ---------------------------------------------------------------------------

// timerLoop fires the timers in the heap as they come due.
func (d *Driver) timerLoop() {
	defer d.timersWG.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	var due []*timerItem
	for {
		d.mu.Lock()
		now := d.now()
		due = due[:0]
		for len(d.timers) > 0 && d.timers[0].at <= now {
			it := heap.Pop(&d.timers).(*timerItem)
			if it.kind == timerMachine {
				d.slots[it.timer.Slot()] = nil
				if !d.closed {
					d.m.Fired(now, it.timer)
				}
				continue
			}
			due = append(due, it)
		}
		var b *batch
		if !d.closed {
			b = d.collect(now, false)
		}
		next := time.Duration(-1)
		if len(d.timers) > 0 {
			next = time.Duration(d.timers[0].at - now)
		}
		d.mu.Unlock()
		d.act(b)
		for _, it := range due {
			switch it.kind {
			case timerSubscribe:
				it.sub.owner.expire(it.sub)
			case timerFetch:
				d.fetchDone(false, it.fetch, nil, fmt.Errorf("fetch did not return within %v: %w", d.cfg.fetchTimeout, context.DeadlineExceeded))
			}
		}
		if next >= 0 {
			t.Reset(next)
		}
		select {
		case <-t.C:
		case <-d.wake:
			t.Stop()
		case <-d.done:
			t.Stop()
			return
		}
	}
}

// --- counts ---------------------------------------------------------------------------------

// counters are the driver's own counts, kept with atomics so that store
// operations count without d.mu.
type counters struct {
	ops           [locks.MaxLevels][locks.NumOpKinds]atomic.Uint64
	roundTrips    [locks.MaxLevels][locks.NumOpKinds]atomic.Uint64
	commands      [locks.MaxLevels][locks.NumOpKinds]atomic.Uint64
	errors        [locks.MaxLevels][locks.NumOpKinds]atomic.Uint64
	fetches       atomic.Uint64
	notifications atomic.Uint64
	resubscribed  atomic.Uint64
	// upstreamErrors counts fetches that failed, timed out included.
	upstreamErrors atomic.Uint64
}

func (c *counters) op(scope locks.Scope, kind locks.OpKind, o outcome) {
	c.ops[scope][kind].Add(1)
	c.roundTrips[scope][kind].Add(uint64(o.roundTrips))
	c.commands[scope][kind].Add(uint64(o.commands))
	if o.res.Status == locks.StatusError {
		c.errors[scope][kind].Add(1)
	}
}

// Make sure the clients this package is written for satisfy what it uses.
var (
	_ redis.UniversalClient = (*redis.Client)(nil)
	_ redis.UniversalClient = (*redis.ClusterClient)(nil)
)

// deliverReply hands one reply to its caller, if it is still waiting, and
// records its wait. Called with d.mu held.
// deliverReply answers one request: it counts its wait, hands the reply to
// the caller blocked in Do, if it still waits, and notes it for the
// observer. Called under d.mu.
func (d *Driver) deliverReply(now locks.Time, r locks.Reply[[]byte], obs bool, b *batch) {
	latency := now.Sub(r.Since)
	if r.Served == locks.ServedCollapsed || r.Served == locks.ServedHedged || r.Served == locks.ServedStale ||
		(r.Served == locks.ServedError && r.Level >= 0) {
		d.wait.observe(latency)
	}
	if req := d.reqs[r.ID]; req != nil {
		delete(d.reqs, r.ID)
		req.ch <- r
	}
	if obs {
		b.replies = append(b.replies, replyEvent{r.Served, latency})
	}
}
