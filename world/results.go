package world

import (
	"github.com/stampsim/stampsim/internal/counting"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
)

func addStats(dst *locks.Stats, s locks.Stats) {
	dst.Requests += s.Requests
	for i := range s.Served {
		dst.Served[i] += s.Served[i]
	}
	for i := range s.Fetches {
		dst.Fetches[i] += s.Fetches[i]
	}
	dst.UpstreamErrors += s.UpstreamErrors
	for i := range s.Levels {
		d, l := &dst.Levels[i], s.Levels[i]
		d.Acquisitions += l.Acquisitions
		d.Waits += l.Waits
		d.Timeouts += l.Timeouts
		d.PeakContenders = max(d.PeakContenders, l.PeakContenders)
	}
	for i := range s.Ops {
		dst.Ops[i] += s.Ops[i]
	}
	dst.StoreErrors += s.StoreErrors
	dst.LeasesLost += s.LeasesLost
	dst.WritesRefused += s.WritesRefused
	dst.LateReplies += s.LateReplies
	dst.Refreshes += s.Refreshes
	dst.EarlyRefreshes += s.EarlyRefreshes
	dst.EarlyReads += s.EarlyReads
	for i := range s.RefreshOutcomes {
		dst.RefreshOutcomes[i] += s.RefreshOutcomes[i]
	}
}

func (w *world) results() reports.Run {
	var st locks.Stats
	var unfinished uint64
	for i := range w.nodes {
		n := &w.nodes[i]
		unfinished += uint64(n.outstanding)
		for _, ev := range n.held {
			if ev.Kind == evArrival {
				unfinished++
			}
		}
		addStats(&st, n.retired)
		if n.m != nil {
			addStats(&st, n.m.Stats())
		}
	}
	// What validate's real side counts too goes through the one builder
	// both sides use; the simulated stores and the series are the world's
	// own.
	c := counting.Counts{
		Topology: w.topo, Requests: w.requests, Unfinished: unfinished,
		Served: w.served, Upstream: w.upstream, UpstreamErrors: w.upErrorsN, DuplicatesByCause: w.duplicates,
		StoreOps: w.opsByKind, StoreErrors: w.storeErrors, LeasesLost: st.LeasesLost, WritesRefused: st.WritesRefused,
		Levels: st.Levels, Contenders: w.levelPeak, Latency: w.latency.all(),
		Refreshes: st.Refreshes, EarlyRefreshes: st.EarlyRefreshes, EarlyReads: st.EarlyReads, RefreshOutcomes: st.RefreshOutcomes,
		Events: w.eng.Executed(), SimSeconds: w.eng.Now().Duration().Seconds(),
	}
	for i := range w.stores {
		c.StoreCommands += w.stores[i].commands
	}
	// Peak store operations per second, from the per-second counts.
	for _, n := range w.opsPerSec {
		c.PeakStoreOpsPerSec = max(c.PeakStoreOpsPerSec, n)
	}
	run := c.Run()
	ms := counting.Ms
	simDur := w.eng.Now().Duration()
	for i := range w.stores {
		s := &w.stores[i]
		if s.ops == 0 {
			continue
		}
		q := counting.Quantiles(s.wait.all(), 50, 99, 100) // the 100th is the maximum (counting.Max)
		sr := reports.Store{
			Name: s.name, Scope: s.scope.String(), Ops: s.ops, Commands: s.commands,
			PeakQueue: s.peakQueue,
			QueueWaitMs: reports.QueueWait{
				Mean: round3(s.waitSum / float64(s.ops) / 1e6),
				P50:  ms(q[0]), P99: ms(q[1]), Max: ms(q[2]),
			},
		}
		if simDur > 0 {
			sr.Utilisation = round3(float64(s.busy) / float64(simDur))
		}
		run.Stores = append(run.Stores, sr)
	}
	if w.rec != nil {
		run.Series = w.finishSeries(w.eng.Now())
		run.LatencyHistogramMs = w.latency.buckets()
	}
	return run
}

// round3 rounds x to three decimals, as every mean and fraction of a
// results document is (counting.Round3).
func round3(x float64) float64 { return counting.Round3(x) }
