package locks_test

// This file is the deterministic harness the specification tests and the fuzz
// target drive machines with: a small world of nodes (each a locks.Machine
// with a region and a zone) sharing memstore stores (one per zone, one per
// region, one global), and a queue of pending deliveries in virtual time.
//
// Every store operation travels to its store after the scope's one-way
// latency, is applied there at its arrival time, and its result travels back
// after the same latency; release notifications travel from the store to each
// subscribed node the same way. Timers, upstream completions, requests and
// cancellations are deliveries too. Deliveries addressed to a paused node are
// held back until its pause ends.
//
// The harness records every reply, every upstream call (with its cause), the
// store operations each store served, and the contenders of each (level,
// store, key) from EffectContend, and it checks on the fly what must hold in
// every run: no request is answered twice or after it was cancelled; a value
// replied was produced by an upstream call for that key that had already
// finished; an error replied is a wait timeout that had passed, an abort, or
// an upstream error that had happened; a store's accepted fence never goes
// down and equals the fence of the value it holds.

import (
	"container/heap"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
)

const ms = time.Millisecond

// at is the point d after the start of a run.
func at(d time.Duration) locks.Time { return locks.Time(d) }

// dur prints a locks.Time as the duration since the start of the run.
func dur(t locks.Time) time.Duration { return time.Duration(t) }

// place is where a node runs.
type place struct{ Region, Zone int }

// fault is what a store does with an operation.
type fault uint8

const (
	faultNone  fault = iota
	faultError       // answered StatusError without being applied
	faultDrop        // never answered
)

// worldConfig describes a world.
type worldConfig struct {
	Topology                               locks.Topology
	Nodes                                  []place
	NodeCacheTTL, SharedCacheTTL, StaleFor time.Duration
	// TTLJitter and XFetchBeta are those of Config for every machine.
	TTLJitter, XFetchBeta float64
	// Draw, if set, gives the XFetch draw of request id (RequestDrawn);
	// a request given a draw of its own (requestDrawn) keeps that.
	Draw func(id locks.ReqID) float64
	// Latency is the one-way latency between a node and its store of each
	// scope, indexed by scope (the node entry is unused).
	Latency [locks.MaxLevels]time.Duration
	// Upstream is the latency of every upstream call, unless UpstreamFn is
	// set.
	Upstream time.Duration
	// UpstreamFn decides the latency and the error of the n-th upstream
	// call (counting from 1) for key.
	UpstreamFn func(n int, key string) (time.Duration, error)
	// NodeConfig, if set, changes the configuration of node i's machine
	// (it must keep the scopes of Topology).
	NodeConfig func(i int, c *locks.Config)
	// ShareEffects makes every machine collect its effects in node 0's
	// buffers (SimHooks.ShareEffects); the world takes each input's effects
	// before the next input, as sharing requires.
	ShareEffects bool
	// KeyNumbers, if set, numbers keys in every machine
	// (SimHooks.NumberKeys), and the world checks that every operation and
	// upstream call carries the number of its key.
	KeyNumbers func(key string) int
	// RequestNumbers, with KeyNumbers, gives requests with their numbers
	// (SimHooks.RequestNumbered) and hints (SimHooks.Prefetch,
	// PrefetchFlight).
	RequestNumbers bool
	// FetchTook, if set, makes the world report each upstream call with
	// FetchedIn, its duration FetchTook of the time since it was asked for
	// (a driver that started it late); otherwise with Fetched.
	FetchTook func(elapsed time.Duration) time.Duration
	// StoreFault decides what a store does with an operation arriving at
	// now (the default: it applies it).
	StoreFault func(now locks.Time, st *store, op locks.Op[int]) fault
}

// defaultLevel is the level every test starts from.
var defaultLevel = locks.Level{
	LeaseTTL:     2 * time.Second,
	WaitTimeout:  time.Second,
	PollInterval: 50 * ms,
	Wake:         locks.WakeNotify,
}

// defaultConfig is a world of the given topology and nodes with the usual
// latencies: 0.5ms to the zone store, 1ms to the region store, 40ms to the
// global one, and an upstream that answers in 100ms.
func defaultConfig(topo locks.Topology, nodes ...place) worldConfig {
	return worldConfig{
		Topology:       topo,
		Nodes:          nodes,
		NodeCacheTTL:   10 * time.Second,
		SharedCacheTTL: time.Minute,
		Latency:        [locks.MaxLevels]time.Duration{locks.ScopeZone: ms / 2, locks.ScopeRegion: ms, locks.ScopeGlobal: 40 * ms},
		Upstream:       100 * ms,
	}
}

