package main

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/stampsim/stampsim/reports"
)

// A claim is one of the two-level lock write-up's statements about
// growth, and the checks of the sweeps' numbers that must all pass for it
// to hold.
type claim struct {
	text   string
	checks []check
}

// check is one test of a claim against a sweep's document: the fitted
// exponent of a metric on a topology, against the sweep's figures axis,
// is within tol of want; and, when equals names a count of the fleet,
// the metric's median equals it at every point; and, when herd is above
// zero, the median at the largest value of the axis is at least herd
// times the number of regions (a herd, not one call a region); and, when
// perNode is set, the median at the largest burst is within a fifth above
// or a tenth below the requests per node (the axis's value over the
// nodes).
type check struct {
	sweep, metric, topology string
	want, tol               float64
	equals                  string
	herd                    float64
	perNode                 bool
}

// claims are the write-up's four claims about how the two-level lock's
// costs grow, as checks of the built-in sweeps.
var claims = []claim{
	{
		text: "Node-level waiters are O(requests on the node): the requests waiting on one node's flight grow one for one with the burst.",
		checks: []check{
			{sweep: "requests", metric: "peak_contenders_node", topology: "node-only", want: 1, tol: 0.1, perNode: true},
			{sweep: "requests", metric: "peak_contenders_node", topology: "two-level", want: 1, tol: 0.1, perNode: true},
			{sweep: "requests", metric: "peak_contenders_node", topology: "fanout-tree", want: 1, tol: 0.1, perNode: true},
		},
	},
	{
		text: "Region-level waiters are O(nodes in the region with demand): with a node level, each node sends one flight to the region lock, however many requests it has.",
		checks: []check{
			{sweep: "nodes-per-region", metric: "peak_contenders_region", topology: "two-level", want: 1, tol: 0.1, equals: "nodes per region"},
			{sweep: "requests", metric: "peak_contenders_shared", topology: "two-level", want: 0, tol: 0.05},
			{sweep: "regions", metric: "peak_contenders_shared", topology: "two-level", want: 0, tol: 0.05, equals: "nodes per region"},
		},
	},
	{
		text: "Upstream work is O(1) per region per miss: the two-level lock calls the upstream once per region, whatever the burst, the nodes or the regions.",
		checks: []check{
			{sweep: "requests", metric: "upstream_calls", topology: "two-level", want: 0, tol: 0.05, equals: "regions"},
			{sweep: "nodes-per-region", metric: "upstream_calls", topology: "two-level", want: 0, tol: 0.05, equals: "regions"},
			{sweep: "regions", metric: "upstream_calls", topology: "two-level", want: 1, tol: 0.05, equals: "regions"},
		},
	},
	{
		text: "Without the node level, the regional lock itself becomes a thundering herd: every request is a contender at the region lock, and once the store or the wait cannot keep up, the waiters hedge and call the upstream themselves.",
		checks: []check{
			{sweep: "requests", metric: "peak_contenders_region", topology: "one-level", want: 1, tol: 0.1},
			{sweep: "requests", metric: "upstream_calls", topology: "one-level", want: math.NaN(), herd: 100},
			{sweep: "store-service-time", metric: "upstream_calls", topology: "one-level", want: math.NaN(), herd: 100},
		},
	},
}

// verdict is what the sweeps say of a claim.
type verdict struct {
	claim    claim
	held     bool
	checked  bool // false when a sweep it needs is missing
	evidence []string
}

// judge checks every claim against the sweep documents, by name.
func judge(docs map[string]*reports.SweepResults) []verdict {
	var out []verdict
	for _, c := range claims {
		v := verdict{claim: c, held: true, checked: true}
		for _, ch := range c.checks {
			ok, text := ch.run(docs[ch.sweep])
			if text == "" {
				v.checked = false
				text = fmt.Sprintf("sweep %s: not run", ch.sweep)
			}
			v.held = v.held && ok
			v.evidence = append(v.evidence, text)
		}
		v.held = v.held && v.checked
		out = append(out, v)
	}
	return out
}

