package validate

import (
	"math"
	"time"
)

// spans holds, per node, the spans of time (offsets from the run's start)
// during which a fault held it; an open span ends at math.MaxInt64.
type spans [][][2]time.Duration

// overlaps says whether one of node's spans meets [from, to].
func (s spans) overlaps(node int, from, to time.Duration) bool {
	if node >= len(s) {
		return false
	}
	for _, c := range s[node] {
		if from <= c[1] && c[0] <= to {
			return true
		}
	}
	return false
}

// mark opens a span of node in s now, or closes its last at end.
func (f *realFaults) mark(s *spans, node int, end bool) {
	now := time.Since(f.w.start)
	f.mu.Lock()
	defer f.mu.Unlock()
	if *s == nil {
		*s = make(spans, len(f.crashed))
	}
	c := (*s)[node]
	if !end {
		(*s)[node] = append(c, [2]time.Duration{now, time.Duration(math.MaxInt64)})
	} else if len(c) > 0 {
		c[len(c)-1][1] = now
	}
}

// cut notes that node was cut off from a store (or is no longer, at end).
func (f *realFaults) cut(node int, end bool) { f.mark(&f.cuts, node, end) }

// wasCut says whether node was cut off from a store at some moment between
// from and to.
func (f *realFaults) wasCut(node int, from, to time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts.overlaps(node, from, to)
}

// wasHeld says whether a fault held node at some moment between from and
// to: it was cut off from a store, or paused. A round trip then took what
// the fault made it take (an operation to a store that is down fails after
// the connect timeout; a reply that reaches a paused node waits for the
// thaw), which the retimed runs model themselves, and must not take as a
// network delay: a round trip that a pause of 8s held, taken as 4s each
// way, made holder-pause's paused holder reach the store after the next
// holder had published, and fenced no one.
func (f *realFaults) wasHeld(node int, from, to time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts.overlaps(node, from, to) || f.frozen.overlaps(node, from, to)
}
