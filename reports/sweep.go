package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
)

// SweepSchema names the version of the sweep document.
const SweepSchema = "stampsim/sweep/v1"

// SweepResults is the sweep document, sweep.json: the sweep as it ran, a
// row for each run of it (point, repeat and topology), and the power laws
// fitted to them. It holds nothing that depends on the wall clock or on
// how many runs went at once, so a sweep run again, however, is the same
// bytes.
type SweepResults struct {
	Schema string `json:"schema"`
	Sweep  string `json:"sweep"`
	Size   string `json:"size"`
	Seed   uint64 `json:"seed"`
	// Complete says that every row of the sweep (of the shard, for a
	// shard's document) is in Rows.
	Complete bool `json:"complete"`
	// Shard, for the document of one shard of a sweep, says which; the
	// whole sweep's document, run at once or merged, has none.
	Shard *Shard `json:"shard,omitempty"`
	// Spec is the sweep as it ran: its base scenario whole, every axis's
	// values, so that its shards can be merged and checked without the
	// file.
	Spec      *sweeps.Sweep `json:"sweep_spec"`
	Version   string        `json:"stampsim_version,omitempty"`
	Commit    string        `json:"commit,omitempty"`
	GoVersion string        `json:"go_version,omitempty"`
	// Metrics describes the metrics of the rows, in the order of the
	// columns of rows.csv.
	Metrics []Metric `json:"metrics"`
	// Rows are in canonical order: by point, then repeat, then topology
	// in the order of the sweep's topologies.
	Rows []Row `json:"rows"`
	// Fits are the power laws fitted to the rows of a complete sweep
	// (FitPowerLaws); a shard's document or an incomplete one has none.
	Fits []Fit `json:"fits,omitempty"`
}

// Shard is one of Count shards of a sweep, from 0.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Row is one run of a sweep: one repeat of one point on one topology.
type Row struct {
	// Point is the point's index in the sweep's grid, from 0.
	Point int `json:"point"`
	// Params holds the point's value of each axis, in the axes' order.
	Params []Param `json:"params"`
	// Repeat is the repeat, from 0, and Seed the seed it ran with.
	Repeat   int    `json:"repeat"`
	Seed     uint64 `json:"seed"`
	Topology string `json:"topology"`
	// Metrics holds the run's value of each of SweepMetrics it has.
	Metrics map[string]float64 `json:"metrics"`
}

// Param is one axis's value in a row: its canonical text, and for a
// numeric axis the number (durations in milliseconds, Unit "ms").
type Param struct {
	Path   string   `json:"path"`
	Value  string   `json:"value"`
	Number *float64 `json:"number,omitempty"`
	Unit   string   `json:"unit,omitempty"`
}

// Key identifies the row within its sweep: point, repeat, topology.
type Key struct {
	Point, Repeat int
	Topology      string
}

// Key returns the row's key.
func (r Row) Key() Key { return Key{r.Point, r.Repeat, r.Topology} }

// String writes the key for messages.
func (k Key) String() string {
	return fmt.Sprintf("point %d, repeat %d, topology %s", k.Point, k.Repeat, k.Topology)
}

// SortRows puts rows in canonical order: by point, then repeat, then
// topology in the order of topologies.
func SortRows(rows []Row, topologies []string) {
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Point, b.Point), cmp.Compare(a.Repeat, b.Repeat),
			cmp.Compare(slices.Index(topologies, a.Topology), slices.Index(topologies, b.Topology)),
			cmp.Compare(a.Topology, b.Topology))
	})
}

// WriteSweepJSON writes the sweep document as indented JSON followed by a
// newline, deterministically: fields in declaration order, map keys
// sorted, no HTML escaping.
func WriteSweepJSON(w io.Writer, s *SweepResults) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("writing sweep %q: %w", s.Sweep, err)
	}
	return nil
}

// ReadSweepJSON reads a sweep document written by WriteSweepJSON, and
// checks its schema.
func ReadSweepJSON(r io.Reader) (*SweepResults, error) {
	var s SweepResults
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("reading a sweep document: %w", err)
	}
	if s.Schema != SweepSchema {
		return nil, fmt.Errorf("reading a sweep document: schema %q, want %q", s.Schema, SweepSchema)
	}
	if s.Spec == nil {
		return nil, fmt.Errorf("reading a sweep document: it holds no sweep_spec")
	}
	return &s, nil
}

// WorldAt returns the fleet's shape at a point of the sweep: the base
// scenario's topology, with the values that params (a row's Params) give
// the axes that shape it. It is the zero World for a document without a
// base scenario.
func (s *SweepResults) WorldAt(params []Param) scenarios.World {
	if s.Spec == nil || s.Spec.Base == nil {
		return scenarios.World{}
	}
	w := s.Spec.Base.Topology
	for _, p := range params {
		if p.Number == nil {
			continue
		}
		switch n := int(*p.Number); p.Path {
		case "topology.regions":
			w.Regions = n
		case "topology.zones_per_region":
			w.ZonesPerRegion = n
		case "topology.nodes_per_zone":
			w.NodesPerZone = n
		}
	}
	return w
}
