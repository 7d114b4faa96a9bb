package budget

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stampsim/stampsim/reports"
)

// Limits bound what one run may cost. A zero field sets no bound.
type Limits struct {
	// Requests bounds the requests of one topology's run.
	Requests float64
	// Events bounds the simulator events of one topology's run (Events).
	Events float64
	// Nodes bounds the fleet.
	Nodes int
	// Duration bounds the simulated time.
	Duration time.Duration
	// Memory bounds the heap, in bytes, of any topology's run
	// (MemoryBytes); MemoryFrom says where the bound came from, for
	// messages ("this machine's available memory").
	Memory     float64
	MemoryFrom string
}

// The default limits. Each lets every built-in scenario run, and the
// sweeps it was chosen for: ten million requests in a burst on a topology
// with a node level, 160 nodes per region in 32 regions.
const (
	// DefaultRequests: a billion requests take a quarter of an hour or
	// more on one core, and any more are a typo in a rate (1e300).
	DefaultRequests = 1e9
	// DefaultEvents: ten billion events are an hour of simulation or
	// more on one core.
	DefaultEvents = 1e10
	// DefaultNodes: 100,000 nodes hold 280 MB and take a second to build
	// for each topology before the first request.
	DefaultNodes = 100_000
	// DefaultDuration: a day of simulated time. The series no longer
	// grow with it past their cap (reports.MaxSeriesSamples); before
	// they had one, the per-second series of 1000h took 1.95 GB and
	// wrote 1.2 GB.
	DefaultDuration = 24 * time.Hour
	// DefaultMemoryShare is the share of the machine's available memory
	// (Available) a run may hold by default: the rest is left to the
	// garbage collector's headroom and to everything else running.
	DefaultMemoryShare = 0.9
)

// DefaultLimits returns the default limits, the memory bound from the
// machine's available memory (without one, when that cannot be read).
func DefaultLimits() Limits {
	l := Limits{Requests: DefaultRequests, Events: DefaultEvents, Nodes: DefaultNodes, Duration: DefaultDuration}
	if avail, from, ok := Available(); ok {
		l.Memory = DefaultMemoryShare * avail
		l.MemoryFrom = fmt.Sprintf("%.0f%% of %s, %s", 100*DefaultMemoryShare, Bytes(avail), from)
	}
	return l
}

// Violation is one limit the cost exceeds: the scenario field whose value
// made it (for the file:line: field: message of package scenarios), what
// the field's value costs, and the limit with the flag that raises it.
type Violation struct {
	Field string
	Msg   string
}

// Check returns the limits that c exceeds: those on the duration, the
// nodes and the requests, or, when it is within those, those on the events
// and the memory. flag maps the Limits field names ("Requests", "Events", "Nodes",
// "Duration", "Memory") to the names of the command-line flags that set
// them, for the messages; nil leaves the flags out.
func (c Cost) Check(l Limits, flag map[string]string) []Violation {
	raise := func(name string) string {
		if f := flag[name]; f != "" {
			return " (" + f + " raises it)"
		}
		return ""
	}
	var vs []Violation
	sc := c.sc
	if l.Duration > 0 && sc.Duration.D() > l.Duration {
		vs = append(vs, Violation{"duration", fmt.Sprintf("%s of simulated time; at most %s%s",
			Duration(sc.Duration.D()), Duration(l.Duration), raise("Duration"))})
	}
	if l.Nodes > 0 && c.Nodes > l.Nodes {
		w := sc.Topology
		vs = append(vs, Violation{"topology", fmt.Sprintf("%d x %d x %d is %d nodes; at most %d%s",
			w.Regions, w.ZonesPerRegion, w.NodesPerZone, c.Nodes, l.Nodes, raise("Nodes"))})
	}
	if l.Requests > 0 && c.Requests > l.Requests {
		field, what := c.requestsField()
		vs = append(vs, Violation{field, fmt.Sprintf("%s; at most %s per run%s", what, Number(l.Requests), raise("Requests"))})
	}
	if len(vs) > 0 {
		// Events and memory grow with the nodes, the requests and the
		// duration: a bound on them would say the same again.
		return vs
	}
	if l.Events > 0 {
		if over := c.over(func(r RunCost) float64 { return r.Events }, l.Events); len(over) > 0 {
			worst := over[0]
			field, what := c.requestsField()
			if worst.pollEvents > worst.Events/2 {
				field = worst.pollField
				what = "requests waiting on a lock poll the store until their wait times out"
			}
			vs = append(vs, Violation{field, fmt.Sprintf("%s: up to %s events on %s; at most %s per run%s",
				what, Number(worst.Events), names(over), Number(l.Events), raise("Events"))})
		}
	}
	if l.Memory > 0 {
		if over := c.over(func(r RunCost) float64 { return r.MemoryBytes }, l.Memory); len(over) > 0 {
			field, what := c.memoryField(over[0])
			from := ""
			if l.MemoryFrom != "" {
				from = ", " + l.MemoryFrom
			}
			hint := raise("Memory")
			if len(over) < len(c.Runs) {
				hint = strings.TrimSuffix(hint, ")") + ", or leave out " + names(over) + ")"
			}
			vs = append(vs, Violation{field, fmt.Sprintf("%s: about %s of memory on %s; at most %s%s%s",
				what, Bytes(over[0].MemoryBytes), names(over), Bytes(l.Memory), from, hint)})
		}
	}
	return vs
}

