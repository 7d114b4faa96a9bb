package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./reports -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// sampleRuns are made-up runs of two topologies, with every field set, so
// that the golden files show every column.
func sampleRuns() []Run {
	return []Run{
		{
			Topology: "none", Requests: 100000, UpstreamCalls: 100000,
			UpstreamCallsByCause:   map[string]uint64{"no-lock": 100000},
			DuplicateUpstreamCalls: 99997, DuplicatesByCause: map[string]uint64{"no-lock": 99997},
			UpstreamErrors: 12, Served: Served{Fetched: 99988, Error: 12},
			LatencyMs: Latency{P50: 1843.2, P90: 2500, P99: 4012.5, P999: 5000.25, Max: 6100, Mean: 1900.125},
			Events:    400012, SimSeconds: 5, WallSeconds: 0.25,
			Series: &Series{
				StepMs: 2.5, Requests: []uint64{0, 100000}, UpstreamCalls: []uint64{0, 100000},
				UpstreamInFlight: []uint64{0, 99000}, StoreOps: []uint64{0, 0}, Waiting: []uint64{0, 100000},
				Served: ServedSeries{
					Hit: []uint64{0, 0}, Collapsed: []uint64{0, 0}, Fetched: []uint64{0, 99988},
					Hedged: []uint64{0, 0}, Stale: []uint64{0, 0}, Error: []uint64{0, 12},
				},
				Errors: []uint64{0, 12}, LatencyP50Ms: []float64{0, 1843.2}, LatencyP99Ms: []float64{0, 4012.5},
			},
		},
		{
			Topology: "two-level", Requests: 100000, UpstreamCalls: 3,
			UpstreamCallsByCause: map[string]uint64{"holder": 3}, DuplicatesByCause: map[string]uint64{},
			StoreOps: 1260, StoreCommands: 3300,
			StoreOpsByKind:     map[string]uint64{"read_or_acquire": 1200, "publish": 3, "subscribe": 57},
			PeakStoreOpsPerSec: 1260,
			Served:             Served{Hit: 40000, Collapsed: 59997, Fetched: 3},
			Levels: []Level{
				{Name: "node", Scope: "node", Acquisitions: 60, Waits: 99940, PeakContenders: 1712},
				{Name: "region", Scope: "region", Acquisitions: 3, Waits: 57, Timeouts: 0, PeakContenders: 20},
			},
			LatencyMs: Latency{P50: 0.0042, P90: 180.5, P99: 201.75, P999: 230, Max: 240.125, Mean: 90.5},
			Stores: []Store{{Name: "r0", Scope: "region", Ops: 420, Commands: 1100, Utilisation: 0.00125,
				QueueWaitMs: QueueWait{Mean: 0.001, P50: 0, P99: 0.02, Max: 0.05}, PeakQueue: 3}},
			Events: 301234, SimSeconds: 5, WallSeconds: 0.5,
			LatencyHistogramMs: &Histogram{Bounds: []float64{0, 0.001, 180, 200, 224, 250}, Counts: []uint64{40000, 0, 5, 59990, 5}},
			Series: &Series{
				StepMs: 1000, Coarsened: 2,
				Requests: []uint64{0, 100000}, UpstreamCalls: []uint64{0, 3}, UpstreamInFlight: []uint64{0, 3},
				StoreOps:       []uint64{0, 1260},
				Stores:         []StoreSeries{{Scope: "region", Stores: 3, Ops: []uint64{0, 1260}, Utilisation: []float64{0, 0.0125}}},
				PeakContenders: [][]int{{0, 1712}, {0, 20}},
				Waiting:        []uint64{0, 99997},
				Served: ServedSeries{
					Hit: []uint64{0, 40000}, Collapsed: []uint64{0, 59997}, Fetched: []uint64{0, 3},
					Hedged: []uint64{0, 0}, Stale: []uint64{0, 0}, Error: []uint64{0, 0},
				},
				Errors: []uint64{0, 0}, LatencyP50Ms: []float64{0, 0.0042}, LatencyP99Ms: []float64{0, 201.75},
			},
		},
	}
}

func sampleResults(t *testing.T) *Results {
	sc, err := scenarios.Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	return &Results{
		Schema: Schema, Scenario: sc.Name, Seed: sc.Seed, Complete: true, Spec: sc,
		Version: "v0.0.0-test", Commit: "0123abc", GoVersion: "go1.26.0",
		Runs: sampleRuns(),
	}
}

func TestWriteJSON(t *testing.T) {
	res := sampleResults(t)
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "results.golden.json", b.Bytes())

	// It reads back as the same document, scenario spec included.
	back, err := ReadJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Errorf("read back differs:\n got %+v\nwant %+v", back, res)
	}
	// Durations are written as text a user can read and scenarios parse.
	if !strings.Contains(b.String(), `"duration": "5s"`) {
		t.Error(`scenario spec lacks "duration": "5s"`)
	}
	// Writing twice gives the same bytes (maps are sorted).
	var again bytes.Buffer
	if err := WriteJSON(&again, res); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("two writes of one document differ")
	}
}

func TestReadJSONChecksSchema(t *testing.T) {
	if _, err := ReadJSON(strings.NewReader(`{"schema": "stampsim/results/v0", "runs": []}`)); err == nil ||
		err.Error() != `reading results: schema "stampsim/results/v0", want "stampsim/results/v2" (or "stampsim/results/v1")` {
		t.Errorf("ReadJSON(old schema) error = %v", err)
	}
}

func TestWriteSeriesCSV(t *testing.T) {
	runs := sampleRuns()
	runs = append(runs, Run{Topology: "global"}) // no series: left out
	var b bytes.Buffer
	if err := WriteSeriesCSV(&b, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "series.golden.csv", b.Bytes())
	if strings.Contains(b.String(), "global") {
		t.Error("a run without a series was written")
	}
}

// Topology names that need quoting in CSV are quoted as encoding/csv would.
func TestWriteSeriesCSVQuotes(t *testing.T) {
	runs := []Run{{Topology: `node,"region"`, Series: &Series{StepMs: 1, Requests: []uint64{7}}}}
	var b bytes.Buffer
	if err := WriteSeriesCSV(&b, runs); err != nil {
		t.Fatal(err)
	}
	want := "topology,time_ms,metric,value\n\"node,\"\"region\"\"\",0,requests,7\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
