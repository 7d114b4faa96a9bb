package plot

import (
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is the typeface of every text in the figures: gonum's default is a
// serif, which reads poorly at tick-label sizes.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Font sizes, in points.
const (
	titleSize  = 15
	panelSize  = 12
	labelSize  = 11
	tickSize   = 10
	legendSize = 11
	noteSize   = 9.5
	valueSize  = 8
)

// textStyle is a text style in the figures' typeface.
func textStyle(size float64, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(sans, font.Length(size)),
		Handler: gplot.DefaultTextHandler,
	}
}

var (
	ink     = color.Gray{Y: 0x20}
	softInk = color.Gray{Y: 0x60}
	gridInk = color.Gray{Y: 0xe0}
)

// grid is a plotter of light lines at the major ticks of the value axis
// (horizontal lines for a vertical one), to read values off it; it goes
// first, under the data.
func grid(valueAxisVertical bool) *plotter.Grid {
	g := plotter.NewGrid()
	line := draw.LineStyle{Color: gridInk, Width: vg.Points(0.6)}
	g.Vertical, g.Horizontal = draw.LineStyle{}, draw.LineStyle{}
	if valueAxisVertical {
		g.Horizontal = line
	} else {
		g.Vertical = line
	}
	return g
}

// topologyColours gives each built-in topology its colour in every figure,
// from the Okabe-Ito palette, which colour-blind readers can tell apart: the
// unprotected topology in vermillion, the two-level lock in blue.
var topologyColours = map[string]color.RGBA{
	"none":        {0xD5, 0x5E, 0x00, 0xff},
	"node-only":   {0xE6, 0x9F, 0x00, 0xff},
	"one-level":   {0xCC, 0x79, 0xA7, 0xff},
	"two-level":   {0x00, 0x72, 0xB2, 0xff},
	"global":      {0x00, 0x9E, 0x73, 0xff},
	"fanout-tree": {0x56, 0xB4, 0xE9, 0xff},
}

// spareColours colour custom topologies, in the order they first appear in
// the results.
var spareColours = []color.RGBA{
	{0x33, 0x33, 0x33, 0xff},
	{0x8C, 0x6D, 0x00, 0xff},
	{0x88, 0x22, 0x55, 0xff},
	{0x44, 0xAA, 0x99, 0xff},
	{0x99, 0x99, 0x33, 0xff},
	{0x66, 0x66, 0xCC, 0xff},
}

// topologyDashes give every topology a dash pattern as well as a colour,
// so that lines that overlap (two-level and fanout-tree often do) can still
// be told apart, and the figures survive being printed in grey.
var topologyDashes = map[string][]vg.Length{
	"none":        nil,
	"node-only":   {vg.Points(6), vg.Points(2)},
	"one-level":   {vg.Points(2), vg.Points(2)},
	"two-level":   nil,
	"global":      {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)},
	"fanout-tree": {vg.Points(4), vg.Points(3)},
}

// palette holds the colour and dash pattern of each topology of one
// results document.
type palette struct {
	colours map[string]color.RGBA
	dashes  map[string][]vg.Length
}

// newPalette assigns colours to the topologies of names: the built-ins
// keep theirs, others take the spare colours in order.
func newPalette(names []string) palette {
	p := palette{colours: map[string]color.RGBA{}, dashes: map[string][]vg.Length{}}
	spare := 0
	for _, n := range names {
		if _, ok := p.colours[n]; ok {
			continue
		}
		if c, ok := topologyColours[n]; ok {
			p.colours[n] = c
			p.dashes[n] = topologyDashes[n]
			continue
		}
		p.colours[n] = spareColours[spare%len(spareColours)]
		p.dashes[n] = []vg.Length{vg.Points(1), vg.Points(2)}
		spare++
	}
	return p
}

// line is the line style of topology name.
func (p palette) line(name string) draw.LineStyle {
	return draw.LineStyle{Color: p.colours[name], Width: vg.Points(1.6), Dashes: p.dashes[name]}
}

// newPanel returns a plot styled like every panel of the figures: the
// figures' typeface, light grid lines, no title unless given.
func newPanel(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(panelSize, ink)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = vg.Points(4)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = textStyle(labelSize, ink)
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Tick.Label.Color = ink
		a.Tick.Length = vg.Points(4)
		a.LineStyle.Color = softInk
		a.Tick.LineStyle.Color = softInk
		a.Padding = vg.Points(2)
	}
	// The axes' own alignments: gonum rotates the y label itself.
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.XAlign = draw.XCenter
		a.Label.TextStyle.YAlign = draw.YBottom
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	return p
}
