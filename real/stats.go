package real

import (
	"sync/atomic"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// WaitBuckets are the upper bounds, in seconds, of the wait-duration
// histogram's buckets (a last bucket, +Inf, holds the rest), as Prometheus
// writes them.
var WaitBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram is a histogram with fixed buckets.
type Histogram struct {
	// Bounds are the buckets' upper bounds in seconds (WaitBuckets).
	Bounds []float64
	// Counts holds the observations per bucket, not cumulative:
	// Counts[i] is the number of values v with Bounds[i-1] < v <= Bounds[i],
	// and Counts[len(Bounds)] those above the last bound.
	Counts []uint64
	// Count is the number of observations and Sum their total in seconds.
	Count uint64
	Sum   float64
}

type histogram struct{ h Histogram }

func newHistogram() histogram {
	return histogram{Histogram{Bounds: WaitBuckets, Counts: make([]uint64, len(WaitBuckets)+1)}}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(h.h.Bounds) && s > h.h.Bounds[i] {
		i++
	}
	h.h.Counts[i]++
	h.h.Count++
	h.h.Sum += s
}

func (h *histogram) snapshot() Histogram {
	out := h.h
	out.Counts = append([]uint64(nil), h.h.Counts...)
	return out
}

// LevelStats counts what happened at one level of the driver's topology.
type LevelStats struct {
	// Name is the level's name and Scope its scope.
	Name  string
	Scope locks.Scope
	// Acquisitions counts locks taken (node level: flights started).
	Acquisitions uint64
	// Waits counts flights (node level: requests) that found the lock held
	// and waited.
	Waits uint64
	// Timeouts counts waits that timed out.
	Timeouts uint64
	// PeakContenders is, for the node level, the most requests one flight
	// had at once (shared levels span drivers: see Observer.Contend).
	PeakContenders int
	// WaitTimeout is the level's wait timeout now: its configured one, or,
	// for an adaptive level (locks.Level.AdaptiveQuantile), the quantile of
	// the upstream calls the driver has measured, within its bounds.
	WaitTimeout time.Duration
}

// OpStats counts the store operations of one kind on one store.
type OpStats struct {
	// Ops counts the operations the machine asked for that have finished.
	Ops uint64
	// RoundTrips counts the requests sent for them: a script call is one (two
	// when the server had lost its script cache and EVALSHA was refused), a
	// SUBSCRIBE is one. Connection set-up is not counted.
	RoundTrips uint64
	// Commands counts the commands the store ran, as INFO commandstats
	// counts them: a script call and every command it ran.
	Commands uint64
	// Errors counts operations that failed.
	Errors uint64
}

// Stats is what a driver has counted since it was made.
type Stats struct {
	// Topology is the topology's name; Levels has one entry per level.
	Topology string
	Levels   []LevelStats
	// Requests counts calls of Do that reached the machine, and Served
	// splits them by how they were served.
	Requests uint64
	Served   [locks.NumServed]uint64
	// UpstreamCalls counts fetches started, by cause; UpstreamErrors those
	// that failed or passed their deadline.
	UpstreamCalls  [locks.NumCauses]uint64
	UpstreamErrors uint64
	// Hedges counts upstream calls made without the lock after a wait timed
	// out (causes node-follower-timeout, waiter-timeout and store-error).
	Hedges uint64
	// StaleServes counts requests served the node cache's expired value.
	StaleServes uint64
	// Refreshes counts the background refreshes started
	// (stale-while-revalidate, XFetch) and RefreshOutcomes how those that
	// ended did, by locks.Outcome; EarlyRefreshes counts those an XFetch
	// draw started at the node cache, EarlyReads the shared-cache reads
	// that the store answered as due for an early refresh.
	Refreshes       uint64
	RefreshOutcomes [locks.NumOutcomes]uint64
	EarlyRefreshes  uint64
	EarlyReads      uint64
	// Store counts the store operations by scope and kind.
	Store [locks.MaxLevels][locks.NumOpKinds]OpStats
	// StoreErrors counts store operations that failed; LeasesLost leases a
	// holder found gone while it fetched; WritesRefused cache writes refused
	// because a newer fence had written; LateReplies replies, timers and
	// upstream results that arrived after their flight had moved on.
	StoreErrors   uint64
	LeasesLost    uint64
	WritesRefused uint64
	LateReplies   uint64
	// Notifications counts release notifications received; Resubscribed
	// counts subscription confirmations no operation asked for, which go-redis
	// causes when it subscribes again after a reconnection (those SUBSCRIBE
	// requests are not in RoundTrips).
	Notifications uint64
	Resubscribed  uint64
	// InFlight is the number of flights in progress and Waiting the number
	// of callers blocked in Do, when the snapshot was taken.
	InFlight int
	Waiting  int
	// WaitDuration holds, for every request that waited for a lock (served
	// collapsed, hedged or stale, or failed by a wait timeout), the time from
	// its arrival to its reply.
	WaitDuration Histogram
}

// RoundTrips returns the requests sent to all stores.
func (s *Stats) RoundTrips() uint64 {
	var n uint64
	for i := range s.Store {
		for _, o := range s.Store[i] {
			n += o.RoundTrips
		}
	}
	return n
}

// Commands returns the commands all stores ran for the driver.
func (s *Stats) Commands() uint64 {
	var n uint64
	for i := range s.Store {
		for _, o := range s.Store[i] {
			n += o.Commands
		}
	}
	return n
}

// Stats returns a snapshot of what the driver has counted.
func (d *Driver) Stats() Stats {
	d.mu.Lock()
	ms := d.m.Stats()
	var waits [locks.MaxLevels]time.Duration
	for i := range d.cfg.topo.Levels {
		waits[i] = d.m.WaitTimeout(i)
	}
	s := Stats{
		Topology:     d.cfg.topo.Name,
		InFlight:     d.m.InFlight(),
		Waiting:      len(d.reqs),
		WaitDuration: d.wait.snapshot(),
	}
	d.mu.Unlock()
	for i, l := range d.cfg.topo.Levels {
		s.Levels = append(s.Levels, LevelStats{
			Name: l.LevelName(), Scope: l.Scope,
			Acquisitions: ms.Levels[i].Acquisitions, Waits: ms.Levels[i].Waits, Timeouts: ms.Levels[i].Timeouts,
			PeakContenders: ms.Levels[i].PeakContenders, WaitTimeout: waits[i],
		})
	}
	s.Requests = ms.Requests
	s.Served = ms.Served
	s.UpstreamCalls = ms.Fetches
	s.UpstreamErrors = d.counts.upstreamErrors.Load()
	s.Hedges = ms.Fetches[locks.CauseFollowerTimeout] + ms.Fetches[locks.CauseWaiterTimeout] + ms.Fetches[locks.CauseStoreError]
	s.StaleServes = ms.Served[locks.ServedStale]
	s.Refreshes, s.RefreshOutcomes = ms.Refreshes, ms.RefreshOutcomes
	s.EarlyRefreshes, s.EarlyReads = ms.EarlyRefreshes, ms.EarlyReads
	for sc := range s.Store {
		for k := range s.Store[sc] {
			s.Store[sc][k] = OpStats{
				Ops:        d.counts.ops[sc][k].Load(),
				RoundTrips: d.counts.roundTrips[sc][k].Load(),
				Commands:   d.counts.commands[sc][k].Load(),
				Errors:     d.counts.errors[sc][k].Load(),
			}
		}
	}
	s.StoreErrors = ms.StoreErrors
	s.LeasesLost = ms.LeasesLost
	s.WritesRefused = ms.WritesRefused
	s.LateReplies = ms.LateReplies
	s.Notifications = d.counts.notifications.Load()
	s.Resubscribed = d.counts.resubscribed.Load()
	return s
}

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
