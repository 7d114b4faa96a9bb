package plot

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/stampsim/stampsim/reports"
)

// servedCaption says how each topology's replies were served, in counts
// and shares of its replies, and what a reader should compare: the
// replies that waited for an upstream call, and, where
// stale-while-revalidate served anything, how many still waited once it
// had begun to.
func servedCaption(in *input, runs []*reports.Run) string {
	var parts []string
	for _, r := range runs {
		part := r.Topology + " " + servedParts(r)
		if r.Unfinished > 0 {
			part += ", and " + count(r.Unfinished) + " requests never answered"
		}
		parts = append(parts, part)
	}
	caption := "How each topology's replies were served, per second and stacked, a panel per topology: " + strings.Join(parts, "; ") + "."
	if s := revalidatingSentence(runs); s != "" {
		caption += " " + s
	}
	return caption + " " + waitedSentence(runs)
}

// servedParts lists r's replies of each kind it served, in stacking
// order, with their share: "57,665 hits (96%) and 998 fetched (1.7%)";
// "no replies" for a run that answered nothing.
func servedParts(r *reports.Run) string {
	all := totalServed(r)
	var parts []string
	for _, k := range servedKinds {
		if n := k.total(&r.Served); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", count(n), servedWord(k, n), share(n, all)))
		}
	}
	if len(parts) == 0 {
		return "no replies"
	}
	return join(parts)
}

// servedWord names n replies of kind k in a sentence: "hits", "errors",
// else the kind's label.
func servedWord(k servedKind, n uint64) string {
	plural := ""
	if n != 1 {
		plural = "s"
	}
	switch k.name {
	case "hit", "error":
		return k.name + plural
	}
	return k.label
}

