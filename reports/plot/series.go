package plot

import (
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/stampsim/stampsim/reports"
)

// v1StepMs is the step of a series in a results document written before
// series had a step (schema v1): one sample a second.
const v1StepMs = 1000

// stepMs is the width of one sample of s in milliseconds.
func stepMs(s *reports.Series) float64 {
	if s.StepMs > 0 {
		return s.StepMs
	}
	return v1StepMs
}

// hasSeries says whether run r has time series with at least one sample.
func hasSeries(r *reports.Run) bool {
	return r.Series != nil && len(r.Series.Requests) > 0
}

// timeAxis is the time axis of the time-series figures: the span shown
// and the unit that suits it.
type timeAxis struct {
	// startMs and endMs bound the span shown, in milliseconds of
	// simulated time; durationMs is the scenario's.
	startMs, endMs, durationMs float64
	// perMs converts milliseconds into the axis' unit.
	perMs float64
	label string
}

// newTimeAxis chooses the span and unit of the time axis. The span is the
// scenario's duration when it is known (the drain after it, where some
// topologies run on, is cut and the notes say so), else the longest
// series; narrowed to when anything happened (requests arrived, upstream
// calls started, store round trips, contenders) when that is a small part
// of it, so that a 100 ms stampede in a 5 s run is not a sliver. The unit
// is milliseconds up to two seconds shown, else seconds.
func newTimeAxis(res *reports.Results) timeAxis {
	end := 0.0
	if res.Spec != nil && res.Spec.Duration > 0 {
		end = float64(res.Spec.Duration) / 1e6
	}
	if end == 0 {
		for i := range res.Runs {
			if s := res.Runs[i].Series; s != nil {
				end = math.Max(end, float64(len(s.Requests))*stepMs(s))
			}
		}
	}
	if end <= 0 {
		end = 1000
	}
	t := timeAxis{endMs: end, durationMs: end}
	first, last, ok := activity(res)
	// A fault's whole span is shown, even where nothing else happened:
	// what it did not disturb is worth seeing too.
	for _, f := range faultsOf(res) {
		first, last, ok = math.Min(first, f.startMs), math.Max(last, f.endMs), true
	}
	if ok && first < end {
		last = math.Min(last, end)
		pad := math.Max((last-first)*0.1, 0)
		// Round outwards to a twentieth of the span in 1-2-5 steps, so the
		// span reads as round times.
		unit := roundStep((last - first + 2*pad) / 20)
		lo := math.Max(0, math.Floor((first-pad)/unit)*unit)
		hi := math.Min(end, math.Ceil((last+pad)/unit)*unit)
		// Cut only what is worth it: a narrow window is easier to read,
		// an axis that starts at zero easier to place.
		if lo > 0.1*end {
			t.startMs = lo
		}
		if hi < 0.9*end {
			t.endMs = hi
		}
	}
	if t.endMs-t.startMs <= 2000 {
		t.perMs, t.label = 1, "simulated time (ms)"
	} else {
		t.perMs, t.label = 1e-3, "simulated time (s)"
	}
	return t
}

// activity is the time span, in ms, from the start of the first step to
// the end of the last step in which any run was active (runActivity); ok
// is false when none was.
func activity(res *reports.Results) (first, last float64, ok bool) {
	first, last = math.Inf(1), math.Inf(-1)
	for i := range res.Runs {
		if f, l, ok := runActivity(&res.Runs[i]); ok {
			first, last = math.Min(first, f), math.Max(last, l)
		}
	}
	return first, last, first <= last
}

// runActivity is the time span, in ms, from the start of the first step to
// the end of the last step in which r had a request arrive, an upstream
// call start, a store round trip start or a lock contender; ok is false
// when it had none. Requests waiting do not count: a topology that cannot
// answer them would stretch the span to its end.
func runActivity(r *reports.Run) (first, last float64, ok bool) {
	s := r.Series
	if s == nil {
		return 0, 0, false
	}
	active := func(k int) bool {
		for _, vs := range [][]uint64{s.Requests, s.UpstreamCalls, s.StoreOps} {
			if k < len(vs) && vs[k] > 0 {
				return true
			}
		}
		for _, c := range s.PeakContenders {
			if k < len(c) && c[k] > 0 {
				return true
			}
		}
		return false
	}
	k0, k1 := -1, -1
	for k := range len(s.Requests) {
		if active(k) {
			if k0 < 0 {
				k0 = k
			}
			k1 = k
		}
	}
	if k0 < 0 {
		return 0, 0, false
	}
	step := stepMs(s)
	return float64(k0) * step, float64(k1+1) * step, true
}

