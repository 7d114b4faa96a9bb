// Package plot draws the figures of a results document: the funnel from
// requests through each lock level's winners to upstream calls, upstream
// calls over time, how the requests were served over time (served), the
// background refreshes and how they ended (refreshes, when any ran), lock
// contenders and store load over time, request latency, and a summary of
// every topology; and the scaling figures of a sweep document:
// each chosen cost against a swept axis on log-log axes, with the fitted
// power laws. Each is PNG and SVG, with a caption computed from the
// numbers.
//
// It must not run, measure or import the simulator, nor fit anything: it
// reads a reports.Results or reports.SweepResults and draws what it holds
// (the sweep's fits among it), so that a document written long ago can be
// drawn again.
package plot

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/stampsim/stampsim/reports"
)

// Figure is one figure written to a directory.
type Figure struct {
	// Name is the file stem, e.g. "funnel".
	Name string
	// Title is the figure's title, for the page.
	Title string
	// Caption is computed from the data: what the figure shows, in one or
	// two sentences.
	Caption string
	// Files are the files written, relative to the directory:
	// "funnel.png", "funnel.svg".
	Files []string
}

// builder makes one kind of figure from the results, or returns nil when
// the results hold nothing it could draw (no series, no histogram).
type builder func(in *input) (*figure, error)

// builders are the figures in the order a reader should see them: the
// funnel first (what each topology let through), then how it happened over
// time: what reached the upstream, and beside it what the requests got
// (how they were served, and how the background refreshes behind stale
// replies ended), then the locks and stores that made it so; then what it
// cost in latency, and the summary last.
var builders = []builder{
	funnelFigure,
	upstreamFigure,
	servedFigure,
	refreshesFigure,
	contendersFigure,
	storeLoadFigure,
	latencyFigure,
	summaryFigure,
}

// WriteAll draws every figure the results support into dir, as PNG and
// SVG, and returns them in the order a reader should see them. A document
// without time series (written with them switched off, or before they
// existed) gets the figures that need none; one without runs gets none. The
// directory is made if it does not exist.
func WriteAll(dir string, res *reports.Results) ([]Figure, error) {
	if res == nil {
		return nil, errors.New("drawing figures: no results")
	}
	in := newInput(res)
	var figs []*figure
	for _, b := range builders {
		f, err := b(in)
		if err != nil {
			return nil, err
		}
		if f != nil {
			figs = append(figs, f)
		}
	}
	if len(figs) == 0 {
		return nil, nil
	}
	return writeFigures(dir, figs)
}

// writeFigures draws figs into dir, which it makes if need be, and
// returns them in order.
func writeFigures(dir string, figs []*figure) ([]Figure, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("drawing figures: %w", err)
	}
	// The figures are drawn side by side, one per processor: rasterising
	// and compressing the PNGs is most of the time, and figures share
	// nothing but gonum's font cache, which locks.
	out := make([]Figure, len(figs))
	errs := make([]error, len(figs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(figs)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = figs[i].write(dir)
			}
		})
	}
	for i := range figs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// input is what every figure draws from: the results, their runs in
// order, a colour for each topology and the fleet's shape.
type input struct {
	res   *reports.Results
	runs  []*reports.Run
	pal   palette
	fleet fleet
	time  timeAxis
	// faults are the scenario's faults, shaded in the time series.
	faults []fault
}

func newInput(res *reports.Results) *input {
	in := &input{res: res, fleet: newFleet(res), time: newTimeAxis(res), faults: faultsOf(res)}
	names := make([]string, 0, len(res.Runs))
	for i := range res.Runs {
		in.runs = append(in.runs, &res.Runs[i])
		names = append(names, res.Runs[i].Topology)
	}
	in.pal = newPalette(names)
	return in
}

// fleet is the shape of the simulated fleet, for captions that relate
// counts to it ("one per region"); zero when the results do not say.
type fleet struct {
	regions, zonesPerRegion, nodesPerZone int
}

func newFleet(res *reports.Results) fleet {
	if res.Spec == nil {
		return fleet{}
	}
	t := res.Spec.Topology
	return fleet{regions: t.Regions, zonesPerRegion: t.ZonesPerRegion, nodesPerZone: t.NodesPerZone}
}

// units is how many units of the fleet the scope has: 60 nodes, 6 zones,
// 3 regions, 1 global; 0 when the fleet is unknown.
func (f fleet) units(scope string) int {
	switch scope {
	case "node":
		return f.regions * f.zonesPerRegion * f.nodesPerZone
	case "zone":
		return f.regions * f.zonesPerRegion
	case "region":
		return f.regions
	case "global":
		if f.regions > 0 {
			return 1
		}
	}
	return 0
}

// within is how many units of scope inner one unit of scope outer holds:
// the nodes of a region, the zones of the world; 0 when unknown.
func (f fleet) within(inner, outer string) int {
	in, out := f.units(inner), f.units(outer)
	if in == 0 || out == 0 || in%out != 0 {
		return 0
	}
	return in / out
}