// builtin returns the built-in topology name with defaultLevel, changed by
// each edit in turn (which sees the level's index and scope set).
func builtin(tb testing.TB, name string, edits ...func(i int, l *locks.Level)) locks.Topology {
	tb.Helper()
	t, err := locks.Builtin(name, defaultLevel)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range t.Levels {
		for _, e := range edits {
			e(i, &t.Levels[i])
		}
	}
	if err := t.Validate(); err != nil {
		tb.Fatal(err)
	}
	return t
}

// nodesIn returns n nodes spread round-robin over regions, each region with
// zones zones.
func nodesIn(n, regions, zones int) []place {
	ps := make([]place, n)
	for i := range ps {
		ps[i] = place{Region: i % regions, Zone: i / regions % zones}
	}
	return ps
}

// store is one memstore with what it served.
type store struct {
	name          string
	scope         locks.Scope
	region, zone  int
	s             *memstore.Store[int]
	down          bool // answer every operation with StatusError
	ops           [locks.NumOpKinds]int
	commands      int
	errors        int
	dropped       int
	refused       int // publishes whose write was refused as stale
	acceptedTrail map[string][]uint64
	acquisitions  []acquisition
	publishes     []publication
	publishTTLs   []time.Duration // each publish's cache TTL (Op.TTL), beside publishes
}

// publication is a publish a store applied.
type publication struct {
	node              int
	key               string
	fence             uint64
	written, released bool
}

// acquisition is a lock a store granted.
type acquisition struct {
	node  int
	key   string
	token locks.Token
	fence uint64
	at    locks.Time
}

type node struct {
	id          int
	place       place
	m           *locks.Machine[int]
	timers      []*event // pending timer per Timer.Slot()
	pausedUntil locks.Time
	aborted     bool
	// flightSeen is when each flight of the node first named itself in an
	// effect: when it began, for a flight whose first request was
	// answered at once (a background refresh).
	flightSeen map[locks.FlightID]locks.Time
}

// reqRec is one request and what became of it.
type reqRec struct {
	id        locks.ReqID
	node      *node
	key       string
	at        locks.Time
	started   bool
	handle    locks.Handle
	cancelled bool    // Cancel returned true
	hedged    bool    // it left its flight for a hedge of its own (CauseFollowerTimeout)
	draw      float64 // XFetch's draw (RequestDrawn), or 0 for none
	replies   int
	reply     locks.Reply[int]
	repliedAt locks.Time
}

// fetchRec is one upstream call.
type fetchRec struct {
	n         int // the call's number, from 1; also the value it produces
	node      *node
	fetch     locks.Fetch
	at, done  locks.Time
	value     int
	err       error
	finished  bool
	cancelled bool // the machine sent EffectCancelFetch for it
	expedited bool // the machine sent EffectExpediteFetch for it
}

type contKey struct {
	level uint8
	st    *store
	key   string
}

type gauge struct{ cur, peak int }

type evKind uint8

const (
	evRequest evKind = iota
	evCancel
	evOpArrive
	evOpReply
	evNotify
	evTimer
	evFetchDone
	evCall
)

var evNames = [...]string{"request", "cancel", "op-arrive", "op-reply", "notify", "timer", "fetch-done", "call"}

// event is one pending delivery.
type event struct {
	at    locks.Time
	seq   uint64
	index int
	kind  evKind
	node  *node
	st    *store
	op    locks.Op[int]
	res   locks.Result[int]
	timer locks.Timer
	fetch *fetchRec
	req   *reqRec
	fn    func()
	// heldBack is set once the delivery has been held back by its node's
	// pause; due is when it was due before that.
	heldBack bool
	due      locks.Time
}

func (e *event) String() string {
	s := fmt.Sprintf("%s@%v", evNames[e.kind], dur(e.at))
	if e.node != nil {
		s += fmt.Sprintf(" node %d", e.node.id)
	}
	switch e.kind {
	case evOpArrive, evOpReply:
		s += fmt.Sprintf(" %s %s/%s seq %d", e.op.Kind, e.st.name, e.op.Key, e.op.Seq)
	case evTimer:
		s += fmt.Sprintf(" timer %d of flight %v", e.timer.Kind, e.timer.Flight)
	}
	return s
}

// target is the node a delivery is addressed to, or nil for one addressed
// to a store or to the harness.
func (e *event) target() *node {
	if e.kind == evOpArrive || e.kind == evCall {
		return nil
	}
	return e.node
}

// channel names the connection a delivery travels on, so that a driver that
// picks deliveries out of order can still keep each connection in order.
// Deliveries that are not messages (timers, upstream completions) have none.
type channel struct {
	kind  evKind
	node  int
	store string
}

func (e *event) channel() (channel, bool) {
	switch e.kind {
	case evOpArrive, evOpReply, evNotify:
		return channel{e.kind, e.node.id, e.st.name}, true
	}
	return channel{}, false
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *eventQueue) Push(x any) { e := x.(*event); e.index = len(*q); *q = append(*q, e) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.index = -1
	return e
}

