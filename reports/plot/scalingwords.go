package plot

import (
	"fmt"
	"math"
	"strings"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// metricWords say how a scaling figure names a metric.
type metricWords struct {
	// title starts the figure's title: "Upstream calls".
	title string
	// subject names it in a caption: "upstream calls"; plural says
	// whether it takes "grow" or "grows".
	subject string
	plural  bool
	// y labels the value axis, ticks its ticks and value a number in a
	// caption.
	y     string
	ticks func(float64) string
	value func(float64) string
}

// knownMetrics are the words of the metrics the built-in sweeps draw;
// others are named by their reports.Metric description.
var knownMetrics = map[string]metricWords{
	"upstream_calls":           {title: "Upstream calls", subject: "upstream calls", plural: true, y: "calls"},
	"duplicate_upstream_calls": {title: "Duplicate upstream calls (same key and region)", subject: "duplicate upstream calls", plural: true, y: "calls"},
	"store_ops":                {title: "Store round trips", subject: "store round trips", plural: true, y: "round trips"},
	"store_commands":           {title: "Store commands", subject: "store commands", plural: true, y: "commands"},
	"peak_store_ops_per_sec":   {title: "Store round trips in the busiest second", subject: "store round trips in the busiest second", plural: true, y: "round trips per second"},
	"peak_contenders_shared":   {title: "Contenders at the busiest shared lock", subject: "shared-lock contenders", plural: true, y: "contenders on one key"},
	"peak_contenders_node":     {title: "Requests waiting on one node's flight", subject: "node-level contenders", plural: true, y: "requests on one key"},
	"peak_contenders_zone":     {title: "Contenders at a zone lock", subject: "zone-lock contenders", plural: true, y: "flights on one key"},
	"peak_contenders_region":   {title: "Contenders at a region lock", subject: "region-lock contenders", plural: true, y: "flights on one key"},
	"peak_contenders_global":   {title: "Contenders at the global lock", subject: "global-lock contenders", plural: true, y: "flights on one key"},
	"store_utilisation_max":    {title: "Busiest store's utilisation", subject: "the busiest store's utilisation", y: "share of the run busy"},
}

// metricWordsOf returns the words of metric m.
func metricWordsOf(m reports.Metric) metricWords {
	w, ok := knownMetrics[m.Name]
	if !ok {
		w = metricWords{title: upperFirst(m.Doc), subject: m.Doc, plural: true, y: m.Unit}
		if p, isLatency := strings.CutPrefix(m.Name, "latency_"); isLatency {
			p = strings.TrimSuffix(p, "_ms")
			w = metricWords{title: p + " request latency", subject: p + " latency", y: "latency"}
		}
	}
	switch m.Unit {
	case "ms":
		w.ticks, w.value = msLabel, ms
	case "fraction":
		w.ticks, w.value = percentLabel, percentLabel
	default:
		w.ticks, w.value = shortNum, number
	}
	return w
}

// number writes a count in a caption: whole numbers with thousands
// separators, others with three significant digits.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return count(int(v))
	}
	return trimFloat(v)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// axisWords say how a scaling figure names its x axis.
type axisWords struct {
	// long names it on the axis and in the title ("requests in the
	// burst"); short in a law ("requests^0.97").
	long, short string
	// detail, when not empty, is said on the axis after the field's
	// path: "one zone per region".
	detail string
	// tick labels its ticks, value writes one of its values.
	tick, value func(float64) string
}

// swept reports whether the sweep has an axis at path.
func (in *sweepInput) swept(path string) bool {
	_, ok := in.doc.Spec.AxisOf(path)
	return ok
}

// knownAxes are the long and short names of the fields the built-in
// sweeps sweep; others are named by their path.
var knownAxes = map[string][2]string{
	"workload.bursts[0].requests": {"requests in the burst", "requests"},
	"topology.nodes_per_zone":     {"nodes per zone", "nodes per zone"},
	"topology.zones_per_region":   {"zones per region", "zones per region"},
	"topology.regions":            {"regions", "regions"},
	"locks.wait_timeout":          {"wait timeout", "wait timeout"},
	"locks.poll_interval":         {"poll interval", "poll interval"},
	"locks.wake":                  {"how waiters wake", "wake"},
	"store.service_time":          {"store service time per command", "service time"},
	"upstream.latency.value":      {"upstream latency", "upstream latency"},
}

// axisNames returns the long and short names of the field at path.
func axisNames(path string) (long, short string) {
	if n, ok := knownAxes[path]; ok {
		return n[0], n[1]
	}
	short = path[strings.LastIndexAny(path, ".]")+1:]
	return path, strings.ReplaceAll(short, "_", " ")
}

