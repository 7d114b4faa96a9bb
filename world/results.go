package world

import (
	"math"

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
	run := reports.Run{
		Topology:             w.topo.Name,
		Requests:             w.requests,
		Unfinished:           unfinished,
		UpstreamCallsByCause: map[string]uint64{},
		DuplicatesByCause:    map[string]uint64{},
		UpstreamErrors:       w.upErrorsN,
		StoreOpsByKind:       map[string]uint64{},
		StoreErrors:          w.storeErrors,
		LeasesLost:           st.LeasesLost,
		WritesRefused:        st.WritesRefused,
		Events:               w.eng.Executed(),
		SimSeconds:           w.eng.Now().Duration().Seconds(),
	}
	for c := locks.Cause(0); c < locks.NumCauses; c++ {
		if n := w.upstream[c]; n > 0 {
			run.UpstreamCalls += n
			run.UpstreamCallsByCause[c.String()] = n
		}
		if n := w.duplicates[c]; n > 0 {
			run.DuplicateUpstreamCalls += n
			name := c.String()
			if c == locks.CauseHolder {
				name = "lease-expired" // two holders at once: a lease ran out under a live holder
			}
			run.DuplicatesByCause[name] = n
		}
	}
	for k := locks.OpKind(0); k < locks.NumOpKinds; k++ {
		if n := w.opsByKind[k]; n > 0 {
			run.StoreOps += n
			run.StoreOpsByKind[k.String()] = n
		}
	}
	run.Served = reports.Served{
		Hit: w.served[locks.ServedHit], Collapsed: w.served[locks.ServedCollapsed], Fetched: w.served[locks.ServedFetched],
		Hedged: w.served[locks.ServedHedged], Stale: w.served[locks.ServedStale], Error: w.served[locks.ServedError],
	}
	for i, l := range w.topo.Levels {
		lr := reports.Level{
			Name: l.LevelName(), Scope: l.Scope.String(),
			Acquisitions: st.Levels[i].Acquisitions, Waits: st.Levels[i].Waits, Timeouts: st.Levels[i].Timeouts,
			PeakContenders: w.levelPeak[i],
		}
		if l.Scope == locks.ScopeNode {
			lr.PeakContenders = st.Levels[i].PeakContenders
		}
		run.Levels = append(run.Levels, lr)
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	h := w.latency.all()
	run.LatencyMs = reports.Latency{
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: round3(h.Mean() / 1000),
	}
	simDur := w.eng.Now().Duration()
	for i := range w.stores {
		s := &w.stores[i]
		if s.ops == 0 {
			continue
		}
		run.StoreCommands += s.commands
		wait := s.wait.all()
		sr := reports.Store{
			Name: s.name, Scope: s.scope.String(), Ops: s.ops, Commands: s.commands,
			PeakQueue: s.peakQueue,
			QueueWaitMs: reports.QueueWait{
				Mean: round3(s.waitSum / float64(s.ops) / 1e6),
				P50:  ms(wait.ValueAtQuantile(50)), P99: ms(wait.ValueAtQuantile(99)), Max: ms(wait.Max()),
			},
		}
		if simDur > 0 {
			sr.Utilisation = round3(float64(s.busy) / float64(simDur))
		}
		run.Stores = append(run.Stores, sr)
	}
	// Peak store operations per second, from the per-second counts.
	for _, n := range w.opsPerSec {
		run.PeakStoreOpsPerSec = max(run.PeakStoreOpsPerSec, n)
	}
	if w.rec != nil {
		run.Series = w.finishSeries(w.eng.Now())
		run.LatencyHistogramMs = w.latency.buckets()
	}
	return run
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
