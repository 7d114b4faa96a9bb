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
	fixtureMu.Lock()
	data, ok := fixtureData[name]
	if !ok {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			fixtureMu.Unlock()
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err == nil {
				raw, err = io.ReadAll(zr)
			}
			if err != nil {
				fixtureMu.Unlock()
				t.Fatalf("%s: %v", name, err)
			}
		}
		data = raw
		fixtureData[name] = data
	}
	fixtureMu.Unlock()
	res, err := reports.ReadJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}
