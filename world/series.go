package world

import (
	"math"
	"strconv"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sim"
)

// seriesRec records a run's time series (Options.Series) as the run goes,
// sample by sample; reports.Series says what each series holds. The world
// tells it what happens from the few places where it happens; with the
// series off it is nil, and each of those places costs one comparison.
//
// Every slice of out holds the samples so far, the last one (index i) the
// open sample, [start, end) of simulated time. The event handler moves it
// on (advanceSeries) before it handles the first event at or after end, so
// that whatever an event does lands in the sample of its time. Past limit
// samples, the step doubles and pairs of samples merge (coarsen).
type seriesRec struct {
	out        reports.Series
	i          int
	step       sim.Time
	start, end sim.Time
	limit      int

	latency histogram // of the requests answered in the open sample, µs
	waiting uint64    // requests handed to a machine and not answered yet
	// levels follows, per level of the topology, the contenders on each
	// key: for a shared level per (store, key), from EffectContend; for the
	// node level per (node, key), from locks.Machine.NodeWaiters, which
	// nodeWaiters holds where it is not zero, by node<<32 | key.
	levels      []peak
	nodeLevel   bool
	nodeWaiters map[int64]int32
	scopes      []scopeRec
	scopeOf     [locks.MaxLevels]int // index in scopes per store scope, or -1
	// sums are the series of counts: a sample starts at 0, and two merge
	// by adding.
	sums []*[]uint64
}

// scopeRec is the store series of one store scope: its stores (indices in
// world.stores) and where their samples go.
type scopeRec struct {
	stores []int32
	out    *reports.StoreSeries
}

// peak follows the most of many counts that change one at a time, such as
// the contenders on each key, without looking at them all: keys[c] is how
// many counts are c (c >= 1), and most is the largest c with keys[c] > 0.
type peak struct {
	keys []int32
	most int
}

// change records that one count went from from to to.
func (p *peak) change(from, to int) {
	if from > 0 {
		p.keys[from]--
	}
	if to > 0 {
		for len(p.keys) <= to {
			p.keys = append(p.keys, 0)
		}
		p.keys[to]++
	}
	if to > p.most {
		p.most = to
		return
	}
	// most only goes down when the last count at most did; a count rises
	// by at most one per change on the node level and exactly one on the
	// others, so this walks no further, over the run, than most rose.
	for p.most > 0 && p.keys[p.most] == 0 {
		p.most--
	}
}

// newSeries returns the recorder of w's series, with samples of step, at
// most limit of them (reports.MaxSeriesSamples unless a test says less;
// it must be even).
func (w *world) newSeries(step sim.Time, limit int) *seriesRec {
	levels := w.topo.Levels
	r := &seriesRec{
		step: step, limit: limit,
		latency:   newHistogram(2),
		levels:    make([]peak, len(levels)),
		nodeLevel: len(levels) > 0 && levels[0].Scope == locks.ScopeNode,
	}
	r.out.StepMs = float64(step) / 1e6
	if r.nodeLevel {
		r.nodeWaiters = make(map[int64]int32)
	}
	for i := range r.scopeOf {
		r.scopeOf[i] = -1
	}
	for _, scope := range [...]locks.Scope{locks.ScopeZone, locks.ScopeRegion, locks.ScopeGlobal} {
		for _, l := range levels {
			if l.Scope != scope {
				continue
			}
			sc := scopeRec{}
			for i := range w.stores {
				if w.stores[i].scope == scope {
					sc.stores = append(sc.stores, int32(i))
				}
			}
			r.scopeOf[scope] = len(r.scopes)
			r.scopes = append(r.scopes, sc)
			r.out.Stores = append(r.out.Stores, reports.StoreSeries{Scope: scope.String(), Stores: len(sc.stores)})
		}
	}
	for i := range r.scopes {
		r.scopes[i].out = &r.out.Stores[i]
	}
	o := &r.out
	r.sums = []*[]uint64{
		&o.Requests, &o.UpstreamCalls, &o.StoreOps, &o.Errors,
		&o.Served.Hit, &o.Served.Collapsed, &o.Served.Fetched, &o.Served.Hedged, &o.Served.Stale, &o.Served.Error,
	}
	for i := range o.Stores {
		r.sums = append(r.sums, &o.Stores[i].Ops)
	}
	// Only a topology with stale-while-revalidate serves revalidating
	// replies; the others keep no such series, and their output stays as
	// it was before there was one.
	for _, l := range levels {
		if l.HardTTL > 0 && o.Served.Revalidating == nil {
			o.Served.Revalidating = []uint64{}
			r.sums = append(r.sums, &o.Served.Revalidating)
		}
	}
	o.PeakContenders = make([][]int, len(levels))
	// The samples the scenario's duration takes, so that the slices need
	// not grow until the drain after it, if at all.
	n := int(min(int64(limit), int64(w.end/step)+1))
	grow := func(s *[]uint64) { *s = make([]uint64, 0, n) }
	for _, s := range r.sums {
		grow(s)
	}
	grow(&o.UpstreamInFlight)
	grow(&o.Waiting)
	for l := range o.PeakContenders {
		o.PeakContenders[l] = make([]int, 0, n)
	}
	o.LatencyP50Ms, o.LatencyP99Ms = make([]float64, 0, n), make([]float64, 0, n)
	for i := range o.Stores {
		o.Stores[i].Utilisation = make([]float64, 0, n)
	}
	r.open(0) // the first sample, [0, step)
	return r
}