// world is a set of nodes and stores, and the deliveries between them.
type world struct {
	tb     testing.TB
	cfg    worldConfig
	now    locks.Time
	seq    uint64
	q      eventQueue
	nodes  []*node
	stores []*store
	byName map[string]*store

	reqs    []*reqRec // by ReqID-1
	fetches []*fetchRec
	// joined lists, per flight, the requests that started or joined it;
	// arriving is the request whose input is being handled, if any
	// (harness_background_test.go).
	joined     map[flightKey][]*reqRec
	arriving   *reqRec
	contenders map[contKey]*gauge
	delivered  int
	// MaxDeliveries stops a run that does not settle (a livelock).
	maxDeliveries int
	// trace, when set, logs every delivery.
	trace bool
	// log, when set, is told of every delivery, effect and store operation
	// as it happens (the transcripts print them).
	log worldLog
}

// worldLog is told what happens in a world, in the order it happens.
type worldLog interface {
	// delivering is called as e is given to its node, the clock already at
	// its time. Operations arriving at a store are reported by applied
	// instead, and the harness's own calls (evCall) not at all.
	delivering(e *event)
	// effect is called for each effect n's machine produced, in order.
	effect(n *node, eff *locks.Effect[int])
	// applied is called when e's operation has reached its store: the
	// store did f with it and, unless f is faultDrop, answered res and
	// notified the nodes subs.
	applied(e *event, f fault, res locks.Result[int], subs []int32)
}

func newWorld(tb testing.TB, cfg worldConfig) *world {
	tb.Helper()
	w := &world{
		tb:            tb,
		cfg:           cfg,
		byName:        make(map[string]*store),
		contenders:    make(map[contKey]*gauge),
		maxDeliveries: 1_000_000,
	}
	for i, p := range cfg.Nodes {
		var seed [32]byte
		seed[0], seed[1] = byte(i), byte(i>>8)
		mc := locks.Config{
			Topology:       cfg.Topology,
			NodeCacheTTL:   cfg.NodeCacheTTL,
			SharedCacheTTL: cfg.SharedCacheTTL,
			StaleFor:       cfg.StaleFor,
			TTLJitter:      cfg.TTLJitter,
			XFetchBeta:     cfg.XFetchBeta,
			Seed:           seed,
		}
		if cfg.NodeConfig != nil {
			cfg.NodeConfig(i, &mc)
		}
		m, err := locks.NewMachine[int](mc)
		if err != nil {
			tb.Fatalf("node %d: %v", i, err)
		}
		if cfg.KeyNumbers != nil {
			m.SimHooks().NumberKeys(cfg.KeyNumbers)
		}
		if cfg.ShareEffects && i > 0 {
			m.SimHooks().ShareEffects(w.nodes[0].m)
		}
		n := &node{id: i, place: p, m: m}
		w.nodes = append(w.nodes, n)
		for _, l := range cfg.Topology.Levels {
			if l.Scope.Shared() {
				w.storeFor(n, l.Scope)
			}
		}
	}
	return w
}

// storeFor returns the store of scope that serves n, creating it on first
// use.
func (w *world) storeFor(n *node, scope locks.Scope) *store {
	return w.store(scope, n.place.Region, n.place.Zone)
}

// store returns the store of scope for region and zone (ignored where the
// scope does not need them).
func (w *world) store(scope locks.Scope, region, zone int) *store {
	var name string
	switch scope {
	case locks.ScopeZone:
		name = fmt.Sprintf("zone r%d/z%d", region, zone)
	case locks.ScopeRegion:
		name, zone = fmt.Sprintf("region r%d", region), 0
	case locks.ScopeGlobal:
		name, region, zone = "global", 0, 0
	default:
		w.tb.Fatalf("no store serves scope %s", scope)
	}
	st := w.byName[name]
	if st == nil {
		st = &store{name: name, scope: scope, region: region, zone: zone, s: memstore.New[int](), acceptedTrail: make(map[string][]uint64)}
		w.byName[name] = st
		w.stores = append(w.stores, st)
	}
	return st
}

func (w *world) push(e *event) {
	w.seq++
	e.seq = w.seq
	heap.Push(&w.q, e)
}

func (w *world) schedule(t locks.Time, e *event) *event {
	e.at = max(t, w.now)
	w.push(e)
	return e
}

// --- scripting ---------------------------------------------------------------

// request schedules a request for key on node n at t and returns its id.
func (w *world) request(t locks.Time, n int, key string) locks.ReqID {
	return w.requestDrawn(t, n, key, 0)
}

