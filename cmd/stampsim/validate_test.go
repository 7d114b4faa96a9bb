package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// stampsim validate on the flash crowd, against the embedded miniredis:
// exit 0 when both sides agree, and a document with both sides per
// topology.
func TestValidateAgrees(t *testing.T) {
	code, out, errs := exec(t, newApp(io.Discard, io.Discard), context.Background(), "validate", "-t", "two-level", "-t", "global", "-o", "json", "-q")
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, errs)
	}
	var doc struct {
		Schema string `json:"schema"`
		Seed   uint64 `json:"seed"`
		Runs   []struct {
			Topology string         `json:"topology"`
			Sim      map[string]any `json:"sim"`
			Real     map[string]any `json:"real"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if doc.Schema != "stampsim/validate/v1" || doc.Seed != 1 || len(doc.Runs) != 2 {
		t.Fatalf("document: schema %q seed %d, %d runs", doc.Schema, doc.Seed, len(doc.Runs))
	}
	for _, r := range doc.Runs {
		for _, side := range []map[string]any{r.Sim, r.Real} {
			for _, field := range []string{"upstream_calls", "store_ops", "store_commands", "served", "levels", "latency_ms"} {
				if _, ok := side[field]; !ok {
					t.Errorf("%s: a side has no %s", r.Topology, field)
				}
			}
		}
	}
}

// A real side that skips the node level is caught: exit 3, naming the count
// that differs.
func TestValidateCatchesABrokenRealSide(t *testing.T) {
	code, out, errs := exec(t, newApp(io.Discard, io.Discard), context.Background(), "validate", "-t", "two-level", "--break-real-node-level", "-q")
	if code != 3 {
		t.Fatalf("exit %d, want 3; stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "two-level: store_ops (round trips)") || !strings.Contains(out, "DIFFERS two-level: store_ops") {
		t.Errorf("the differing count is not named; stdout:\n%s\nstderr:\n%s", out, errs)
	}
}

// A real side that ignores the scenario's faults is caught: exit 3, naming
// the count that differs (without the pause, no holder is fenced out).
func TestValidateCatchesARealSideIgnoringFaults(t *testing.T) {
	code, out, errs := exec(t, newApp(io.Discard, io.Discard), context.Background(), "validate", "holder-pause", "-t", "two-level", "--break-real-faults", "-q")
	if code != 3 {
		t.Fatalf("exit %d, want 3; stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "two-level: writes_refused") || !strings.Contains(out, "DIFFERS two-level: writes_refused") {
		t.Errorf("the differing count is not named; stdout:\n%s\nstderr:\n%s", out, errs)
	}
}
