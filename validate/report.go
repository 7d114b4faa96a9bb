package validate

import (
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// Schema names the version of the validation document.
const Schema = "stampsim/validate/v1"

// Pair is one topology run both ways.
type Pair struct {
	Topology string      `json:"topology"`
	Sim      reports.Run `json:"sim"`
	Real     reports.Run `json:"real"`
	// Differences names every comparison that failed, with both values.
	Differences []string `json:"differences,omitempty"`
	// UpstreamCompared says whether upstream calls had to be equal (a
	// locking topology, wait timeouts longer than the upstream, slowed by
	// any upstream-slowdown, and no value expiring while its key is still
	// asked for).
	UpstreamCompared bool `json:"upstream_compared"`
	// Retimed is the simulator run again at the real run's timing, which the
	// real counts are judged against.
	Retimed Retimed `json:"retimed"`
}

// Report is the validation document.
type Report struct {
	Schema      string              `json:"schema"`
	Scenario    string              `json:"scenario"`
	Seed        uint64              `json:"seed"`
	Store       string              `json:"store"`
	Notes       []string            `json:"notes,omitempty"`
	Calibration Calibration         `json:"calibration"`
	Spec        *scenarios.Scenario `json:"scenario_spec"`
	Runs        []Pair              `json:"runs"`
	// Agree is false when any run has a difference.
	Agree bool `json:"agree"`
}