// open starts a sample after the last: counts at 0, the peaks at what they
// are now (inFlight: the upstream calls in flight).
func (r *seriesRec) open(inFlight int) {
	o := &r.out
	for _, s := range r.sums {
		*s = add(*s, 0, r.limit)
	}
	o.UpstreamInFlight = add(o.UpstreamInFlight, uint64(inFlight), r.limit)
	o.Waiting = add(o.Waiting, r.waiting, r.limit)
	for l := range o.PeakContenders {
		o.PeakContenders[l] = add(o.PeakContenders[l], r.levels[l].most, r.limit)
	}
	o.LatencyP50Ms, o.LatencyP99Ms = add(o.LatencyP50Ms, 0, r.limit), add(o.LatencyP99Ms, 0, r.limit)
	for i := range o.Stores {
		o.Stores[i].Utilisation = add(o.Stores[i].Utilisation, 0, r.limit)
	}
	r.i = len(o.Requests) - 1
	r.start, r.end = r.end, r.end+r.step
}

// add appends v to s, which holds fewer than limit samples, growing it as
// append would but never to room for more than limit: the memory of a
// series stays within its cap.
func add[T any](s []T, v T, limit int) []T {
	if len(s) == cap(s) {
		grown := make([]T, len(s), min(limit, max(2*cap(s), 16)))
		copy(grown, s)
		s = grown
	}
	return append(s, v)
}

// advanceSeries closes the open sample and opens the next until the open
// one holds now.
func (w *world) advanceSeries(now sim.Time) {
	r := w.rec
	for now >= r.end {
		w.closeSample()
		if len(r.out.Requests) >= r.limit {
			r.coarsen()
		}
		r.open(w.upInflight)
	}
}

// closeSample fills in what the open sample can only know at its end: the
// latency percentiles and the stores' utilisation.
func (w *world) closeSample() {
	r := w.rec
	if h := r.latency.all(); h.TotalCount() > 0 {
		r.out.LatencyP50Ms[r.i] = float64(h.ValueAtQuantile(50)) / 1000
		r.out.LatencyP99Ms[r.i] = float64(h.ValueAtQuantile(99)) / 1000
		h.Reset()
	}
	for _, sc := range r.scopes {
		var busiest sim.Time
		for _, i := range sc.stores {
			s := &w.stores[i]
			busiest = max(busiest, s.stepBusy+overlap(s.busyFrom, s.busyUntil, r.start, r.end))
			s.stepBusy = 0
		}
		sc.out.Utilisation[r.i] = roundSig(float64(busiest) / float64(r.step))
	}
}

// overlap returns how much of [from, until) falls in [a, b).
func overlap(from, until, a, b sim.Time) sim.Time {
	return max(0, min(until, b)-max(from, a))
}

// roundSig rounds x to four significant digits, so that a utilisation
// reads 0.01234 rather than 0.012339999999.
func roundSig(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	return v
}

// coarsen doubles the step and merges the samples pairwise, as
// reports.Series.Coarsened documents: counts add, peaks and percentiles
// take the larger, utilisations the mean. Every sample is closed when it
// runs, and there is an even number of them (limit is even).
func (r *seriesRec) coarsen() {
	o := &r.out
	for _, s := range r.sums {
		*s = merge(*s, func(a, b uint64) uint64 { return a + b })
	}
	o.UpstreamInFlight = merge(o.UpstreamInFlight, larger[uint64])
	o.Waiting = merge(o.Waiting, larger[uint64])
	for l := range o.PeakContenders {
		o.PeakContenders[l] = merge(o.PeakContenders[l], larger[int])
	}
	o.LatencyP50Ms, o.LatencyP99Ms = merge(o.LatencyP50Ms, math.Max), merge(o.LatencyP99Ms, math.Max)
	for i := range o.Stores {
		o.Stores[i].Utilisation = merge(o.Stores[i].Utilisation, func(a, b float64) float64 { return roundSig((a + b) / 2) })
	}
	// The merged samples end where the last one did (they were an even
	// number, from 0), so the next sample starts at end as before, twice
	// as long.
	r.step *= 2
	o.StepMs *= 2
	o.Coarsened++
}

