package plot

import (
	"math"
	"strconv"
	"strings"
)

// count writes n with thousands separators: 100,000.
func count[T uint64 | int](n T) string {
	// Counts in results are far below 2^63, so int64 holds them all.
	s := strconv.FormatInt(int64(n), 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// ms writes a latency in milliseconds briefly: 0.4 ms, 170 ms, 2.2 s.
func ms(v float64) string {
	switch {
	case v >= 10000:
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + " s"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + " ms"
	default:
		return trimFloat(v) + " ms"
	}
}

// at writes a time in milliseconds of simulated time: 1,005 ms, 2.4 s.
func at(v float64) string {
	if v >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + " s"
	}
	return count(int(math.Round(v))) + " ms"
}

// span writes the time range [a, b] in ms in one unit, that of b: "1,000
// to 1,095 ms", "0 to 10.0 s".
func span(a, b float64) string {
	if b >= 10000 {
		return strconv.FormatFloat(a/1000, 'f', 1, 64) + " to " + at(b)
	}
	return count(int(math.Round(a))) + " to " + at(b)
}

// join lists items with commas and a final "and".
func join(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// perUnit says how n relates to the fleet when it is exactly one per unit
// of scope: " (one per region)"; empty otherwise.
func perUnit(n uint64, f fleet, scope string) string {
	u := f.units(scope)
	if u > 1 && n == uint64(u) {
		return " (one per " + scope + ")"
	}
	return ""
}
