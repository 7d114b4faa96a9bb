package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/stampsim/stampsim/sweeps"
)

// Fit is a power law fitted to one metric of a sweep against one log axis,
// for one topology, with the other axes held at the values At: metric ≈
// Coefficient × axis^Exponent, by least squares on the logarithms of the
// axis's values and of the metric's median over the repeats of each point.
type Fit struct {
	Topology string `json:"topology"`
	Metric   string `json:"metric"`
	// Axis is the path of the axis, whose numbers (durations in
	// milliseconds) the law is of.
	Axis string `json:"axis"`
	// At holds the other axes' values, for a sweep of several axes.
	At []Param `json:"at,omitempty"`
	// Points is how many of the axis's values the fit used; Zeros how
	// many it left out because the metric's median there was zero (its
	// logarithm is not finite), said in Note too.
	Points int `json:"points"`
	Zeros  int `json:"zeros"`
	// Exponent, Coefficient and R2 (the coefficient of determination) are
	// absent when fewer than two points are left, and R2 when the metric
	// is the same at every point (a flat law, exponent 0).
	Exponent    *float64 `json:"exponent"`
	Coefficient *float64 `json:"coefficient"`
	R2          *float64 `json:"r2"`
	Note        string   `json:"note,omitempty"`
}

// FitPowerLaws fits a power law to every metric against every log axis of
// spec, for each topology and each combination of the other axes' values,
// over the median of the repeats of each point; rows are in canonical
// order (SortRows). A metric that no row of a group has (a level that the
// topology lacks) is not fitted. Fits go axis by axis, then topology by
// topology, group by group and metric by metric.
func FitPowerLaws(spec *sweeps.Sweep, rows []Row) []Fit {
	var fits []Fit
	for k, axis := range spec.Axes {
		if axis.Scale != sweeps.Log {
			continue
		}
		for _, topo := range spec.Topologies {
			for _, g := range groupRows(rows, topo, k) {
				for _, m := range SweepMetrics {
					if f, ok := fitGroup(g, axis.Path, m.Name); ok {
						f.Topology = topo
						fits = append(fits, f)
					}
				}
			}
		}
	}
	return fits
}

// group is the rows of one topology that share the values of every axis
// but one, by that axis's number.
type group struct {
	at []Param
	xs []float64         // the axis's numbers, in the order first met
	by map[float64][]Row // the rows at each
}

// groupRows groups the rows of topo by the values of every axis but axis
// k, in the order the groups are first met.
func groupRows(rows []Row, topo string, k int) []*group {
	var groups []*group
	byAt := map[string]*group{}
	for _, r := range rows {
		if r.Topology != topo || k >= len(r.Params) || r.Params[k].Number == nil {
			continue
		}
		at := slices.Delete(slices.Clone(r.Params), k, k+1)
		key := fmt.Sprint(paramTexts(at))
		g := byAt[key]
		if g == nil {
			g = &group{at: at, by: map[float64][]Row{}}
			byAt[key] = g
			groups = append(groups, g)
		}
		x := *r.Params[k].Number
		if _, ok := g.by[x]; !ok {
			g.xs = append(g.xs, x)
		}
		g.by[x] = append(g.by[x], r)
	}
	return groups
}

func paramTexts(ps []Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path + "=" + p.Value
	}
	return out
}

// fitGroup fits metric against the axis in group g.
func fitGroup(g *group, axis, metric string) (Fit, bool) {
	f := Fit{Metric: metric, Axis: axis, At: g.at}
	var xs, ys []float64
	for _, x := range g.xs {
		var vals []float64
		for _, r := range g.by[x] {
			if v, ok := r.Metrics[metric]; ok {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		if med := median(vals); med > 0 && x > 0 {
			xs, ys = append(xs, math.Log(x)), append(ys, math.Log(med))
		} else {
			f.Zeros++
		}
	}
	if len(xs)+f.Zeros == 0 {
		return f, false
	}
	f.Points = len(xs)
	if f.Zeros > 0 {
		f.Note = fmt.Sprintf("%d of %d points left out: the median is zero there, and a power law has no zeros", f.Zeros, f.Zeros+len(xs))
	}
	if len(xs) < 2 {
		f.Note = joinNote(f.Note, "fewer than two points above zero: no fit")
		return f, true
	}
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	f.Exponent, f.Coefficient = rounded(beta), rounded(math.Exp(alpha))
	if slices.Min(ys) == slices.Max(ys) {
		zero := 0.0
		f.Exponent = &zero
		f.Note = joinNote(f.Note, "the same at every point")
	} else if r2 := stat.RSquared(xs, ys, nil, alpha, beta); !math.IsNaN(r2) {
		f.R2 = rounded(r2)
	}
	return f, true
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// median is the median of vals (the mean of the middle two of an even
// number).
func median(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// rounded rounds x to six significant digits, and what is within 1e-9 of
// zero to zero: the digits beyond say nothing about a law measured on a
// handful of points, and differ in their last bits between machines that
// fuse multiplications and additions and those that do not.
func rounded(x float64) *float64 {
	if math.Abs(x) < 1e-9 {
		x = 0
	} else {
		x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	}
	return &x
}