// axisWords returns the words of the x axis.
func (in *sweepInput) axisWords() axisWords {
	long, short := axisNames(in.ax.Path)
	base := in.doc.Spec.Base
	w := axisWords{long: long, short: short, tick: shortNum, value: number}
	if in.ax.Path == "topology.nodes_per_zone" && base != nil && base.Topology.ZonesPerRegion == 1 && !in.swept("topology.zones_per_region") {
		// With one zone a region, the nodes of a zone are those of its
		// region, which is what the region lock's claims are about.
		w.long, w.short, w.detail = "nodes per region", "nodes per region", "one zone per region"
	}
	if in.ax.Kind == scenarios.FieldDuration {
		w.tick, w.value = msLabel, msLabel
	}
	return w
}

// paramText writes one axis's value for a panel's title or a caption:
// "upstream latency 200 ms", "wake: poll".
func paramText(p reports.Param) string {
	_, short := axisNames(p.Path)
	if p.Number != nil {
		return short + " " + paramValue(p)
	}
	return short + ": " + paramValue(p)
}

// paramValue writes one axis's value alone: "200 ms", "1,000", "poll".
func paramValue(p reports.Param) string {
	switch {
	case p.Number != nil && p.Unit == "ms":
		return msLabel(*p.Number)
	case p.Number != nil:
		return number(*p.Number)
	}
	return p.Value
}

// panelLabel writes the values of the other axes of panel p.
func (in *sweepInput) panelLabel(p panel) string {
	parts := make([]string, len(p.at))
	for i, a := range p.at {
		parts[i] = paramText(a)
	}
	return strings.Join(parts, ", ")
}

// exponentText writes a fitted exponent with two decimals, and never
// "-0.00".
func exponentText(e float64) string {
	s := fmt.Sprintf("%.2f", e)
	if s == "-0.00" {
		s = "0.00"
	}
	return s
}

// lawLabel is what the legend says after a topology's name: the fitted
// law, " ~ requests^0.97", or why there is none.
func (in *sweepInput) lawLabel(c *curve, aw axisWords) string {
	f := c.fit
	switch {
	case !in.doc.Complete || len(in.doc.Fits) == 0:
		return ""
	case f == nil:
		return " (no fit)"
	case f.Exponent == nil && f.Points == 0:
		return " (no fit: zero at every point)"
	case f.Exponent == nil:
		return " (no fit: one point above zero)"
	}
	law := " ~ " + aw.short + "^" + exponentText(*f.Exponent)
	if f.Zeros > 0 {
		law += fmt.Sprintf(" (on %d of %d points)", f.Points, f.Zeros+f.Points)
	}
	return law
}

// fleetQuantities are the counts of the fleet that a flat or growing
// metric is worth naming when it equals one at every point, in the order
// they are tried: the write-up's claims are per region and per node.
var fleetQuantities = []struct {
	noun string
	of   func(fleet) int
}{
	{"nodes per region", func(f fleet) int { return f.zonesPerRegion * f.nodesPerZone }},
	{"nodes per zone", func(f fleet) int { return f.nodesPerZone }},
	{"regions", func(f fleet) int { return f.regions }},
	{"zones per region", func(f fleet) int { return f.zonesPerRegion }},
	{"nodes", func(f fleet) int { return f.regions * f.zonesPerRegion * f.nodesPerZone }},
	{"zones", func(f fleet) int { return f.regions * f.zonesPerRegion }},
}

// fleetAt is the fleet of a point: the sweep's base, with the point's
// values of the axes that shape it.
func (in *sweepInput) fleetAt(params []reports.Param) fleet {
	w := in.doc.WorldAt(params)
	return fleet{regions: w.Regions, zonesPerRegion: w.ZonesPerRegion, nodesPerZone: w.NodesPerZone}
}

// fleetRelation names the count of the fleet that c's median equals at
// every point, and whether that count is the same at every point; "" when
// none does (or only 1 does, which says nothing).
func (in *sweepInput) fleetRelation(c *curve) (noun string, constant bool) {
	for _, q := range fleetQuantities {
		all, same, big := true, true, false
		for i, v := range c.med {
			n := q.of(in.fleetAt(c.params[i]))
			all = all && v == float64(n)
			same = same && n == q.of(in.fleetAt(c.params[0]))
			big = big || n > 1
		}
		if all && big {
			return q.noun, same
		}
	}
	return "", false
}

// flat reports whether c's median is the same at every point.
func flat(c *curve) bool {
	for _, v := range c.med {
		if v != c.med[0] {
			return false
		}
	}
	return len(c.med) > 1
}
