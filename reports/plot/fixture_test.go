package plot

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

// The fixtures are real results documents of the built-ins, written by
// `stampsim run BUILTIN -o json` before the world filled the finer series
// (schema v1: per-second series, no latency histogram). synthSeries gives
// them plausible v2 series and a histogram, derived from each run's own
// totals, so that every figure can be drawn from realistic numbers.

// loadFixture reads testdata/NAME.
func loadFixture(t testing.TB, name string) *reports.Results {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var res reports.Results
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &res
}

// withSynthSeries returns the fixture NAME with synthSeries applied to
// every run.
func withSynthSeries(t testing.TB, name string, stepMs float64) *reports.Results {
	t.Helper()
	key := fmt.Sprintf("%s@%gms", name, stepMs)
	synthMu.Lock()
	data, ok := synthCache[key]
	if !ok {
		res := loadFixture(t, name)
		for i := range res.Runs {
			synthSeries(res, &res.Runs[i], stepMs)
		}
		var err error
		if data, err = json.Marshal(res); err != nil {
			synthMu.Unlock()
			t.Fatal(err)
		}
		synthCache[key] = data
	}
	synthMu.Unlock()
	// Each caller gets a copy of its own to change.
	var res reports.Results
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

// synthCache holds the fixtures with synthetic series, as JSON, by file and
// step: making them is a good part of a test's time.
var (
	synthMu    sync.Mutex
	synthCache = map[string][]byte{}
)

// synthSeries replaces r's series by ones of step stepMs consistent with
// its totals: requests arrive as the scenario's bursts say; each is
// answered after a latency drawn from a log-normal with the run's p50 and
// p99 (the unfinished never are); upstream calls start at the first
// arrivals (none: with every request); contenders, store operations and
// store load follow the number of requests waiting, scaled to the run's
// peaks and totals.
func synthSeries(res *reports.Results, r *reports.Run, stepMs float64) {
	n := int(math.Ceil(r.SimSeconds * 1000 / stepMs))
	rng := rand.New(rand.NewPCG(uint64(len(r.Topology)), 7))
	s := &reports.Series{StepMs: stepMs}
	zeros := func() []uint64 { return make([]uint64, n) }
	s.Requests, s.UpstreamCalls, s.UpstreamInFlight, s.StoreOps = zeros(), zeros(), zeros(), zeros()
	s.Waiting, s.Errors = zeros(), zeros()
	s.Served = reports.ServedSeries{Hit: zeros(), Collapsed: zeros(), Fetched: zeros(), Hedged: zeros(), Stale: zeros(), Error: zeros()}
	s.LatencyP50Ms, s.LatencyP99Ms = make([]float64, n), make([]float64, n)

	// Arrivals, in ms, as the bursts spread them.
	var arrivals []float64
	for _, b := range res.Spec.Workload.Bursts {
		at, over := float64(b.At)/1e6, float64(b.Over)/1e6
		for k := range b.Requests {
			arrivals = append(arrivals, at+over*float64(k)/float64(b.Requests))
		}
	}
	step := func(tMs float64) int { return min(n-1, int(tMs/stepMs)) }
	for _, a := range arrivals {
		s.Requests[step(a)]++
	}

	// Latencies: log-normal through p50 and p99 (z of p99 is 2.326).
	mu := math.Log(math.Max(r.LatencyMs.P50, 0.05))
	sigma := math.Max(0.05, (math.Log(math.Max(r.LatencyMs.P99, 0.1))-mu)/2.326)
	finished := len(arrivals) - int(r.Unfinished)
	perStep := make([][]float64, n)
	served := zeros()
	var all []float64
	for k, a := range arrivals {
		if k >= finished {
			continue // the latest arrivals are the unfinished ones
		}
		lat := math.Exp(mu + sigma*rng.NormFloat64())
		i := step(a + lat)
		served[i]++
		perStep[i] = append(perStep[i], lat)
		all = append(all, lat)
	}
	for i := range n {
		slices.Sort(perStep[i])
		if m := len(perStep[i]); m > 0 {
			s.LatencyP50Ms[i] = perStep[i][m/2]
			s.LatencyP99Ms[i] = perStep[i][min(m-1, m*99/100)]
		}
	}
	r.LatencyHistogramMs = histogram(all)

	// Served by kind: the run's split of replies, step by step.
	total := float64(r.Served.Hit + r.Served.Collapsed + r.Served.Fetched + r.Served.Hedged + r.Served.Stale + r.Served.Error)
	for i, v := range served {
		if total == 0 {
			break
		}
		f := float64(v) / total
		s.Served.Hit[i] = uint64(math.Round(f * float64(r.Served.Hit)))
		s.Served.Collapsed[i] = uint64(math.Round(f * float64(r.Served.Collapsed)))
		s.Served.Fetched[i] = uint64(math.Round(f * float64(r.Served.Fetched)))
	}

	// Waiting: arrived and not yet answered.
	arrived, answered := 0.0, 0.0
	maxWait := 0.0
	waiting := make([]float64, n)
	for i := range n {
		arrived += float64(s.Requests[i])
		answered += float64(served[i])
		waiting[i] = arrived - answered
		s.Waiting[i] = uint64(waiting[i])
		maxWait = math.Max(maxWait, waiting[i])
	}
	sumWait := 0.0
	for _, w := range waiting {
		sumWait += w
	}

	// Upstream calls: none calls with every request (a share of them);
	// the others when the first requests reach the outermost lock.
	first := step(slices.Min(arrivals))
	if len(r.Levels) == 0 {
		share := float64(r.UpstreamCalls) / float64(len(arrivals))
		left := r.UpstreamCalls
		for i := range n {
			c := min(left, uint64(math.Round(float64(s.Requests[i])*share)))
			s.UpstreamCalls[i] = c
			left -= c
		}
		s.UpstreamCalls[first] += left
	} else {
		delay := 2 + 2*len(r.Levels)
		for k := range r.UpstreamCalls {
			s.UpstreamCalls[min(n-1, first+delay+int(k)%3)]++
		}
	}
	window := int(math.Ceil(200 / stepMs))
	for i := range n {
		var inFlight uint64
		for j := max(0, i-window); j <= i; j++ {
			inFlight += s.UpstreamCalls[j]
		}
		s.UpstreamInFlight[i] = min(inFlight, 64)
	}

	// Contenders per level and store load follow the waiting requests.
	for _, l := range r.Levels {
		c := make([]int, n)
		for i, w := range waiting {
			if maxWait > 0 {
				c[i] = int(math.Round(w / maxWait * float64(l.PeakContenders)))
			}
		}
		s.PeakContenders = append(s.PeakContenders, c)
	}
	scopes := map[string]*reports.StoreSeries{}
	var order []string
	for _, st := range r.Stores {
		ss, ok := scopes[st.Scope]
		if !ok {
			ss = &reports.StoreSeries{Scope: st.Scope, Ops: zeros(), Utilisation: make([]float64, n)}
			scopes[st.Scope] = ss
			order = append(order, st.Scope)
		}
		ss.Stores++
		for i, w := range waiting {
			if sumWait == 0 {
				break
			}
			ops := uint64(math.Round(float64(st.Ops) * w / sumWait))
			ss.Ops[i] += ops
			s.StoreOps[i] += ops
			// 7 us an operation (service time and overhead).
			ss.Utilisation[i] = math.Max(ss.Utilisation[i], math.Min(1, float64(ops)*0.007/stepMs))
		}
	}
	for _, sc := range order {
		s.Stores = append(s.Stores, *scopes[sc])
	}
	r.Series = s
}

// histogram buckets vs (ms) geometrically, 10 buckets a decade from 1 us.
func histogram(vs []float64) *reports.Histogram {
	if len(vs) == 0 {
		return nil
	}
	h := &reports.Histogram{Bounds: []float64{0}}
	for b := 1e-3; b < 1e7; b *= math.Pow(10, 0.1) {
		h.Bounds = append(h.Bounds, b)
	}
	h.Counts = make([]uint64, len(h.Bounds)-1)
	for _, v := range vs {
		i, _ := slices.BinarySearch(h.Bounds, v)
		h.Counts[max(0, min(len(h.Counts)-1, i-1))]++
	}
	return h
}