// requestDrawn is request with XFetch's draw u (0: none, or worldConfig.Draw's).
func (w *world) requestDrawn(t locks.Time, n int, key string, u float64) locks.ReqID {
	r := &reqRec{id: locks.ReqID(len(w.reqs) + 1), node: w.nodes[n], key: key, at: t, draw: u}
	if u == 0 && w.cfg.Draw != nil {
		r.draw = w.cfg.Draw(r.id)
	}
	w.reqs = append(w.reqs, r)
	w.schedule(t, &event{kind: evRequest, node: r.node, req: r})
	return r.id
}

// requests schedules count requests for key on node n at t.
func (w *world) requests(t locks.Time, n int, key string, count int) []locks.ReqID {
	ids := make([]locks.ReqID, count)
	for i := range ids {
		ids[i] = w.request(t, n, key)
	}
	return ids
}

// cancel schedules the cancellation of request id at t.
func (w *world) cancel(t locks.Time, id locks.ReqID) {
	r := w.req(id)
	w.schedule(t, &event{kind: evCancel, node: r.node, req: r})
}

// pause holds back every delivery to node n from t for d.
func (w *world) pause(t locks.Time, n int, d time.Duration) {
	w.at(t, func() { w.nodes[n].pausedUntil = max(w.nodes[n].pausedUntil, w.now.Add(d)) })
}

// abort schedules Machine.Abort on node n at t.
func (w *world) abort(t locks.Time, n int) {
	w.at(t, func() {
		nd := w.nodes[n]
		nd.aborted = true
		nd.m.Abort(w.now)
		w.flush(nd)
	})
}

// at runs fn at t.
func (w *world) at(t locks.Time, fn func()) { w.schedule(t, &event{kind: evCall, fn: fn}) }

// run delivers everything, in time order, until nothing is pending.
func (w *world) run() {
	w.tb.Helper()
	for len(w.q) > 0 {
		w.step()
	}
}

// runUntil delivers everything due up to t, then sets the clock to t.
func (w *world) runUntil(t locks.Time) {
	w.tb.Helper()
	for len(w.q) > 0 && w.q[0].at <= t {
		w.step()
	}
	w.now = max(w.now, t)
}

// step delivers the earliest pending delivery, or holds it back to the end
// of its node's pause.
func (w *world) step() {
	e := heap.Pop(&w.q).(*event)
	if n := e.target(); n != nil && n.pausedUntil > e.at {
		if !e.heldBack {
			e.heldBack, e.due = true, e.at
		}
		e.at = n.pausedUntil // keeps its seq: held-back deliveries stay in order
		heap.Push(&w.q, e)
		return
	}
	w.now = max(w.now, e.at)
	w.dispatch(e)
}

// deliver delivers e now, out of time order: the clock moves to e's time (or
// to the end of its node's pause) if that is later.
func (w *world) deliver(e *event) {
	heap.Remove(&w.q, e.index)
	t := e.at
	if n := e.target(); n != nil {
		t = max(t, n.pausedUntil)
	}
	w.now = max(w.now, t)
	w.dispatch(e)
}

func (w *world) dispatch(e *event) {
	w.tb.Helper()
	w.delivered++
	if w.delivered > w.maxDeliveries {
		w.tb.Fatalf("%v: more than %d deliveries: the run does not settle (pending: %d, next: %v)", dur(w.now), w.maxDeliveries, len(w.q), e)
	}
	if w.trace {
		w.tb.Logf("%v: %v", dur(w.now), e)
	}
	if w.log != nil && e.kind != evOpArrive && e.kind != evCall {
		w.log.delivering(e)
	}
	n := e.node
	switch e.kind {
	case evRequest:
		r := e.req
		r.started, r.at = true, w.now // later than asked if the node was paused
		if w.cfg.RequestNumbers && w.cfg.KeyNumbers != nil {
			// A numbering driver may give hints; they must change nothing.
			hooks := n.m.SimHooks()
			hooks.Prefetch(w.cfg.KeyNumbers(r.key))
			if r.draw != 0 {
				r.handle = hooks.RequestNumberedDrawn(w.now, r.id, r.key, w.cfg.KeyNumbers(r.key), r.draw)
			} else {
				r.handle = hooks.RequestNumbered(w.now, r.id, r.key, w.cfg.KeyNumbers(r.key))
			}
		} else if r.draw != 0 {
			r.handle = n.m.RequestDrawn(w.now, r.id, r.key, r.draw)
		} else {
			r.handle = n.m.Request(w.now, r.id, r.key)
		}
		w.noteJoined(r)
		w.arriving = r
		w.flush(n)
		w.arriving = nil
		w.checkJoined(r)
	case evCancel:
		r := e.req
		if !r.started {
			w.tb.Fatalf("%v: request %d cancelled before it arrived", dur(w.now), r.id)
		}
		ok := n.m.Cancel(w.now, r.handle)
		w.flush(n)
		if ok && r.cancelled {
			w.tb.Errorf("%v: request %d cancelled twice", dur(w.now), r.id)
		}
		r.cancelled = r.cancelled || ok
		if !r.cancelled && r.replies == 0 {
			w.tb.Errorf("%v: Cancel of request %d (node %d, key %q) reported it was not waiting, but it has had no reply", dur(w.now), r.id, n.id, r.key)
		}
	case evOpArrive:
		w.arrive(e)
	case evOpReply:
		if w.cfg.RequestNumbers {
			n.m.SimHooks().PrefetchFlight(e.op.Flight.Slot)
			n.m.SimHooks().PrefetchFlight(math.MaxUint32) // no such flight: no effect
		}
		n.m.StoreDone(w.now, e.op, e.res)
		w.flush(n)
	case evNotify:
		n.m.Notified(w.now, e.st.scope, e.op.Key)
		w.flush(n)
	case evTimer:
		slot := e.timer.Slot()
		if n.timers[slot] != e {
			w.tb.Fatalf("%v: timer %v delivered but no longer pending", dur(w.now), e)
		}
		n.timers[slot] = nil
		n.m.Fired(w.now, e.timer)
		w.flush(n)
	case evFetchDone:
		f := e.fetch
		f.done, f.finished = w.now, true
		if w.cfg.FetchTook != nil {
			n.m.FetchedIn(w.now, f.fetch.Flight, f.value, f.err, w.cfg.FetchTook(w.now.Sub(f.at)))
		} else {
			n.m.Fetched(w.now, f.fetch.Flight, f.value, f.err)
		}
		w.flush(n)
	case evCall:
		e.fn()
	}
}

