package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// A v1 document, written by stampsim before the series had a step of their
// own (testdata/results-v1.json: a 3s run of two topologies, so three
// samples a series), reads as v2: one sample a second, the series v1 had,
// and nothing made up for those it did not.
func TestReadJSONV1(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "results-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, []byte(`"schema": "stampsim/results/v1"`)) || bytes.Contains(old, []byte(`"step_ms"`)) {
		t.Fatal("testdata/results-v1.json is not a v1 document")
	}
	res, err := ReadJSON(bytes.NewReader(old))
	if err != nil {
		t.Fatalf("a v1 document does not load: %v", err)
	}
	if res.Schema != Schema || !res.Complete || len(res.Runs) != 2 {
		t.Fatalf("schema %q, complete %v, %d runs; want %q, true, 2", res.Schema, res.Complete, len(res.Runs), Schema)
	}
	two, none := res.Runs[0].Series, res.Runs[1].Series
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"two-level step", two.StepMs, 1000.0},
		{"two-level requests", two.Requests, []uint64{8, 16, 6}},
		{"two-level upstream calls", two.UpstreamCalls, []uint64{2, 0, 0}},
		{"two-level store ops", two.StoreOps, []uint64{5, 1, 0}},
		{"two-level errors", two.Errors, []uint64{0, 0, 0}},
		{"two-level p99", two.LatencyP99Ms, []float64{21.759, 1.351, 0}},
		{"two-level contenders", two.PeakContenders, [][]int{{0, 0, 0}, {1, 0, 0}}},
		{"none step", none.StepMs, 1000.0},
		{"none upstream calls", none.UpstreamCalls, []uint64{3, 1, 0}},
		// What v1 did not have stays empty.
		{"in flight", two.UpstreamInFlight, []uint64(nil)},
		{"waiting", two.Waiting, []uint64(nil)},
		{"p50", two.LatencyP50Ms, []float64(nil)},
		{"stores", two.Stores, []StoreSeries(nil)},
		{"served", two.Served, ServedSeries{}},
		{"histogram", res.Runs[0].LatencyHistogramMs, (*Histogram)(nil)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// Written again, it is a v2 document that reads back the same, and its
	// CSV has the rows of the series v1 had, a second apart.
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&b)
	if err != nil || !reflect.DeepEqual(back, res) {
		t.Errorf("written as v2 and read back: %v, differs: %v", err, !reflect.DeepEqual(back, res))
	}
	var csv bytes.Buffer
	if err := WriteSeriesCSV(&csv, res.Runs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"two-level,2000,requests,6\n", "none,1000,upstream_calls,1\n", "two-level,0,peak_contenders_region,1\n"} {
		if !bytes.Contains(csv.Bytes(), []byte(want)) {
			t.Errorf("series.csv of the v1 document lacks %q:\n%s", want, csv.Bytes())
		}
	}
	if bytes.Contains(csv.Bytes(), []byte("waiting")) {
		t.Error("series.csv of the v1 document has rows for a series v1 did not have")
	}
}