// run checks ch against doc and says what it found; "" when doc is nil.
func (ch check) run(doc *reports.SweepResults) (bool, string) {
	if doc == nil {
		return false, ""
	}
	k, ok := doc.Spec.FigureAxis()
	if !ok {
		return false, fmt.Sprintf("sweep %s has no numeric axis", ch.sweep)
	}
	axis := doc.Spec.Axes[k]
	pts := medians(doc, k, ch.topology, ch.metric)
	head := fmt.Sprintf("%s, %s on %s against %s", ch.sweep, ch.metric, ch.topology, axis.Path)
	if len(pts) == 0 {
		return false, head + ": no such rows"
	}
	var parts []string
	held := true
	if !math.IsNaN(ch.want) {
		f := findFit(doc, ch.topology, ch.metric, axis.Path)
		switch {
		case f == nil || f.Exponent == nil:
			held = false
			parts = append(parts, "no fitted exponent")
		default:
			e := *f.Exponent
			in := math.Abs(e-ch.want) <= ch.tol
			held = held && in
			parts = append(parts, fmt.Sprintf("exponent %.2f (want %g ± %g: %s)", e, ch.want, ch.tol, yesNo(in)))
		}
	}
	if ch.equals != "" {
		bad := slices.IndexFunc(pts, func(p point) bool { return p.median != float64(p.fleet.count(ch.equals)) })
		if bad < 0 {
			parts = append(parts, fmt.Sprintf("equal to the %s at every point (%s)", ch.equals, span(pts, func(p point) float64 { return p.median })))
		} else {
			held = false
			p := pts[bad]
			parts = append(parts, fmt.Sprintf("not equal to the %s at %s = %s: %s, the %s %d", ch.equals, axis.Path, p.value, num(p.median), ch.equals, p.fleet.count(ch.equals)))
		}
	}
	first, last := pts[0], pts[len(pts)-1]
	if ch.herd > 0 {
		regions := float64(last.fleet.regions)
		herd := last.median >= ch.herd*regions
		held = held && herd
		parts = append(parts, fmt.Sprintf("%s at %s, %s at %s: %s %g times the %g regions", num(first.median), last.text(axis.Path, first),
			num(last.median), last.text(axis.Path, last), map[bool]string{true: "at least", false: "less than"}[herd], ch.herd, regions))
	}
	if ch.perNode {
		nodes := last.fleet.regions * last.fleet.zonesPerRegion * last.fleet.nodesPerZone
		per := last.x / float64(nodes)
		ratio := last.median / per
		ok := ratio >= 0.9 && ratio <= 1.2
		held = held && ok
		parts = append(parts, fmt.Sprintf("%s at %s, %.2f times the %s requests per node (of %d nodes): %s", num(last.median), last.text(axis.Path, last), ratio, num(math.Round(per)), nodes, yesNo(ok)))
	}
	return held, head + ": " + strings.Join(parts, "; ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// point is a metric's median over the repeats at one value of the axis.
type point struct {
	x      float64
	value  string
	median float64
	fleet  fleet
}

// text writes p's value of the axis at path: "workload.bursts[0].requests
// = 10,000,000", "store.service_time = 100us".
func (point) text(path string, p point) string {
	if p.value == strings.TrimRight(p.value, "abcdefghijklmnopqrstuvwxyzµ") {
		return path + " = " + num(p.x)
	}
	return path + " = " + p.value
}

// medians returns the median of metric on topology at each value of the
// axis k, ascending, for a sweep of one axis or the first combination of
// the others met.
func medians(doc *reports.SweepResults, k int, topology, metric string) []point {
	vals := map[float64][]float64{}
	pts := map[float64]point{}
	var at string
	for _, r := range doc.Rows {
		if r.Topology != topology || k >= len(r.Params) || r.Params[k].Number == nil {
			continue
		}
		others := fmt.Sprint(slices.Delete(slices.Clone(r.Params), k, k+1))
		if at == "" {
			at = others
		}
		v, ok := r.Metrics[metric]
		if !ok || others != at {
			continue
		}
		x := *r.Params[k].Number
		vals[x] = append(vals[x], v)
		pts[x] = point{x: x, value: r.Params[k].Value, fleet: fleetAt(doc, r.Params)}
	}
	var out []point
	for x, p := range pts {
		p.median = median(vals[x])
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b point) int { return cmpFloat(a.x, b.x) })
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// findFit returns the fit of metric against axis on topology (of the
// first combination of the other axes), nil if none.
func findFit(doc *reports.SweepResults, topology, metric, axis string) *reports.Fit {
	for i, f := range doc.Fits {
		if f.Topology == topology && f.Metric == metric && f.Axis == axis {
			return &doc.Fits[i]
		}
	}
	return nil
}

// fleet is the shape of the fleet at a point.
type fleet struct{ regions, zonesPerRegion, nodesPerZone int }

// count is the fleet's count called noun, -1 for a noun it does not
// know (which then equals no metric).
func (f fleet) count(noun string) int {
	switch noun {
	case "regions":
		return f.regions
	case "nodes per region":
		return f.zonesPerRegion * f.nodesPerZone
	case "nodes per zone":
		return f.nodesPerZone
	}
	return -1
}

// fleetAt is the fleet at a row's point.
func fleetAt(doc *reports.SweepResults, params []reports.Param) fleet {
	w := doc.WorldAt(params)
	return fleet{w.Regions, w.ZonesPerRegion, w.NodesPerZone}
}

// span writes the range of f over pts: "3" or "5 to 160".
func span(pts []point, f func(point) float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, f(p)), math.Max(hi, f(p))
	}
	if lo == hi {
		return num(lo)
	}
	return num(lo) + " to " + num(hi)
}

// num writes a number with thousands separators when it is whole.
func num(v float64) string {
	if v != math.Trunc(v) || math.Abs(v) >= 1e15 {
		return fmt.Sprintf("%.3g", v)
	}
	s := fmt.Sprintf("%d", int64(math.Abs(v)))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if v < 0 {
		return "-" + b.String()
	}
	return b.String()
}