// arrive applies an operation at its store and sends back the result and
// any release notifications.
func (w *world) arrive(e *event) {
	st, op, n := e.st, e.op, e.node
	st.ops[op.Kind]++
	f := faultNone
	if st.down {
		f = faultError
	} else if w.cfg.StoreFault != nil {
		f = w.cfg.StoreFault(w.now, st, op)
	}
	var res locks.Result[int]
	var subs []int32 // notified of a release or a write
	switch f {
	case faultDrop:
		st.dropped++
		if w.log != nil {
			w.log.applied(e, f, res, nil)
		}
		return
	case faultError:
		st.errors++
		res = locks.Result[int]{Status: locks.StatusError, Err: fmt.Errorf("store %s unavailable", st.name)}
	default:
		granted, before := st.s.Fence(w.now, op.Key)
		a := st.s.Apply(w.now, int32(n.id), op)
		st.commands += a.Commands
		res = a.Result
		if res.Status == locks.StatusAcquired {
			st.acquisitions = append(st.acquisitions, acquisition{n.id, op.Key, op.Token, res.Fence, w.now})
		}
		if op.Kind == locks.OpPublish {
			counter, after := st.s.Fence(w.now, op.Key)
			switch {
			case after < before:
				w.tb.Errorf("%v: %s: accepted fence of %q went down from %d to %d (publish with fence %d)", dur(w.now), st.name, op.Key, before, after, op.Fence)
			case res.Written && after != op.Fence:
				w.tb.Errorf("%v: %s: wrote %q with fence %d but accepted fence is %d", dur(w.now), st.name, op.Key, op.Fence, after)
			case !res.Written && op.Fence >= before && op.Fence <= granted:
				w.tb.Errorf("%v: %s: refused %q with fence %d, not older than the accepted %d (granted up to %d)", dur(w.now), st.name, op.Key, op.Fence, before, granted)
			case counter < after:
				w.tb.Errorf("%v: %s: accepted fence %d of %q is beyond its counter %d", dur(w.now), st.name, after, op.Key, counter)
			}
			st.publishes = append(st.publishes, publication{n.id, op.Key, op.Fence, res.Written, res.Released})
			st.publishTTLs = append(st.publishTTLs, op.TTL)
			if res.Written {
				if v, ok := st.s.Value(w.now, op.Key); !ok || v != op.Value {
					w.tb.Errorf("%v: %s: publish of %d to %q written but the store holds %d, %v", dur(w.now), st.name, op.Value, op.Key, v, ok)
				}
				st.acceptedTrail[op.Key] = append(st.acceptedTrail[op.Key], after)
			} else {
				st.refused++
			}
		}
		if a.Notify {
			subs = st.s.Subscribers(op.Key)
			for _, sub := range subs {
				w.schedule(w.now.Add(w.cfg.Latency[st.scope]), &event{kind: evNotify, node: w.nodes[sub], st: st, op: op})
			}
		}
	}
	if w.log != nil {
		w.log.applied(e, f, res, subs)
	}
	w.schedule(w.now.Add(w.cfg.Latency[st.scope]), &event{kind: evOpReply, node: n, st: st, op: op, res: res})
}

