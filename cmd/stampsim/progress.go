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

// progress shows a bar of simulated time on stderr once a run has taken
// more than a second of wall time, so that short runs print nothing.
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
	if !p.enabled {
		return
	}
	if p.bar == nil {
		if wallNow().Sub(p.start) < time.Second {
			return
		}
		p.bar = progressbar.NewOptions64(total.Milliseconds(),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set64(done.Milliseconds())
}

// finish clears the bar, if one was shown.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
