// Package counting is what both sides of a validation count a run with: the
// simulator (package world) and the real drivers' observer (package
// validate) feed their counters to one Counts, which assembles the results
// document's reports.Run, and find duplicate upstream calls with one
// Duplicates. validate compares two sides, so each figure must be counted
// and assembled by the same code on both.
//
// It must not run, simulate or time anything: its callers count, and pass
// the time.
package counting

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
)

// Counts is what one side counted in one run of one topology. Each side
// fills what it counts; Run assembles the results document's entry.
type Counts struct {
	// Topology is the topology that ran: its name and levels, which Levels
	// and Contenders are indexed by.
	Topology locks.Topology
	// Requests counts the requests given; Unfinished those still waiting
	// when the run stopped.
	Requests, Unfinished uint64
	// Served counts the replies by how they were served.
	Served [locks.NumServed]uint64
	// Upstream counts the upstream calls by cause; UpstreamErrors those
	// that failed.
	Upstream       [locks.NumCauses]uint64
	UpstreamErrors uint64
	// DuplicatesByCause counts the duplicate upstream calls (Duplicates)
	// by the cause of the call; UncausedDuplicates those whose cause the
	// side does not know (the real side sees a call's cause and its key
	// apart).
	DuplicatesByCause  [locks.NumCauses]uint64
	UncausedDuplicates uint64
	// StoreOps counts the store round trips by operation kind, and
	// StoreCommands the commands they ran, as INFO commandstats counts them.
	StoreOps      [locks.NumOpKinds]uint64
	StoreCommands uint64
	// PeakStoreOpsPerSec is the most round trips in one second of the run.
	PeakStoreOpsPerSec uint64
	// StoreErrors counts the operations that failed; LeasesLost and
	// WritesRefused are the machines' counts (locks.Stats).
	StoreErrors, LeasesLost, WritesRefused uint64
	// Refreshes, RefreshOutcomes, EarlyRefreshes and EarlyReads are the
	// machines' counts of background refreshes (locks.Stats).
	Refreshes, EarlyRefreshes, EarlyReads uint64
	RefreshOutcomes                       [locks.NumOutcomes]uint64
	// Levels are the machines' counts per level of Topology, summed over
	// nodes, PeakContenders the most of any node (the node level's largest
	// flight; see locks.LevelStats).
	Levels [locks.MaxLevels]locks.LevelStats
	// Contenders is, per shared level of Topology, the most flights of all
	// nodes that held or waited for one lock at once (the sum of the
	// machines' EffectContend on one key in one store).
	Contenders [locks.MaxLevels]int
	// Latency is the requests' latency in microseconds, or nil.
	Latency *hdrhistogram.Histogram
	// Events counts the simulator's events (0 on the real side), and
	// SimSeconds the time the run covered.
	Events     uint64
	SimSeconds float64
}

// Run returns the results document's entry for c: the counts as they are,
// totals summed from their parts, maps holding only the causes and kinds
// that occurred, a level per level of the topology (its peak contenders the
// node level's largest flight, or the shared level's contention), and the
// latency percentiles in milliseconds. A duplicate made by a lock holder is
// named lease-expired: two holders at once, because a lease ran out under a
// live holder. The simulator adds what only it measures (Stores, Series)
// and both the wall-clock time.
func (c *Counts) Run() reports.Run {
	run := reports.Run{
		Topology:             c.Topology.Name,
		Requests:             c.Requests,
		Unfinished:           c.Unfinished,
		UpstreamCallsByCause: map[string]uint64{},
		DuplicatesByCause:    map[string]uint64{},
		UpstreamErrors:       c.UpstreamErrors,
		StoreOpsByKind:       map[string]uint64{},
		StoreCommands:        c.StoreCommands,
		PeakStoreOpsPerSec:   c.PeakStoreOpsPerSec,
		StoreErrors:          c.StoreErrors,
		LeasesLost:           c.LeasesLost,
		WritesRefused:        c.WritesRefused,
		Events:               c.Events,
		SimSeconds:           c.SimSeconds,
	}
	run.DuplicateUpstreamCalls = c.UncausedDuplicates
	for cause := locks.Cause(0); cause < locks.NumCauses; cause++ {
		if n := c.Upstream[cause]; n > 0 {
			run.UpstreamCalls += n
			run.UpstreamCallsByCause[cause.String()] = n
		}
		if n := c.DuplicatesByCause[cause]; n > 0 {
			run.DuplicateUpstreamCalls += n
			name := cause.String()
			if cause == locks.CauseHolder {
				name = "lease-expired"
			}
			run.DuplicatesByCause[name] = n
		}
	}
	for k := locks.OpKind(0); k < locks.NumOpKinds; k++ {
		if n := c.StoreOps[k]; n > 0 {
			run.StoreOps += n
			run.StoreOpsByKind[k.String()] = n
		}
	}
	s := &c.Served
	run.Served = reports.Served{
		Hit: s[locks.ServedHit], Collapsed: s[locks.ServedCollapsed], Fetched: s[locks.ServedFetched],
		Hedged: s[locks.ServedHedged], Stale: s[locks.ServedStale], Error: s[locks.ServedError],
		Revalidating: s[locks.ServedStaleRevalidating],
	}
	if c.Refreshes > 0 {
		o := &c.RefreshOutcomes
		run.Refreshes = &reports.Refreshes{
			Started: c.Refreshes, Early: c.EarlyRefreshes, EarlyReads: c.EarlyReads,
			Refreshed: o[locks.OutcomeRefreshed], Superseded: o[locks.OutcomeSuperseded], Failed: o[locks.OutcomeFailed],
		}
	}
	for i, l := range c.Topology.Levels {
		st := c.Levels[i]
		lr := reports.Level{
			Name: l.LevelName(), Scope: l.Scope.String(),
			Acquisitions: st.Acquisitions, Waits: st.Waits, Timeouts: st.Timeouts,
			PeakContenders: c.Contenders[i],
		}
		if !l.Scope.Shared() {
			lr.PeakContenders = st.PeakContenders
		}
		run.Levels = append(run.Levels, lr)
	}
	if h := c.Latency; h != nil {
		// The 100th percentile is the maximum (see Max).
		q := Quantiles(h, 50, 90, 99, 99.9, 100)
		run.LatencyMs = reports.Latency{
			P50: Ms(q[0]), P90: Ms(q[1]), P99: Ms(q[2]), P999: Ms(q[3]), Max: Ms(q[4]), Mean: Round3(Mean(h) / 1000),
		}
	}
	return run
}

// Ms returns us microseconds in milliseconds.
func Ms(us int64) float64 { return float64(us) / 1000 }

// Round3 rounds x to three decimals: the means and fractions of a results
// document, to a microsecond when x is in milliseconds.
func Round3(x float64) float64 { return math.Round(x*1000) / 1000 }
