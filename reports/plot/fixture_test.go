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

// zero sets every count and series value of r to zero, as a run in
// which nothing arrived would have them.
func zero(r *reports.Run) {
	*r = reports.Run{Topology: r.Topology, Levels: r.Levels, Stores: r.Stores, Series: r.Series, SimSeconds: r.SimSeconds}
	for i := range r.Levels {
		r.Levels[i].Acquisitions, r.Levels[i].PeakContenders = 0, 0
	}
	s := r.Series
	for _, vs := range [][]uint64{s.Requests, s.UpstreamCalls, s.UpstreamInFlight, s.StoreOps, s.Waiting, s.Errors} {
		clear(vs)
	}
	for _, k := range servedKinds {
		clear(k.series(&s.Served))
	}
	for _, c := range s.PeakContenders {
		clear(c)
	}
	for _, st := range s.Stores {
		clear(st.Ops)
		clear(st.Utilisation)
	}
	clear(s.LatencyP50Ms)
	clear(s.LatencyP99Ms)
}

// truncate keeps samples [lo, hi) of s.
func truncate(s *reports.Series, lo, hi int) {
	cut := func(vs []uint64) []uint64 { return vs[lo:hi] }
	s.Requests, s.UpstreamCalls, s.UpstreamInFlight, s.StoreOps = cut(s.Requests), cut(s.UpstreamCalls), cut(s.UpstreamInFlight), cut(s.StoreOps)
	s.Waiting, s.Errors = cut(s.Waiting), cut(s.Errors)
	sv := &s.Served
	sv.Hit, sv.Collapsed, sv.Fetched, sv.Hedged, sv.Stale, sv.Error = cut(sv.Hit), cut(sv.Collapsed), cut(sv.Fetched), cut(sv.Hedged), cut(sv.Stale), cut(sv.Error)
	if sv.Revalidating != nil {
		sv.Revalidating = cut(sv.Revalidating)
	}
	for i := range s.PeakContenders {
		s.PeakContenders[i] = s.PeakContenders[i][lo:hi]
	}
	for i := range s.Stores {
		s.Stores[i].Ops = cut(s.Stores[i].Ops)
		s.Stores[i].Utilisation = s.Stores[i].Utilisation[lo:hi]
	}
	s.LatencyP50Ms, s.LatencyP99Ms = s.LatencyP50Ms[lo:hi], s.LatencyP99Ms[lo:hi]
}
