package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows a bar on stderr once the work has taken more than a
// second of wall time, so that short runs print nothing: of simulated
// time for a run (update), of estimated work for a sweep (set).
type progress struct {
	w       io.Writer
	enabled bool
	desc    string
	start   time.Time
	bar     *progressbar.ProgressBar
}

func newProgress(w io.Writer, enabled bool, desc string) *progress {
	return &progress{w: w, enabled: enabled, desc: desc, start: wallNow()}
}

// update is a world.Options.Progress callback.
func (p *progress) update(done, total time.Duration) {
	p.set(float64(done.Milliseconds()), float64(total.Milliseconds()))
}

// set shows done of total, in any unit: the bar shows the share done
// and the time left, not the unit.
func (p *progress) set(done, total float64) {
	if !p.enabled {
		return
	}
	if p.bar == nil {
		if wallNow().Sub(p.start) < time.Second {
			return
		}
		p.bar = progressbar.NewOptions64(int64(total),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set64(int64(done))
}

// describe changes the bar's description.
func (p *progress) describe(desc string) {
	p.desc = desc
	if p.bar != nil {
		p.bar.Describe(desc)
	}
}

// finish clears the bar, if one was shown.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
