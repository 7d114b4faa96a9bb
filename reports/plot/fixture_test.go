package plot

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

// The fixtures are results documents of built-ins as `stampsim run
// BUILTIN --out DIR` writes them:
//
//   - NAME.json.gz: schema v2, every series at the default step and the
//     latency histograms (gzipped: the series are mostly zeros);
//   - NAME.v1.json: schema v1, written before the series had a step (a
//     sample a second, fewer series, no histograms), which ReadJSON still
//     reads.
//
// swr-steady-day.json.gz is the one run of a cache policy: two-level with
// and without stale-while-revalidate, so that replies served stale while
// revalidating and background refreshes are not zero.
//
// Regenerate a v2 one with
//
//	stampsim run flash-crowd -q --out /tmp/fc && gzip -9 -c /tmp/fc/results.json > testdata/flash-crowd.json.gz

var (
	fixtureMu   sync.Mutex
	fixtureData = map[string][]byte{}
)

// loadFixture reads testdata/NAME with reports.ReadJSON, as `stampsim
// report` would. Each caller gets a document of its own to change.
func loadFixture(t testing.TB, name string) *reports.Results {
	t.Helper()
	res, err := reports.ReadJSON(bytes.NewReader(fixtureBytes(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// loadSweepFixture reads testdata/NAME with reports.ReadSweepJSON. The
// sweep fixtures are real sweeps too:
//
//   - requests-small.sweep.json.gz: stampsim sweep requests --size small
//     (six topologies, three points, one repeat);
//   - grid.sweep.json.gz: stampsim sweep testdata/grid.sweep.yaml (two
//     axes, three repeats: a panel per upstream latency, and bands).
//
// Each caller gets a document of its own to change.
func loadSweepFixture(t testing.TB, name string) *reports.SweepResults {
	t.Helper()
	doc, err := reports.ReadSweepJSON(bytes.NewReader(fixtureBytes(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// fixtureBytes returns the contents of testdata/NAME, gunzipped if it
// ends in .gz, read once.
func fixtureBytes(t testing.TB, name string) []byte {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if data, ok := fixtureData[name]; ok {
		return data
	}
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	fixtureData[name] = raw
	return raw
}
