package sweeps

import (
	"testing"

	"github.com/stampsim/stampsim/scenarios"
)

// The axis the figures are drawn against: the one the file names, else
// the log axis with the most values, else the numeric one with the most.
func TestFigureAxis(t *testing.T) {
	logAxis := func(path string, n int) Axis {
		return Axis{Path: path, Kind: scenarios.FieldInt, Scale: Log, Values: make([]string, n)}
	}
	linAxis := func(path string, n int) Axis {
		return Axis{Path: path, Kind: scenarios.FieldDuration, Scale: Linear, Values: make([]string, n)}
	}
	text := Axis{Path: "locks.wake", Kind: scenarios.FieldString, Scale: Linear, Values: []string{"notify", "poll"}}
	tests := []struct {
		name    string
		axes    []Axis
		figures *Figures
		want    int
		ok      bool
	}{
		{"one log axis", []Axis{logAxis("a", 5)}, nil, 0, true},
		{"a log axis over a linear one with more values", []Axis{linAxis("a", 9), logAxis("b", 3)}, nil, 1, true},
		{"text, then log", []Axis{text, logAxis("b", 3)}, nil, 1, true},
		{"two log axes: the one with more values", []Axis{logAxis("a", 7), logAxis("b", 3)}, nil, 0, true},
		{"two log axes as long: the later", []Axis{logAxis("a", 3), logAxis("b", 3)}, nil, 1, true},
		{"only linear: the longest", []Axis{linAxis("a", 2), linAxis("b", 4)}, nil, 1, true},
		{"named in the file", []Axis{logAxis("a", 7), logAxis("b", 3)}, &Figures{Against: "b"}, 1, true},
		{"metrics only: the default axis", []Axis{logAxis("a", 7), logAxis("b", 3)}, &Figures{Metrics: []string{"store_ops"}}, 0, true},
		{"no numeric axis", []Axis{text}, nil, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sweep{Axes: tt.axes, Figures: tt.figures}
			got, ok := s.FigureAxis()
			if got != tt.want || ok != tt.ok {
				t.Errorf("FigureAxis() = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// Every built-in sweep says what its figures show, against an axis it
// sweeps, at both sizes.
func TestBuiltinFigures(t *testing.T) {
	for _, name := range BuiltinNames() {
		for _, size := range []string{SizeDefault, SizeSmall} {
			s, err := Builtin(name, size)
			if err != nil {
				t.Fatal(err)
			}
			if s.Figures == nil || len(s.Figures.Metrics) == 0 {
				t.Errorf("%s: no figures block naming its metrics", name)
				continue
			}
			k, ok := s.FigureAxis()
			if !ok || s.Axes[k].Scale != Log {
				t.Errorf("%s at size %s: figures against axis %d (%v), want a log axis", name, size, k, ok)
			}
		}
	}
}
