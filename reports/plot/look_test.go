package plot

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampsim/stampsim/reports"
)

// -look DIR also writes the figures of every case of TestWriteAll under
// DIR, one directory a case, to be looked at:
//
//	go test ./reports/plot -run TestWriteAll -args -look /tmp/figures
var lookDir = flag.String("look", "", "also write the figures of every TestWriteAll case under this directory")

// lookAt returns the directory to write the figures of test case name
// into: under -look when it is set, else a temporary one.
func lookAt(t *testing.T, name string) string {
	if *lookDir == "" {
		return t.TempDir()
	}
	return filepath.Join(*lookDir, strings.NewReplacer(" ", "-", ",", "", ":", "").Replace(name))
}

// -draw FILE draws the results document FILE into -look, for a look at a
// real run's figures:
//
//	go test ./reports/plot -run TestDraw -args -draw results.json -look /tmp/figures
var drawFile = flag.String("draw", "", "draw this results document into the -look directory")

func TestDraw(t *testing.T) {
	if *drawFile == "" || *lookDir == "" {
		t.Skip("no -draw file and -look directory")
	}
	f, err := os.Open(*drawFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	start, cpu0 := time.Now(), cpuTime()
	figs, err := WriteAll(*lookDir, res)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drew %d figures in %v (%v of processor time)", len(figs), time.Since(start).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
	for _, f := range figs {
		t.Logf("%s: %s\n%s", f.Name, f.Title, f.Caption)
	}
}

// cpuTime is the processor time this process has used, which says more
// than the wall clock on a machine busy with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// -sweep FILE draws the scaling figures of the sweep document FILE into
// -look:
//
//	go test ./reports/plot -run TestDrawSweep -args -sweep out/sweep.json -look /tmp/figures
var sweepFile = flag.String("sweep", "", "draw the scaling figures of this sweep document into the -look directory")

func TestDrawSweep(t *testing.T) {
	if *sweepFile == "" || *lookDir == "" {
		t.Skip("no -sweep file and -look directory")
	}
	f, err := os.Open(*sweepFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := reports.ReadSweepJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	start, cpu0 := time.Now(), cpuTime()
	figs, err := WriteSweep(*lookDir, doc)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drew %d figures in %v (%v of processor time)", len(figs), time.Since(start).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
	for _, f := range figs {
		t.Logf("%s: %s\n%s", f.Name, f.Title, f.Caption)
	}
}