// flush carries out the effects n produced.
func (w *world) flush(n *node) {
	effects := n.m.Ready()
	for i, e := range effects {
		if w.log != nil {
			w.log.effect(n, &effects[i])
		}
		switch e.Kind {
		case locks.EffectStore, locks.EffectContend:
			w.checkKeyNumber(n, e.Kind, e.Op.Key, e.Op.KeyNum, e.Op.KeyNumbered)
		case locks.EffectFetch, locks.EffectCancelFetch, locks.EffectExpediteFetch:
			w.checkKeyNumber(n, e.Kind, e.Fetch.Key, e.Fetch.KeyNum, e.Fetch.KeyNumbered)
		}
		var flight locks.FlightID
		switch e.Kind {
		case locks.EffectStore:
			flight = e.Op.Flight
		case locks.EffectSetTimer:
			flight = e.Timer.Flight
		case locks.EffectFetch:
			flight = e.Fetch.Flight
		}
		if e.Kind == locks.EffectStore || e.Kind == locks.EffectSetTimer || e.Kind == locks.EffectFetch {
			if n.flightSeen == nil {
				n.flightSeen = make(map[locks.FlightID]locks.Time)
			}
			if _, ok := n.flightSeen[flight]; !ok {
				n.flightSeen[flight] = w.now
			}
		}
		switch e.Kind {
		case locks.EffectStore:
			if !e.Op.Scope.Shared() {
				w.tb.Fatalf("%v: node %d: store operation %s for scope %s", dur(w.now), n.id, e.Op.Kind, e.Op.Scope)
			}
			st := w.storeFor(n, e.Op.Scope)
			w.schedule(w.now.Add(w.cfg.Latency[st.scope]), &event{kind: evOpArrive, node: n, st: st, op: e.Op})
		case locks.EffectSetTimer:
			slot := e.Timer.Slot()
			for len(n.timers) <= slot {
				n.timers = append(n.timers, nil)
			}
			if old := n.timers[slot]; old != nil {
				heap.Remove(&w.q, old.index)
			}
			n.timers[slot] = w.schedule(e.At, &event{kind: evTimer, node: n, timer: e.Timer})
		case locks.EffectCancelTimer:
			slot := e.Timer.Slot()
			if slot < len(n.timers) && n.timers[slot] != nil {
				heap.Remove(&w.q, n.timers[slot].index)
				n.timers[slot] = nil
			}
		case locks.EffectFetch:
			w.checkFetch(n, e.Fetch)
			w.startFetch(n, e.Fetch)
		case locks.EffectExpediteFetch:
			w.checkExpedite(n, e.Fetch)
		case locks.EffectCancelFetch:
			for _, f := range slices.Backward(w.fetches) {
				if f.node == n && f.fetch.Flight == e.Fetch.Flight && !f.finished {
					f.cancelled = true
					break
				}
			}
		case locks.EffectReply:
			for r := range e.Replies {
				w.onReply(n, r)
			}
		case locks.EffectContend:
			k := contKey{e.Op.Level, w.storeFor(n, e.Op.Scope), e.Op.Key}
			g := w.contenders[k]
			if g == nil {
				g = &gauge{}
				w.contenders[k] = g
			}
			g.cur += int(e.Delta)
			g.peak = max(g.peak, g.cur)
			if g.cur < 0 {
				w.tb.Errorf("%v: node %d: contenders of level %d at %s for %q went below zero", dur(w.now), n.id, e.Op.Level, k.st.name, k.key)
			}
		default:
			w.tb.Fatalf("%v: node %d: unknown effect kind %d", dur(w.now), n.id, e.Kind)
		}
	}
}

// checkKeyNumber fails the test unless an effect of kind for key carries
// the key's number (num, numbered) exactly when the machine numbers keys
// (worldConfig.KeyNumbers) and numbers this one.
func (w *world) checkKeyNumber(n *node, kind locks.EffectKind, key string, num uint32, numbered bool) {
	want := -1
	if w.cfg.KeyNumbers != nil {
		want = w.cfg.KeyNumbers(key)
	}
	if got := int(num); numbered != (want >= 0) || (numbered && got != want) || (!numbered && num != 0) {
		w.tb.Fatalf("%v: node %d: effect %d for %q carries key number %d (numbered %v), want %d (-1: none)", dur(w.now), n.id, kind, key, num, numbered, want)
	}
}

