package sweeps

import (
	"strconv"
	"strings"
	"time"

	"github.com/stampsim/stampsim/scenarios"
)

// Sweep is a sweep as it runs: read from a file by Parse, every default
// filled in and one size chosen, or read back from the document a sweep
// wrote (encoding/json), which holds it whole so that its shards can be
// merged and checked without the file.
type Sweep struct {
	// Name names the sweep. Default: the file name without its extension.
	Name string `json:"name"`
	// Description is one line saying what the sweep shows.
	Description string `json:"description,omitempty"`
	// Seed is what every point's seeds derive from (Seed). Default 1.
	Seed uint64 `json:"seed"`
	// Size is the size the sweep was read at: SizeDefault or SizeSmall.
	Size string `json:"size"`
	// Base is the scenario every point starts from, with the sweep's
	// set fields (those of the size too) already set.
	Base *scenarios.Scenario `json:"base"`
	// Axes are the fields each point gives a value; the points are every
	// combination of their values, the first axis the slowest to change.
	Axes []Axis `json:"axes"`
	// Repeats is how many times each point runs, each with a seed of its
	// own. Default 1.
	Repeats int `json:"repeats"`
	// Topologies are the lock topologies each repeat of a point runs.
	// Default: the base scenario's.
	Topologies []string `json:"topologies"`
	// Exclude leaves some topologies out of some points.
	Exclude []Exclude `json:"exclude,omitempty"`
	// Figures says what the scaling figures show; nil for the defaults.
	Figures *Figures `json:"figures,omitempty"`

	file   string               // the sweep file's name, for errors
	pos    *scenarios.Positions // where each field of the sweep file is, for errors
	points []Point              // Points, once it has succeeded
}

// The sizes a sweep can be read at.
const (
	// SizeDefault is the sweep as its axes and repeats are written.
	SizeDefault = "default"
	// SizeSmall is the sweep with its small block's axes, repeats and
	// set fields over the others: a few points that run in seconds, for
	// tests and a first look.
	SizeSmall = "small"
)

// Scale says how an axis's values are spread, and so whether a power law
// is fitted against it (log) or not (linear).
type Scale string

// The scales.
const (
	Log    Scale = "log"
	Linear Scale = "linear"
)

// Axis is one field that the points of a sweep give values.
type Axis struct {
	// Path names the field as scenario errors do
	// ("workload.bursts[0].requests").
	Path string `json:"path"`
	// Kind is what the field holds.
	Kind scenarios.FieldKind `json:"-"`
	// Scale is Log for a range with per_decade or values marked so,
	// Linear otherwise.
	Scale Scale `json:"scale"`
	// Values are the axis's values, each in the canonical text of its
	// field's kind (Canonical): "1000", "2.5ms", "true", "notify".
	Values []string `json:"values"`
}

// Exclude leaves Topologies out of the points whose value of the axis at
// Path is above Above or below Below (canonical texts; "" for no bound).
type Exclude struct {
	Topologies []string `json:"topologies"`
	Path       string   `json:"path"`
	Above      string   `json:"above,omitempty"`
	Below      string   `json:"below,omitempty"`
}

// Limits on what a sweep may expand to, so that a typo in a range cannot
// ask for millions of runs or the memory to list them.
const (
	// MaxAxisValues is the most values one axis may have.
	MaxAxisValues = 1000
	// MaxPoints is the most points a sweep may have.
	MaxPoints = 10_000
	// MaxRepeats is the most repeats of each point.
	MaxRepeats = 1000
)

// Number returns the value of a numeric field written in canonical text as
// a number: integers and numbers as they are, durations in milliseconds
// (the unit of the latencies that results report). ok is false for other
// kinds.
func Number(kind scenarios.FieldKind, value string) (x float64, ok bool) {
	switch kind {
	case scenarios.FieldInt, scenarios.FieldUint, scenarios.FieldFloat:
		x, err := strconv.ParseFloat(value, 64)
		return x, err == nil
	case scenarios.FieldDuration:
		d, err := scenarios.ParseDuration(value)
		return float64(d.D()) / float64(time.Millisecond), err == nil
	}
	return 0, false
}

// Unit is the unit of Number for a field of kind: "ms" for durations, ""
// for the others.
func Unit(kind scenarios.FieldKind) string {
	if kind == scenarios.FieldDuration {
		return "ms"
	}
	return ""
}

// Point is one combination of the axes' values.
type Point struct {
	// Index is the point's place in the grid, from 0: the first axis
	// changes slowest.
	Index int
	// Params holds the point's value of each axis, in the axes' order.
	Params []Param
	// Scenario is the sweep's base with the point's values set, checked.
	// Its seed is the base's; each repeat runs with its own (Sweep.Run).
	Scenario *scenarios.Scenario
}

// Param is one axis's value at a point.
type Param struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Label writes the point's values for messages and progress:
// "workload.bursts[0].requests=316, topology.regions=2".
func (p Point) Label() string {
	parts := make([]string, len(p.Params))
	for i, pr := range p.Params {
		parts[i] = pr.Path + "=" + pr.Value
	}
	return strings.Join(parts, ", ")
}