// larger is the builtin max as a function value.
func larger[T int | uint64](a, b T) T { return max(a, b) }

// merge replaces each pair of samples of s by f of the two, in place.
func merge[T any](s []T, f func(a, b T) T) []T {
	for j := range len(s) / 2 {
		s[j] = f(s[2*j], s[2*j+1])
	}
	return s[:len(s)/2]
}

// finishSeries closes the series at the end of the run, at simulated time
// end, and returns them. A run that ends on a sample's boundary has no
// sample past it.
func (w *world) finishSeries(end sim.Time) *reports.Series {
	r := w.rec
	if end > 0 {
		w.advanceSeries(end - 1)
	}
	w.closeSample()
	out := r.out
	return &out
}

// The world's calls, one per place where what a series counts happens.

// seriesRequest counts a request that arrived at a node; handed says that
// the node's machine is about to get it, and it waits for a reply from
// then on. The world calls seriesHanded once the machine has had it.
func (r *seriesRec) seriesRequest(handed bool) {
	r.out.Requests[r.i]++
	if handed {
		r.waiting++
	}
}

// seriesHanded takes the peak of the requests waiting after a request was
// handed to a machine: one answered at once (a node-cache hit) never
// waited, and does not count.
func (r *seriesRec) seriesHanded() {
	r.out.Waiting[r.i] = max(r.out.Waiting[r.i], r.waiting)
}

// seriesReply counts a reply: how it was served, and its latency (µs).
func (r *seriesRec) seriesReply(served locks.Served, us int64) {
	r.waiting--
	r.served(served, 1)
	r.latency.record(us)
}

// served counts n requests served as s; errors count twice, as Errors and
// as Served.Error.
func (r *seriesRec) served(s locks.Served, n uint64) {
	o, i := &r.out, r.i
	switch s {
	case locks.ServedHit:
		o.Served.Hit[i] += n
	case locks.ServedCollapsed:
		o.Served.Collapsed[i] += n
	case locks.ServedFetched:
		o.Served.Fetched[i] += n
	case locks.ServedHedged:
		o.Served.Hedged[i] += n
	case locks.ServedStale:
		o.Served.Stale[i] += n
	case locks.ServedStaleRevalidating:
		o.Served.Revalidating[i] += n
	case locks.ServedError:
		o.Served.Error[i] += n
		o.Errors[i] += n
	}
}

// seriesFetch counts an upstream call started, with inFlight calls in
// flight now.
func (r *seriesRec) seriesFetch(inFlight int) {
	r.out.UpstreamCalls[r.i]++
	r.out.UpstreamInFlight[r.i] = max(r.out.UpstreamInFlight[r.i], uint64(inFlight))
}

// seriesContend records that the contenders on one key at level went from
// from to to.
func (r *seriesRec) seriesContend(level, from, to int) {
	p := &r.levels[level]
	p.change(from, to)
	r.out.PeakContenders[level][r.i] = max(r.out.PeakContenders[level][r.i], p.most)
}

// seriesStoreOp counts an operation that reached store s at now and
// starts at start, and, when it starts a busy period of the store (the
// store was idle), adds the busy period that ended to the store's busy
// time in the open sample.
func (r *seriesRec) seriesStoreOp(s *store, now, start sim.Time) {
	r.out.StoreOps[r.i]++
	if sc := r.scopeOf[s.scope]; sc >= 0 {
		r.scopes[sc].out.Ops[r.i]++
	}
	if start == now {
		s.stepBusy += overlap(s.busyFrom, s.busyUntil, r.start, now)
		s.busyFrom = now
	}
}

// observeNode records NodeWaiters of node id for key, after an input to
// the node that concerned key.
func (w *world) observeNode(id int32, key int) {
	r := w.rec
	if !r.nodeLevel {
		return
	}
	now := int32(w.nodes[id].m.NodeWaiters(w.keys[key]))
	k := int64(id)<<32 | int64(key)
	was := r.nodeWaiters[k]
	if now == was {
		return
	}
	if now == 0 {
		delete(r.nodeWaiters, k)
	} else {
		r.nodeWaiters[k] = now
	}
	r.seriesContend(0, int(was), int(now))
}

// seriesCrash records that node id crashed with outstanding requests
// waiting: they fail, and its flights are gone.
func (w *world) seriesCrash(id int32, outstanding uint64) {
	r := w.rec
	r.waiting -= outstanding
	r.served(locks.ServedError, outstanding)
	for k, n := range r.nodeWaiters {
		if int32(k>>32) == id {
			delete(r.nodeWaiters, k)
			r.levels[0].change(int(n), 0)
		}
	}
}
