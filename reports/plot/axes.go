package plot

import (
	"math"
	"slices"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
)

// Log axes are drawn as linear axes over the values' base-10 logarithms,
// not with gonum's LogScale: LogScale panics on zero, and gonum places an
// axis label by the arithmetic middle of the range, which on a log axis
// is near its top, so that the label's box squeezes the panel. Zero is a
// count the figures must show (no upstream call in a step, no
// contender): it is drawn on a floor below the smallest positive value,
// and the floor's tick is labelled "0"; each figure with a log axis says
// so in its note.

// scale maps values onto an axis: as they are, or as their logarithm
// with anything below the floor drawn on it.
type scale struct {
	log bool
	// floor is the smallest value a log scale shows.
	floor float64
	// zero says that the floor stands for zero (and is labelled so):
	// counts. Latencies of answered requests are never zero and have none.
	zero bool
}

// linear is the linear scale.
var linear = scale{}

// logScale is the log scale for counts whose smallest positive value is
// minPos: zeros go on a floor a quarter of it (0.6 of a decade lower), so
// that the floor sits visibly below every positive value, with room for
// its label.
func logScale(minPos float64) scale {
	if !(minPos > 0) || math.IsInf(minPos, 0) {
		minPos = 1
	}
	return scale{log: true, floor: minPos / 4, zero: true}
}

// at is where v goes on an axis of scale s.
func (s scale) at(v float64) float64 {
	if !s.log {
		return v
	}
	if !(v >= s.floor) { // also catches NaN
		v = s.floor
	}
	return math.Log10(v)
}

// set makes a an axis of scale s from zero (or the floor) to hi, with
// ticks labelled by label.
func (s scale) set(a *gplot.Axis, hi float64, label func(float64) string) {
	a.Scale = gplot.LinearScale{}
	if !s.log {
		if !(hi > 0) {
			hi = 1
		}
		a.Min, a.Max = 0, hi*1.05
		a.Tick.Marker = linearTicks{n: 5, label: label}
		return
	}
	if !(hi > s.floor*10) {
		hi = s.floor * 10
	}
	a.Min, a.Max = math.Log10(s.floor), math.Log10(hi*1.25)
	a.Tick.Marker = logTicks{scale: s, label: label}
}

// logTicks labels the decades of a log axis, and 2 and 5 times them when
// the axis spans less than two decades (otherwise an axis from 3 to 60
// would have a single label). On a scale whose floor is zero its first
// tick is the floor, labelled "0". Tick values are logarithms, as the
// axis' are.
type logTicks struct {
	scale scale
	label func(float64) string
	// denser labels 2 and 5 times the decades up to three decades, not
	// two: a scaling figure's panels are tall enough.
	denser bool
}

// Ticks returns the ticks of the range [lo, hi] (logarithms).
func (t logTicks) Ticks(lo, hi float64) []gplot.Tick {
	vlo, vhi := math.Pow(10, lo), math.Pow(10, hi)
	var ticks []gplot.Tick
	if t.scale.zero {
		ticks = append(ticks, gplot.Tick{Value: math.Log10(t.scale.floor), Label: "0"})
		// Leave room for the floor's label: a decade right above the floor
		// would print over it.
		vlo = t.scale.floor * 2.5
	}
	steps := []float64{1}
	if hi-lo < 2 || t.denser && hi-lo < 3 {
		steps = []float64{1, 2, 5}
	}
	// Over more than seven decades, every other decade is labelled, so
	// that labels such as "100 µs" do not run into each other.
	every := 1.0
	if hi-lo > 7 {
		every = 2
	}
	for e := math.Floor(math.Log10(vlo)); e <= math.Ceil(math.Log10(vhi)); e++ {
		d := math.Pow(10, e)
		for i := 1; i < 10; i++ {
			v := d * float64(i)
			if v < vlo*0.999 || v > vhi*1.001 {
				continue
			}
			tk := gplot.Tick{Value: math.Log10(v)}
			if slices.Contains(steps, float64(i)) && math.Mod(e, every) == 0 {
				tk.Label = t.label(v)
			}
			ticks = append(ticks, tk)
		}
	}
	return ticks
}

// linearTicks labels about n round values of a linear axis (steps of 1, 2
// or 5 times a power of ten, so that counts get whole numbers), with four
// minor ticks between,
// in short numbers (12k, not 12000). gonum's default gives as few as three
// labels, too few to read a time off the axis.
type linearTicks struct {
	n     int
	label func(float64) string
}

// Ticks returns the ticks of the range [lo, hi].
func (t linearTicks) Ticks(lo, hi float64) []gplot.Tick {
	n := t.n
	if n < 2 {
		n = 5
	}
	if !(hi > lo) {
		return []gplot.Tick{{Value: lo, Label: t.label(lo)}}
	}
	step := roundStep((hi - lo) / float64(n))
	minor := step / 5
	var ticks []gplot.Tick
	first := math.Ceil(lo/minor-1e-9) * minor
	for k := 0; ; k++ {
		v := first + float64(k)*minor
		if v > hi+minor*1e-6 {
			break
		}
		// Round away the float noise of the multiplication.
		v = math.Round(v/minor) * minor
		tk := gplot.Tick{Value: v}
		if r := math.Abs(v/step - math.Round(v/step)); r < 1e-6 {
			tk.Label = t.label(v)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// roundStep is the smallest of 1, 2 or 5 times a power of ten that is at
// least raw (which must be positive).
func roundStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw*0.999 {
			return m * mag
		}
	}
	return 10 * mag
}

// wantLog says whether values that are all at least zero spread so widely
// that a linear axis would flatten the small ones into the zero line: the
// largest is more than 50 times the smallest positive one.
func wantLog(peaks []float64) bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range peaks {
		if v > 0 {
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
	}
	return hi > 0 && hi/lo > 50
}

// shortNum writes v briefly for a tick label: 0.5, 3, 250, 12k, 1.5M.
func shortNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimFloat(v/1e9) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e3:
		return trimFloat(v/1e3) + "k"
	default:
		return trimFloat(v)
	}
}

// trimFloat writes v with at most three significant digits and no
// trailing zeros.
func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if strings.ContainsAny(s, "e") {
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// percentLabel writes a fraction as a percentage for a tick label: 1 is
// 100%, 0.001 is 0.1%.
func percentLabel(v float64) string {
	return trimFloat(v*100) + "%"
}

// msLabel writes a latency tick in milliseconds, switching to seconds at
// 1,000 ms so that long tails stay short, and to microseconds below 1 ms.
func msLabel(v float64) string {
	switch {
	case v >= 1000:
		return trimFloat(v/1000) + " s"
	case v > 0 && v < 1:
		return trimFloat(v*1000) + " µs"
	}
	return trimFloat(v) + " ms"
}