func (w *world) startFetch(n *node, fe locks.Fetch) {
	f := &fetchRec{n: len(w.fetches) + 1, node: n, fetch: fe, at: w.now}
	f.value = f.n
	lat := w.cfg.Upstream
	if w.cfg.UpstreamFn != nil {
		lat, f.err = w.cfg.UpstreamFn(f.n, fe.Key)
	}
	w.fetches = append(w.fetches, f)
	w.schedule(w.now.Add(lat), &event{kind: evFetchDone, node: n, fetch: f})
}

// onReply records a reply and checks it against what has happened so far.
func (w *world) onReply(n *node, rep locks.Reply[int]) {
	fail := func(format string, args ...any) {
		w.tb.Errorf("%v: node %d: reply %+v: %s", dur(w.now), n.id, rep, fmt.Sprintf(format, args...))
	}
	if rep.ID == 0 || int(rep.ID) > len(w.reqs) {
		fail("no such request")
		return
	}
	r := w.reqs[rep.ID-1]
	r.replies++
	switch {
	case r.replies > 1:
		fail("second reply (the first was %+v at %v)", r.reply, dur(r.repliedAt))
		return
	case r.cancelled:
		fail("reply to a request cancelled before")
	case r.node != n:
		fail("request was made on node %d", r.node.id)
	case r.key != rep.Key || r.at > rep.Since || rep.Since > w.now:
		fail("request was for %q at %v", r.key, dur(r.at))
	}
	r.reply, r.repliedAt = rep, w.now
	timedOut := func() {
		levels := n.m.Topology().Levels
		if int(rep.Level) < 0 || int(rep.Level) >= len(levels) {
			fail("a timeout must name its level")
			return
		}
		// A follower times out at the node level on its own clock. At a
		// shared level the whole flight does, and the flight began with a
		// request of this node for this key no later than the earliest one
		// not answered before now (a request that joined late shares the
		// flight's fate), or, for a flight whose first request was
		// answered at once (a background refresh, which requests join
		// past the hard TTL), when the flight first named itself.
		l, began := levels[rep.Level], r.at
		if l.Scope.Shared() {
			for _, o := range w.reqs {
				if o.node == n && o.key == r.key && o.started && (o.replies == 0 || o.repliedAt == w.now) {
					began = min(began, o.at)
				}
			}
			if t, ok := n.flightSeen[r.handle.Flight]; ok && r.handle.Valid() {
				began = min(began, t)
			}
		}
		least := l.WaitTimeout
		if l.AdaptiveQuantile > 0 {
			least = min(least, l.AdaptiveFloor)
		}
		if waited := w.now.Sub(began); waited < least {
			fail("timed out at level %d after %v, before its wait timeout %v", rep.Level, waited, least)
		}
	}
	produced := func() {
		if rep.Err != nil {
			fail("served %s with an error", rep.Served)
		}
		if rep.Value < 1 || rep.Value > len(w.fetches) {
			fail("value %d was produced by no upstream call", rep.Value)
			return
		}
		f := w.fetches[rep.Value-1]
		if !f.finished || f.err != nil || f.fetch.Key != rep.Key {
			fail("value %d is not the result of a finished call for %q (call %+v)", rep.Value, rep.Key, *f)
		}
	}
	switch rep.Served {
	case locks.ServedHit, locks.ServedCollapsed, locks.ServedFetched, locks.ServedHedged, locks.ServedStaleRevalidating:
		produced()
	case locks.ServedStale:
		produced()
		timedOut()
	case locks.ServedError:
		switch {
		case rep.Err == nil:
			fail("served error without one")
		case errors.Is(rep.Err, locks.ErrWaitTimeout):
			timedOut()
		case errors.Is(rep.Err, locks.ErrAborted):
			if !n.aborted {
				fail("aborted, but the node was never aborted")
			}
		default:
			ok := false
			for _, f := range w.fetches {
				if f.finished && f.err == rep.Err && f.fetch.Key == rep.Key {
					ok = true
					break
				}
			}
			if !ok {
				fail("error %v is not the result of a finished call for %q", rep.Err, rep.Key)
			}
		}
	default:
		fail("unknown Served %d", rep.Served)
	}
}

// --- what happened ---------------------------------------------------------

func (w *world) req(id locks.ReqID) *reqRec {
	w.tb.Helper()
	if id == 0 || int(id) > len(w.reqs) {
		w.tb.Fatalf("no request %d", id)
	}
	return w.reqs[id-1]
}

// reply returns the one reply to request id, failing the test if there is
// none.
func (w *world) reply(id locks.ReqID) locks.Reply[int] {
	w.tb.Helper()
	r := w.req(id)
	if r.replies != 1 {
		w.tb.Fatalf("request %d (node %d, %q at %v) got %d replies, want 1", id, r.node.id, r.key, dur(r.at), r.replies)
	}
	return r.reply
}

// served counts the replies by how they were served.
func (w *world) served() map[locks.Served]int {
	c := make(map[locks.Served]int)
	for _, r := range w.reqs {
		if r.replies > 0 {
			c[r.reply.Served]++
		}
	}
	return c
}