// over returns the runs whose cost exceeds limit, the costliest first.
func (c Cost) over(cost func(RunCost) float64, limit float64) []RunCost {
	var over []RunCost
	for _, r := range c.Runs {
		if cost(r) > limit {
			over = append(over, r)
		}
	}
	slices.SortStableFunc(over, func(a, b RunCost) int { return -cmpFloat(cost(a), cost(b)) })
	return over
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

func names(runs []RunCost) string {
	n := make([]string, len(runs))
	for i, r := range runs {
		n[i] = r.Topology
	}
	return strings.Join(n, ", ")
}

// requestsField names what makes most of the requests, the steady rate or
// a burst, and says what it makes.
func (c Cost) requestsField() (field, what string) {
	sc := c.sc
	steady := sc.Workload.Rate * sc.Duration.D().Seconds()
	field, most := "workload.rate", steady
	what = fmt.Sprintf("%s requests/s over %s is %s requests", Number(sc.Workload.Rate), Duration(sc.Duration.D()), Number(steady))
	for i, b := range sc.Workload.Bursts {
		if float64(b.Requests) > most {
			field, most = fmt.Sprintf("workload.bursts[%d].requests", i), float64(b.Requests)
			what = fmt.Sprintf("%d requests", b.Requests)
		}
	}
	if Number(most) != Number(c.Requests) {
		what += fmt.Sprintf(", %s in all", Number(c.Requests))
	}
	return field, what
}

// memoryField names the largest part of run r's memory and says what it
// is.
func (c Cost) memoryField(r RunCost) (field, what string) {
	nodes, keys := float64(c.Nodes)*nodeBytes, float64(c.Keys)*keyBytes+r.entryBytes
	switch max(nodes, keys, r.flightBytes, r.seriesBytes) {
	case nodes:
		return "topology", fmt.Sprintf("%d nodes", c.Nodes)
	case keys:
		return "workload.keys", fmt.Sprintf("%d keys, held by the caches of %d nodes and the stores", c.Keys, c.Nodes)
	case r.seriesBytes:
		return "series_step", fmt.Sprintf("the series of %s in steps of %s, %s samples each (at most %d) for every topology so far",
			Duration(c.sc.Duration.D()), Duration(c.sc.Step()), Number(seriesSamples(c.sc)), reports.MaxSeriesSamples)
	}
	what = fmt.Sprintf("up to %s requests in flight at once", Number(r.InFlight))
	if !r.nodeLevel {
		what += ", each on its own without a node level to collapse them"
	}
	return r.inFlightField, what
}

// Number formats a number of requests or events: exactly while it is
// readable, in exponent form beyond ("1e9", "5e300", "3.61e8").
func Number(x float64) string {
	if x < 1e8 && x == math.Trunc(x) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	mant, exp, ok := strings.Cut(strconv.FormatFloat(x, 'g', 3, 64), "e")
	if !ok {
		return mant
	}
	sign := exp[:1]
	if sign == "+" {
		sign = ""
	}
	return mant + "e" + sign + strings.TrimLeft(exp[1:], "0")
}

// Duration formats a duration without the zero minutes and seconds of
// whole hours ("24h", "1000h", "1m30s").
func Duration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// Bytes formats a size in bytes in decimal units: "6.5 GB".
func Bytes(b float64) string {
	for _, u := range []struct {
		unit string
		size float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}} {
		if b >= u.size {
			return fmt.Sprintf("%.3g %s", b/u.size, u.unit)
		}
	}
	return fmt.Sprintf("%.0f B", b)
}
