package counting

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampsim/stampsim/locks"
)

// Run assembles a results entry from what a side counted: totals from their
// parts, maps with only what occurred, a holder's duplicates named
// lease-expired and uncaused ones in the total only, each level's peak from
// the machines (node level) or the contention (shared levels), latency in
// milliseconds. The expected entry is testdata/run.golden.json.
func TestRun(t *testing.T) {
	topo, err := locks.Builtin("two-level", locks.Level{LeaseTTL: time.Second, WaitTimeout: time.Second, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := hdrhistogram.New(0, 3_600_000_000, 3)
	for _, us := range []int64{0, 0, 150, 1234, 1235, 250_000} {
		_ = h.RecordValue(us)
	}
	c := Counts{
		Topology: topo, Requests: 100, Unfinished: 2,
		Served:   [locks.NumServed]uint64{locks.ServedHit: 90, locks.ServedCollapsed: 5, locks.ServedFetched: 2, locks.ServedError: 1},
		Upstream: [locks.NumCauses]uint64{locks.CauseHolder: 2, locks.CauseWaiterTimeout: 1}, UpstreamErrors: 1,
		DuplicatesByCause:  [locks.NumCauses]uint64{locks.CauseHolder: 1, locks.CauseWaiterTimeout: 1},
		UncausedDuplicates: 3,
		StoreOps:           [locks.NumOpKinds]uint64{locks.OpReadOrAcquire: 10, locks.OpPublish: 2},
		StoreCommands:      44, PeakStoreOpsPerSec: 9, StoreErrors: 1, LeasesLost: 1, WritesRefused: 1,
		Levels: [locks.MaxLevels]locks.LevelStats{
			{Acquisitions: 10, Waits: 5, Timeouts: 0, PeakContenders: 6},
			{Acquisitions: 2, Waits: 8, Timeouts: 1, PeakContenders: 99}, // a shared level's machine peak is not the level's
		},
		Contenders: [locks.MaxLevels]int{77, 4}, // nor the node level's contention
		Latency:    h, Events: 1000, SimSeconds: 2.5,
	}
	got, err := json.MarshalIndent(c.Run(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/run.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("Run() =\n%s\nwant (testdata/run.golden.json)\n%s", got, want)
	}
}