// causes counts the upstream calls by cause.
func (w *world) causes() map[locks.Cause]int {
	c := make(map[locks.Cause]int)
	for _, f := range w.fetches {
		c[f.fetch.Cause]++
	}
	return c
}

// callsPerRegion counts the upstream calls made in each region.
func (w *world) callsPerRegion() map[int]int {
	c := make(map[int]int)
	for _, f := range w.fetches {
		c[f.node.place.Region]++
	}
	return c
}

// peak returns the most contenders the lock of level on key at st ever had.
func (w *world) peak(level int, st *store, key string) int {
	if g := w.contenders[contKey{uint8(level), st, key}]; g != nil {
		return g.peak
	}
	return 0
}

// nodeOps returns the store operations node n sent, by kind.
func (w *world) nodeOps(n int) map[locks.OpKind]int {
	st := w.nodes[n].m.Stats()
	out := make(map[locks.OpKind]int)
	for k, c := range st.Ops {
		if c > 0 {
			out[locks.OpKind(k)] = int(c)
		}
	}
	return out
}

// settled checks what must hold once nothing is pending: every request that
// was not cancelled got exactly one reply, no flight is left, no contender is
// counted, each machine counted what the world saw, and, unless a store
// failed (storeFailed), no lock is held and no node is subscribed in any
// store.
func (w *world) settled(storeFailed bool) {
	w.tb.Helper()
	if len(w.q) > 0 {
		w.tb.Fatalf("%v: %d deliveries still pending", dur(w.now), len(w.q))
	}
	requests := make([]uint64, len(w.nodes))
	replies := make([]uint64, len(w.nodes))
	fetches := make([]uint64, len(w.nodes))
	keys := make(map[string]bool)
	for _, r := range w.reqs {
		keys[r.key] = true
		switch {
		case !r.started:
			w.tb.Errorf("request %d never arrived", r.id)
		case r.cancelled && r.replies != 0:
			w.tb.Errorf("request %d was cancelled but got %d replies", r.id, r.replies)
		case !r.cancelled && r.replies != 1:
			w.tb.Errorf("request %d (node %d, %q at %v) got %d replies, want 1", r.id, r.node.id, r.key, dur(r.at), r.replies)
		}
		requests[r.node.id]++
		replies[r.node.id] += uint64(r.replies)
	}
	for _, f := range w.fetches {
		fetches[f.node.id]++
	}
	for _, n := range w.nodes {
		if f := n.m.InFlight(); f != 0 {
			w.tb.Errorf("node %d: %d flights left", n.id, f)
		}
		st := n.m.Stats()
		var served, fetched uint64
		for _, c := range st.Served {
			served += c
		}
		for _, c := range st.Fetches {
			fetched += c
		}
		var ended uint64
		for _, c := range st.RefreshOutcomes {
			ended += c
		}
		if ended != st.Refreshes {
			w.tb.Errorf("node %d: %d background refreshes started, %d ended (%v)", n.id, st.Refreshes, ended, st.RefreshOutcomes)
		}
		if st.Requests != requests[n.id] || served != replies[n.id] || fetched != fetches[n.id] {
			w.tb.Errorf("node %d counted %d requests, %d replies, %d upstream calls; the world saw %d, %d, %d",
				n.id, st.Requests, served, fetched, requests[n.id], replies[n.id], fetches[n.id])
		}
	}
	for k, g := range w.contenders {
		if g.cur != 0 {
			w.tb.Errorf("level %d at %s for %q: %d contenders left", k.level, k.st.name, k.key, g.cur)
		}
	}
	if storeFailed {
		return
	}
	sorted := slices.Sorted(maps.Keys(keys))
	for _, st := range w.stores {
		for _, k := range sorted {
			if tok, ok := st.s.Holder(w.now, k); ok {
				w.tb.Errorf("%v: %s: lock of %q still held by %v after every flight ended", dur(w.now), st.name, k, tok)
			}
			if subs := st.s.Subscribers(k); len(subs) > 0 {
				w.tb.Errorf("%v: %s: nodes %v still subscribed to %q after every flight ended", dur(w.now), st.name, subs, k)
			}
		}
	}
}

// describe summarises the world for failure messages.
func (w *world) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "at %v: %d requests, %d upstream calls\n", dur(w.now), len(w.reqs), len(w.fetches))
	for _, f := range w.fetches {
		fmt.Fprintf(&b, "  call %d: node %d key %q cause %s level %d at %v err %v cancelled %v\n", f.n, f.node.id, f.fetch.Key, f.fetch.Cause, f.fetch.Level, dur(f.at), f.err, f.cancelled)
	}
	return b.String()
}
