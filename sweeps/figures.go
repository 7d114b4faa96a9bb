package sweeps

import (
	"fmt"
	"slices"
)

// Figures says what a sweep's scaling figures show: which metrics, a
// figure each, against which axis. A sweep file without a figures block
// leaves both to the defaults (DefaultFigureAxis, and the headline
// metrics that package reports chooses).
type Figures struct {
	// Metrics are the metrics to draw, by their names in rows.csv
	// ("upstream_calls", "peak_contenders_region"); package reports
	// checks that each is one (reports.CheckFigures), since this package
	// does not know the metrics.
	Metrics []string `json:"metrics,omitempty"`
	// Against is the path of the axis the metrics are drawn against:
	// a numeric one. Empty for DefaultFigureAxis.
	Against string `json:"against,omitempty"`
}

// figuresFile is the figures block as written.
type figuresFile struct {
	Metrics []string `yaml:"metrics"`
	Against string   `yaml:"against"`
}

// figures reads the figures block against the axes of the size being
// read, and records its mistakes; nil when the file has none.
func (p *parser) figures(f *figuresFile, axes []Axis) *Figures {
	if f == nil {
		return nil
	}
	out := &Figures{Metrics: f.Metrics, Against: f.Against}
	if p.pos.Has("figures.metrics") && len(f.Metrics) == 0 {
		p.errorf("figures.metrics", "must name at least one metric (a column of rows.csv, such as upstream_calls), or be left out for the headline ones")
	}
	for i, m := range f.Metrics {
		field := fmt.Sprintf("figures.metrics[%d]", i)
		switch {
		case m == "":
			p.errorf(field, "empty: want a metric's name, such as upstream_calls")
		case slices.Contains(f.Metrics[:i], m):
			p.errorf(field, "%s is named twice", m)
		}
	}
	if p.pos.Has("figures.against") {
		k := slices.IndexFunc(axes, func(a Axis) bool { return a.Path == f.Against })
		if k < 0 || !axes[k].Kind.Numeric() {
			p.errorf("figures.against", "want the path of a numeric axis (%s), got %q", axisPaths(numericAxes(axes)), f.Against)
		}
	}
	return out
}

// numericAxes are the axes whose values are numbers.
func numericAxes(axes []Axis) []Axis {
	var out []Axis
	for _, a := range axes {
		if a.Kind.Numeric() {
			out = append(out, a)
		}
	}
	return out
}

// FigureAxis returns the index of the axis that the sweep's figures draw
// their metrics against: the one its figures block names, else
// DefaultFigureAxis; false when the sweep has no numeric axis.
func (s *Sweep) FigureAxis() (int, bool) {
	if s.Figures != nil && s.Figures.Against != "" {
		k := slices.IndexFunc(s.Axes, func(a Axis) bool { return a.Path == s.Figures.Against })
		return k, k >= 0
	}
	return DefaultFigureAxis(s.Axes)
}

// DefaultFigureAxis returns the index of the axis to draw against when a
// sweep does not say: the log axis with the most values (a power law is
// fitted against it), else the numeric axis with the most; of two with as
// many, the later, which changes fastest in the grid. false when no axis
// is numeric.
func DefaultFigureAxis(axes []Axis) (int, bool) {
	best := -1
	better := func(k int) bool {
		if best < 0 {
			return true
		}
		a, b := axes[k], axes[best]
		if (a.Scale == Log) != (b.Scale == Log) {
			return a.Scale == Log
		}
		return len(a.Values) >= len(b.Values)
	}
	for k, a := range axes {
		if a.Kind.Numeric() && better(k) {
			best = k
		}
	}
	return best, best >= 0
}