// revalidatingSentence says which runs served stale while revalidating,
// how much of their replies that was and from when; empty when none did.
func revalidatingSentence(runs []*reports.Run) string {
	var parts []string
	for _, r := range runs {
		n := r.Served.Revalidating
		if n == 0 {
			continue
		}
		part := fmt.Sprintf("%s %s (%s of its replies)", r.Topology, count(n), share(n, totalServed(r)))
		if first, _, ok := activeSpan(r.Series.Served.Revalidating, stepMs(r.Series)); ok {
			part += " from " + at(first) + " on"
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Served stale while a background refresh ran: " + join(parts) + "."
}

// waitedSentence gives each run's replies that waited for an upstream
// call; where stale-while-revalidate served anything, also those from
// when it first did (the cold start before it, when every topology must
// wait, left out), which is where it and the lock alone differ.
func waitedSentence(runs []*reports.Run) string {
	var totals []string
	anyWaited := false
	for _, r := range runs {
		var n uint64
		for _, k := range servedKinds {
			if k.waited {
				n += k.total(&r.Served)
			}
		}
		anyWaited = anyWaited || n > 0
		totals = append(totals, fmt.Sprintf("%s %s (%s)", r.Topology, count(n), share(n, totalServed(r))))
	}
	if !anyWaited {
		return "No reply waited for an upstream call."
	}
	s := "Replies that waited for an upstream call (collapsed, fetched or hedged): " + join(totals)
	from, ok := firstRevalidating(runs)
	if !ok {
		return s + "."
	}
	var since []string
	for _, r := range runs {
		since = append(since, r.Topology+" "+count(waitedFrom(r, from)))
	}
	return s + "; from " + at(from) + " on, once stale-while-revalidate had begun to serve: " + join(since) + "."
}

// firstRevalidating is the start, in ms, of the first step in which any
// of runs served stale while revalidating; ok is false when none did.
func firstRevalidating(runs []*reports.Run) (float64, bool) {
	first, ok := 0.0, false
	for _, r := range runs {
		if t, _, any := activeSpan(r.Series.Served.Revalidating, stepMs(r.Series)); any && (!ok || t < first) {
			first, ok = t, true
		}
	}
	return first, ok
}

// waitedFrom counts r's replies that waited for an upstream call in the
// steps that start at or after fromMs.
func waitedFrom(r *reports.Run, fromMs float64) uint64 {
	step := stepMs(r.Series)
	var n uint64
	for _, k := range servedKinds {
		if !k.waited {
			continue
		}
		for i, v := range k.series(&r.Series.Served) {
			if float64(i)*step >= fromMs {
				n += v
			}
		}
	}
	return n
}

// share writes n as a share of all, briefly: 96%, 11%, 1.7%, 0.8%,
// <0.1%; 0% of nothing.
func share(n, all uint64) string {
	if all == 0 || n == 0 {
		return "0%"
	}
	p := float64(n) * 100 / float64(all)
	switch {
	case n == all:
		return "100%"
	case p >= 9.95 && p < 99.5:
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	case p >= 99.5:
		// Not all: never rounded up to 100%.
		return strconv.FormatFloat(math.Min(p, 99.9), 'f', 1, 64) + "%"
	case p >= 0.05:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	default:
		return "<0.1%"
	}
}

// servedNote says how to read the served figure: the unit, the bins
// (bins, from binsNote) and the stacking, what each kind drawn means,
// that the panels share a scale, and which kinds no run served.
func servedNote(kinds, none []servedKind, panels int, bins string) string {
	var means []string
	for _, k := range kinds {
		means = append(means, k.label+": "+k.means)
	}
	note := "Replies per second " + bins + ", stacked from the top in the legend's order (" + strings.Join(means, "; ") + ")."
	if panels > 1 {
		note += " Every panel has the same scale."
	}
	if len(none) > 0 {
		var labels []string
		for _, k := range none {
			labels = append(labels, k.label)
		}
		note += " Not drawn, since no run served any: " + join(labels) + "."
	}
	return note
}

// binsNote says over what time the served figure counts its replies per
// second: "in 40 ms bins (4 steps of the series)", or per run when their
// bins differ (coarsened series have wider steps).
func binsNote(runs []*reports.Run, binMs []float64) string {
	word := func(i int) string {
		k := int(math.Round(binMs[i] / stepMs(runs[i].Series)))
		if k == 1 {
			return "in " + ms(binMs[i]) + " steps"
		}
		return fmt.Sprintf("in %s bins (%d steps of the series)", ms(binMs[i]), k)
	}
	same := true
	for i := range runs {
		same = same && binMs[i] == binMs[0] && stepMs(runs[i].Series) == stepMs(runs[0].Series)
	}
	if same {
		return word(0)
	}
	var parts []string
	for i, r := range runs {
		parts = append(parts, r.Topology+" "+word(i))
	}
	return "(" + join(parts) + ")"
}

// servedOutside says which runs sent replies outside the time shown, how
// many and until when: the time axis follows requests, upstream calls and
// store round trips, and an upstream that answers a stampede's calls one
// by one, or hedged calls that go on after it, reply long after all of
// those (flash-crowd's none: most of its replies, to 65 s). Empty when
// every reply is shown. binMs are the runs' bins, as drawn.
func (in *input) servedOutside(runs []*reports.Run, kinds []servedKind, binMs []float64) string {
	var parts []string
	for i, r := range runs {
		step := stepMs(r.Series)
		k := int(math.Round(binMs[i] / step))
		var all []uint64
		for _, kind := range kinds {
			for j, v := range kind.series(&r.Series.Served) {
				if j >= len(all) {
					all = append(all, make([]uint64, j+1-len(all))...)
				}
				all[j] += v
			}
		}
		lo, hi := in.time.window((len(all)+k-1)/k, binMs[i])
		lo, hi = min(len(all), lo*k), min(len(all), hi*k)
		before, after := sum(all[:lo]), sum(all[hi:])
		if before+after == 0 {
			continue
		}
		_, last, _ := activeSpan(all, step)
		var when string
		switch {
		case after == 0:
			when = "before it"
		case before == 0:
			when = "after it, to " + at(last+step)
		default:
			when = fmt.Sprintf("%s before it and %s after it, to %s", count(before), count(after), at(last+step))
		}
		parts = append(parts, fmt.Sprintf("%s %s of its %s replies, %s", r.Topology, count(before+after), count(sum(all)), when))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Sent outside the time shown, so not drawn: " + join(parts) + "."
}
