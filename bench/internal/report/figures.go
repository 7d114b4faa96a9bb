package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series is one line of a figure.
type series struct {
	name   string
	points plotter.XYs
	dashed bool
	// color and shape index plotutil's palettes.
	color, shape int
}

// figure is one PNG: a title, axes with their units, a legend.
type figure struct {
	file, title, xLabel, yLabel string
	logX, logY                  bool
	xTicks                      []plot.Tick // categorical x axis, if set
	lines                       []series
}

// save draws f into dir and returns the file's name.
func (f figure) save(dir string) (string, error) {
	p := plot.New()
	p.Title.Text = f.title
	p.X.Label.Text = f.xLabel
	p.Y.Label.Text = f.yLabel
	if f.logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if f.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if f.xTicks != nil {
		p.X.Tick.Marker = plot.ConstantTicks(f.xTicks)
		p.X.Min, p.X.Max = -0.3, float64(len(f.xTicks))-0.7
	}
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.TextStyle.Font.Size = vg.Points(8)
	legend.Top, legend.Left = true, true
	drawn := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range f.lines {
		if len(s.points) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.points)
		if err != nil {
			return "", fmt.Errorf("figure %s, line %s: %w", f.file, s.name, err)
		}
		l.Color = plotutil.Color(s.color)
		pts.Color = plotutil.Color(s.color)
		pts.Shape = plotutil.Shape(s.shape)
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		for _, pt := range s.points {
			lo, hi = min(lo, pt.Y), max(hi, pt.Y)
		}
		p.Add(l, pts)
		legend.Add(s.name, l, pts)
		drawn++
	}
	if drawn == 0 {
		return "", fmt.Errorf("figure %s: no measured point to draw", f.file)
	}
	if f.logY {
		// From a 1-2-5 value below the lowest point to one above the
		// highest, so that the axis has labelled ticks at both ends.
		p.Y.Min, p.Y.Max = step125(lo, false), step125(hi, true)
	}
	// The legend goes beside the plot, not over its lines.
	const width, height, legendWidth = 9 * vg.Inch, 4.6 * vg.Inch, 2.4 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	legend.Draw(draw.Crop(dc, width-legendWidth+vg.Points(6), 0, 0, -vg.Points(24)))
	out, err := os.Create(filepath.Join(dir, f.file))
	if err != nil {
		return "", fmt.Errorf("saving figure %s: %w", f.file, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		out.Close()
		return "", fmt.Errorf("saving figure %s: %w", f.file, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("saving figure %s: %w", f.file, err)
	}
	return f.file, nil
}

// stampedeFigure plots one metric of every peer in one setting over the
// stampede sizes (a categorical axis); points whose value is not positive
// (a peer that sends Redis nothing) are left out, as a log axis must.
func stampedeFigure(s *Suite, file, title, yLabel, metric string, scale float64) figure {
	sizes := StampedeSizes(s)
	f := figure{file: file, title: title, xLabel: "stampede (requests / instances)", yLabel: yLabel, logY: true}
	for i, sz := range sizes {
		f.xTicks = append(f.xTicks, plot.Tick{Value: float64(i), Label: fmt.Sprintf("%s / %d", count(float64(sz[0])), sz[1])})
	}
	for pi, name := range peerOrder {
		for si, setting := range []string{"default", "tuned"} {
			sr := series{name: name + " (" + setting + ")", dashed: setting == "tuned", color: pi, shape: 2*pi + si}
			for i, sz := range sizes {
				us := s.Select(map[string]string{"case": "stampede", "peer": name, "setting": setting, "requests": strconv.Itoa(sz[0]), "instances": strconv.Itoa(sz[1])})
				if len(us) != 1 {
					continue
				}
				if v, n := us[0].Median(Metric(metric)); n > 0 && v > 0 {
					sr.points = append(sr.points, plotter.XY{X: float64(i), Y: v * scale})
				}
			}
			f.lines = append(f.lines, sr)
		}
	}
	return f
}

// simFigure plots one figure of both simulators over the model sizes with
// the long regional wait (a categorical axis: requests over nodes, on two
// lines so that twelve sizes fit side by side), a line per
// simulator.
func simFigure(s *Suite, file, title, yLabel string, f func(map[string]float64) (float64, bool)) figure {
	fig := figure{file: file, title: title, xLabel: "stampede size: requests (top) over nodes (bottom)", yLabel: yLabel, logY: true}
	mine, theirs := series{name: "stampsim"}, series{name: "SimPy 3", dashed: true, color: 1, shape: 1}
	for _, p := range ModelPairs(s) {
		if p.RegionWait != "3s" {
			continue
		}
		x := float64(len(fig.xTicks))
		fig.xTicks = append(fig.xTicks, plot.Tick{Value: x, Label: short(p.Requests) + "\n" + strconv.Itoa(p.Nodes)})
		if v, n := p.Stampsim.Median(f); n > 0 && v > 0 {
			mine.points = append(mine.points, plotter.XY{X: x, Y: v})
		}
		if v, n := p.SimPy.Median(f); n > 0 && v > 0 {
			theirs.points = append(theirs.points, plotter.XY{X: x, Y: v})
		}
	}
	fig.lines = []series{mine, theirs}
	return fig
}

// short writes 1000 as 1k and 1000000 as 1M.
func short(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return strconv.Itoa(n)
}

// logTicks marks a log axis at 1, 2 and 5 times each power of ten, so that
// an axis spanning less than a decade still has labelled ticks; with more
// than three decades only the powers of ten are labelled.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	decades := math.Log10(hi / lo)
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			label := sig(v)
			if decades > 3 && m != 1 {
				label = ""
			}
			out = append(out, plot.Tick{Value: v, Label: label})
		}
	}
	return out
}

// step125 returns the largest 1-2-5 value (1, 2, 5 times a power of ten)
// at most v, or with up the smallest at least v.
func step125(v float64, up bool) float64 {
	e := math.Floor(math.Log10(v))
	cands := []float64{}
	for _, k := range []float64{e - 1, e, e + 1} {
		for _, m := range []float64{1, 2, 5} {
			cands = append(cands, m*math.Pow(10, k))
		}
	}
	best := cands[0]
	if up {
		best = cands[len(cands)-1]
	}
	for _, c := range cands {
		if up && c >= v && c < best {
			best = c
		}
		if !up && c <= v && c > best {
			best = c
		}
	}
	return best
}