// apply sets the x axis of p to the span of t.
func (t timeAxis) apply(p *gplot.Plot) {
	p.X.Label.Text = t.label
	p.X.Min = t.startMs * t.perMs
	p.X.Max = t.endMs * t.perMs
	p.X.Tick.Marker = linearTicks{n: 10, label: trimFloat}
}

// window is the range of samples of step step (ms) inside the span of t.
func (t timeAxis) window(n int, step float64) (lo, hi int) {
	lo = min(n, max(0, int(math.Floor(t.startMs/step))))
	hi = min(n, int(math.Ceil(t.endMs/step)))
	return lo, max(lo, hi)
}

// points returns the samples of ys that fall in the span of t as points in
// the axis' unit, mapped by f (onto a scale), for a line. Each sample is
// drawn as a level across its step, as the count of a bucket is (and a
// series of one sample is still a line); more samples than two per column
// of cols are decimated instead, where a step would be narrower than a
// pixel.
func (t timeAxis) points(ys []float64, step float64, cols int, f func(float64) float64) plotter.XYs {
	lo, hi := t.window(len(ys), step)
	if hi-lo <= 2*cols {
		out := make(plotter.XYs, 0, 2*(hi-lo))
		for i := lo; i < hi; i++ {
			v := f(ys[i])
			out = append(out,
				plotter.XY{X: float64(i) * step * t.perMs, Y: v},
				plotter.XY{X: float64(i+1) * step * t.perMs, Y: v})
		}
		return out
	}
	xs := make([]float64, 0, hi-lo)
	vs := make([]float64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		xs = append(xs, (float64(i)+0.5)*step*t.perMs)
		vs = append(vs, f(ys[i]))
	}
	return decimate(xs, vs, cols)
}

// decimate keeps at most two points per column when there are more than
// that: the smallest and the largest of the column's samples, in the order
// they occur, so that a one-sample spike survives (an average would halve
// it, a stride would drop it).
func decimate(xs, ys []float64, cols int) plotter.XYs {
	n := len(xs)
	if cols < 1 || n <= 2*cols {
		out := make(plotter.XYs, n)
		for i := range n {
			out[i] = plotter.XY{X: xs[i], Y: ys[i]}
		}
		return out
	}
	out := make(plotter.XYs, 0, 2*cols)
	for c := range cols {
		lo, hi := c*n/cols, (c+1)*n/cols
		if lo >= hi {
			continue
		}
		iMin, iMax := lo, lo
		for i := lo; i < hi; i++ {
			if ys[i] < ys[iMin] {
				iMin = i
			}
			if ys[i] > ys[iMax] {
				iMax = i
			}
		}
		first, second := iMin, iMax
		if first > second {
			first, second = second, first
		}
		out = append(out, plotter.XY{X: xs[first], Y: ys[first]})
		if second != first {
			out = append(out, plotter.XY{X: xs[second], Y: ys[second]})
		}
	}
	return out
}

// floats converts counts to float64.
func floats[T uint64 | int](vs []T) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = float64(v)
	}
	return out
}

// cumulative returns the running sums of vs.
func cumulative(vs []float64) []float64 {
	out := make([]float64, len(vs))
	sum := 0.0
	for i, v := range vs {
		sum += v
		out[i] = sum
	}
	return out
}

// peak is the largest of vs, 0 for none.
func peak(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return m
}

// minPositive is the smallest positive value of vs, +Inf for none.
func minPositive(vs []float64) float64 {
	m := math.Inf(1)
	for _, v := range vs {
		if v > 0 {
			m = math.Min(m, v)
		}
	}
	return m
}
