package reports

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the results document as indented JSON followed by a
// newline. The output is deterministic: fields in declaration order, map
// keys sorted, no HTML escaping.
func WriteJSON(w io.Writer, r *Results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing results of %q: %w", r.Scenario, err)
	}
	return nil
}

// ReadJSON reads a results document written by WriteJSON, and checks its
// schema. A v1 document (SchemaV1) is read as v2: its series had one
// sample a second, so they get StepMs 1000 and keep the fields v1 had
// (requests, upstream calls, store operations, errors, p99 latency, peak
// contenders), the others left empty; the document's Schema then says v2.
//
// A document written before the complete field existed is read as complete
// when it holds a run for every topology of its scenario_spec: such
// documents held finished runs only (an interrupted run left out the
// topology it stopped in), so that count is exactly what complete means.
func ReadJSON(r io.Reader) (*Results, error) {
	var doc struct {
		*Results
		// Complete shadows Results.Complete, to tell a document without
		// the field from one that says false.
		Complete *bool `json:"complete"`
	}
	doc.Results = new(Results)
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	res := doc.Results
	switch res.Schema {
	case Schema:
	case SchemaV1:
		upgradeV1(res)
	default:
		return nil, fmt.Errorf("reading results: schema %q, want %q (or %q)", res.Schema, Schema, SchemaV1)
	}
	if doc.Complete != nil {
		res.Complete = *doc.Complete
	} else {
		res.Complete = res.Spec != nil && len(res.Runs) == len(res.Spec.Topologies)
	}
	return res, nil
}
