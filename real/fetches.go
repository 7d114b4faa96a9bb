package real

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Upstream calls. A call that callers wait for runs on a goroutine of its
// own as soon as the machine asks for it. A background refresh's call
// (stale-while-revalidate, XFetch) that nobody waits for
// (locks.Fetch.Background) may wait: refreshes run on at most
// Options.MaxRefreshes goroutines, in the order the machine asked for them,
// so that many keys going stale at once do not start as many calls against
// the origin. A request may join a refresh while its call waits in that
// queue (with a node level, one that misses the node cache past the hard
// TTL joins the key's refresh); the machine then says so
// (locks.EffectExpediteFetch), and the call leaves the queue and starts at
// once on a goroutine of its own, as a caller's call does, so that the
// caller does not wait behind other keys' refreshes. Each call is measured
// from when its function starts to when it returns, and the machine is
// given that duration (locks.Machine.FetchedIn): it is the recompute time
// XFetch keeps with the value and what the adaptive wait timeouts follow,
// and a refresh's wait in the queue is not the upstream's latency.

// ownerFetch is the fetch function of the request that started a flight.
type ownerFetch struct {
	gen   uint32
	fetch func(context.Context) ([]byte, error)
}

// fetchRun is one upstream call in progress.
type fetchRun struct {
	flight     locks.FlightID
	key        string
	cause      locks.Cause
	background bool // a refresh, run on the refresh goroutines
	// expedited: a caller joined the refresh (locks.EffectExpediteFetch),
	// so it runs on a goroutine of its own, not from the queue. Guarded
	// by refreshQueue.mu.
	expedited bool
	fn        func(context.Context) ([]byte, error)
	ctx       context.Context
	cancel    context.CancelFunc
	deadline  *timerItem
	reported  bool // the machine has been told how it ended (or no longer cares)
}

// refreshQueue holds the background refreshes waiting for a goroutine, and
// counts the goroutines that run them.
type refreshQueue struct {
	mu      sync.Mutex
	queue   []*fetchRun
	running int
	wg      sync.WaitGroup // the refresh goroutines
}

// registerOwner notes fetch as the fetch function of the flight id, for
// the upstream call the flight may ask for later. Called under d.mu.
func (d *Driver) registerOwner(id locks.FlightID, fetch func(context.Context) ([]byte, error)) {
	for int(id.Slot) >= len(d.owners) {
		d.owners = append(d.owners, ownerFetch{})
	}
	d.owners[id.Slot] = ownerFetch{gen: id.Gen, fetch: fetch}
}

// startFetch prepares the upstream call f asks for. Called under d.mu.
func (d *Driver) startFetch(now locks.Time, f locks.Fetch) *fetchRun {
	fr := &fetchRun{flight: f.Flight, key: f.Key, cause: f.Cause, background: f.Background}
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

// launchFetch runs fr: on a goroutine of its own, or, for a background
// refresh, on the refresh goroutines, unless a caller joined it before it
// got here (expedite). Called without d.mu.
func (d *Driver) launchFetch(fr *fetchRun) {
	if !fr.background {
		go d.runFetch(fr)
		return
	}
	q := &d.refreshes
	q.mu.Lock()
	if fr.expedited {
		q.mu.Unlock()
		go d.runFetch(fr)
		return
	}
	q.queue = append(q.queue, fr)
	if q.running < d.cfg.maxRefreshes {
		q.running++
		q.wg.Add(1)
		go d.refreshLoop()
	}
	q.mu.Unlock()
}

// expedite starts fr, a background refresh that a caller has joined, on a
// goroutine of its own if it still waits in the queue. One that a refresh
// goroutine has taken already runs; one whose launchFetch has not come yet
// (the two are started after d.mu is released, by different inputs) is
// marked, and launchFetch starts it at once. Called without d.mu.
func (d *Driver) expedite(fr *fetchRun) {
	q := &d.refreshes
	q.mu.Lock()
	fr.expedited = true
	i := slices.Index(q.queue, fr)
	if i >= 0 {
		q.queue = slices.Delete(q.queue, i, i+1)
	}
	q.mu.Unlock()
	if i >= 0 {
		go d.runFetch(fr)
	}
}

// refreshLoop runs queued refreshes until the queue is empty.
func (d *Driver) refreshLoop() {
	q := &d.refreshes
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		fr := q.queue[0]
		q.queue[0] = nil
		q.queue = q.queue[1:]
		q.mu.Unlock()
		d.runFetch(fr)
	}
}

func (d *Driver) runFetch(fr *fetchRun) {
	defer d.opsWG.Done()
	if obs := d.cfg.obs; obs != nil {
		obs.Fetch(fr.cause)
	}
	if err := fr.ctx.Err(); err != nil {
		// Cancelled (the flight was aborted, the driver closed) or past
		// its deadline while it waited in the refresh queue: not called.
		fr.cancel()
		d.fetchDone(true, fr, nil, err, -1)
		return
	}
	start := time.Now()
	v, err := call(fr.ctx, fr.fn)
	took := time.Since(start)
	fr.cancel()
	d.fetchDone(true, fr, v, err, took)
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

// fetchDone feeds the end of an upstream call that took took (negative:
// not measured), unless the machine has already been told (its deadline
// passed, or the flight was aborted).
func (d *Driver) fetchDone(tracked bool, fr *fetchRun, v []byte, err error, took time.Duration) {
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
		d.m.FetchedIn(now, fr.flight, v, err, took)
	})
}
