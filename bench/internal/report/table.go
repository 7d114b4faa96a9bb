package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// table is a Markdown table being built.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(t.head, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(t.head)) + "\n")
	for _, r := range t.rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// count formats a count with thousands separators.
func count(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// sig formats v with three significant digits (integers above 1,000 in full).
func sig(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "0"
	case a >= 1000:
		return count(v)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// ms formats nanoseconds as milliseconds.
func ms(ns float64) string { return sig(ns / 1e6) }

// micros formats nanoseconds as microseconds.
func micros(ns float64) string { return sig(ns / 1e3) }

// times formats a ratio.
func times(r float64) string { return sig(r) + "x" }

const missing = "—"

// metricOr returns format(median of metric) over u's repeats, or the dash
// when no repeat has it.
func metricOr(u *Unit, name string, format func(float64) string) string {
	v, n := u.Median(Metric(name))
	if n == 0 {
		return missing
	}
	return format(v)
}

// ratioOr is metricOr for num/den per repeat.
func ratioOr(u *Unit, num, den string, format func(float64) string) string {
	v, n := u.Median(Ratio(num, den))
	if n == 0 {
		return missing
	}
	return format(v)
}

func repeatsOf(u *Unit) string { return fmt.Sprint(len(u.Repeats)) }
