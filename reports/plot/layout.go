package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// dpi is the resolution of the PNG files: 10 inches wide make 1,200
// pixels, sharp on a wide screen and still readable when the page shrinks
// them to a column.
const dpi = 120

// figureWidth is the width of every figure.
const figureWidth = 10 * vg.Inch

// figure is one figure before it is drawn: a title, a legend shared by its
// panels, a grid of panels and a note under them.
type figure struct {
	name    string
	title   string
	caption string
	height  vg.Length
	legend  []legendEntry
	// rows are the panels, row by row; every row has the same number of
	// columns, and a nil panel leaves its cell empty.
	rows [][]*gplot.Plot
	// note is drawn under the panels: what a reader needs to read them
	// right (how zeros are drawn, what was cut).
	note string
	// panelLegends, when not nil, has the shape of rows: a legend drawn
	// above each panel, for what differs from panel to panel (the
	// exponents of a scaling figure's panels).
	panelLegends [][][]legendEntry
}

// legendEntry is one entry of a figure's legend: a line or a filled box
// and its label, or with neither a heading in bold, which starts a
// panel's legend with what the panel shows.
type legendEntry struct {
	label string
	line  *draw.LineStyle
	fill  color.Color
}

// heading reports whether e is a heading.
func (e legendEntry) heading() bool { return e.line == nil && e.fill == nil }

// width is how wide e is in a legend of style sty, with the gap after it.
func (e legendEntry) width(sty text.Style) vg.Length {
	if e.heading() {
		sty.Font.Weight = xfont.WeightBold
		return sty.Width(e.label) + vg.Points(16)
	}
	return legendSwatch + vg.Points(5) + sty.Width(e.label) + vg.Points(16)
}

// Margins and gaps of the figure's layout.
var (
	margin   = vg.Points(10)
	panelGap = vg.Points(18)
)

// draw draws f onto c: title, legend, panels, note, top to bottom.
func (f *figure) draw(c draw.Canvas) {
	area := c.Rectangle
	area.Min.X += margin
	area.Max.X -= margin
	area.Max.Y -= margin
	area.Min.Y += margin

	title := textStyle(titleSize, ink)
	title.Font.Weight = xfont.WeightBold
	title.XAlign = draw.XLeft
	title.YAlign = draw.YTop
	c.FillText(title, vg.Point{X: area.Min.X, Y: area.Max.Y}, f.title)
	area.Max.Y -= title.Height(f.title) + vg.Points(6)

	area.Max.Y -= drawLegend(c, area, f.legend) + vg.Points(4)

	if f.note != "" {
		note := textStyle(noteSize, softInk)
		note.XAlign = draw.XLeft
		note.YAlign = draw.YBottom
		lines := wrap(note, f.note, area.Max.X-area.Min.X)
		for i := len(lines) - 1; i >= 0; i-- {
			c.FillText(note, vg.Point{X: area.Min.X, Y: area.Min.Y}, lines[i])
			area.Min.Y += note.Height(lines[i]) + vg.Points(2)
		}
		area.Min.Y += vg.Points(4)
	}

	if len(f.rows) == 0 {
		return
	}
	tiles := draw.Tiles{Rows: len(f.rows), Cols: len(f.rows[0]), PadX: panelGap, PadY: panelGap}
	panels := draw.Canvas{Canvas: c.Canvas, Rectangle: area}
	tops := f.panelLegendHeights(tiles, panels)
	for i, row := range alignedTiles(f.rows, tiles, panels, tops) {
		for j, tile := range row {
			p := f.rows[i][j]
			if p == nil {
				continue
			}
			if tops[i] > 0 {
				strip := tile.Rectangle
				strip.Min.Y = strip.Max.Y
				strip.Max.Y += tops[i]
				drawLegend(c, strip, f.panelLegends[i][j])
			}
			p.Draw(tile)
		}
	}
}

// panelLegendHeights returns, for each row of panels, the height of the
// strip above them that their legends take: the tallest of the row, so
// that the panels of a row still start at the same height.
func (f *figure) panelLegendHeights(tiles draw.Tiles, c draw.Canvas) []vg.Length {
	tops := make([]vg.Length, len(f.rows))
	if f.panelLegends == nil {
		return tops
	}
	for i, row := range f.panelLegends {
		for j, entries := range row {
			if len(entries) == 0 {
				continue
			}
			r := tiles.At(c, j, i).Rectangle
			tops[i] = max(tops[i], legendHeight(r.Max.X-r.Min.X, entries)+vg.Points(2))
		}
	}
	return tops
}

// alignedTiles are the canvases of the panels, cropped so that each data
// area starts where those of the other panels of its column start (left)
// and of its row (bottom): stacked time series then share one time axis.
// gonum's own Align leaves uneven gaps above panels whose tick labels
// differ.
// tops is the height to leave free at the top of each row's tiles (for
// the panels' legends).
func alignedTiles(rows [][]*gplot.Plot, tiles draw.Tiles, c draw.Canvas, tops []vg.Length) [][]draw.Canvas {
	out := make([][]draw.Canvas, len(rows))
	left := make([][]vg.Length, len(rows))
	bottom := make([][]vg.Length, len(rows))
	maxLeft := make([]vg.Length, tiles.Cols)
	maxBottom := make([]vg.Length, len(rows))
	for i, row := range rows {
		out[i] = make([]draw.Canvas, len(row))
		left[i] = make([]vg.Length, len(row))
		bottom[i] = make([]vg.Length, len(row))
		for j, p := range row {
			out[i][j] = tiles.At(c, j, i)
			if tops[i] > 0 {
				out[i][j] = draw.Crop(out[i][j], 0, 0, 0, -tops[i])
			}
			if p == nil {
				continue
			}
			d := p.DataCanvas(out[i][j])
			left[i][j], bottom[i][j] = d.Min.X-out[i][j].Min.X, d.Min.Y-out[i][j].Min.Y
			maxLeft[j] = max(maxLeft[j], left[i][j])
			maxBottom[i] = max(maxBottom[i], bottom[i][j])
		}
	}
	for i, row := range rows {
		for j := range row {
			out[i][j] = draw.Crop(out[i][j], maxLeft[j]-left[i][j], 0, maxBottom[i]-bottom[i][j], 0)
		}
	}
	return out
}

// legendStyle is the style of a legend's labels.
func legendStyle() text.Style {
	sty := textStyle(legendSize, ink)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	return sty
}

// legendSwatch is the width of a legend entry's line or box.
var legendSwatch = vg.Points(22)

// placeLegend lays entries out across width, wrapping onto more rows when
// they are wider, and returns where each entry starts (x from the left
// edge, and its row from 0) and the height they take.
func placeLegend(width vg.Length, entries []legendEntry) (xs []vg.Length, rows []int, height vg.Length) {
	sty := legendStyle()
	rowH := sty.Height("Mg") + vg.Points(5)
	x, row := vg.Length(0), 0
	for _, e := range entries {
		w := e.width(sty)
		if x+w > width && x > 0 {
			x = 0
			row++
		}
		xs, rows = append(xs, x), append(rows, row)
		x += w
	}
	return xs, rows, vg.Length(row+1) * rowH
}

// legendHeight is the height that entries take across width.
func legendHeight(width vg.Length, entries []legendEntry) vg.Length {
	if len(entries) == 0 {
		return 0
	}
	_, _, h := placeLegend(width, entries)
	return h
}

// drawLegend draws entries across the top of area, wrapping onto more
// rows when they are wider, and returns the height it took. The legend
// sits outside the panels so that it never covers data.
func drawLegend(c draw.Canvas, area vg.Rectangle, entries []legendEntry) vg.Length {
	if len(entries) == 0 {
		return 0
	}
	sty := legendStyle()
	rowH := sty.Height("Mg") + vg.Points(5)
	xs, rows, height := placeLegend(area.Max.X-area.Min.X, entries)
	for i, e := range entries {
		x, y := area.Min.X+xs[i], area.Max.Y-rowH/2-vg.Length(rows[i])*rowH
		switch {
		case e.heading():
			bold := sty
			bold.Font.Weight = xfont.WeightBold
			c.FillText(bold, vg.Point{X: x, Y: y}, e.label)
			continue
		case e.line != nil:
			c.StrokeLine2(*e.line, x, y, x+legendSwatch, y)
		case e.fill != nil:
			box := vg.Rectangle{
				Min: vg.Point{X: x + vg.Points(3), Y: y - vg.Points(5)},
				Max: vg.Point{X: x + legendSwatch - vg.Points(3), Y: y + vg.Points(5)},
			}
			c.FillPolygon(e.fill, corners(box))
		}
		c.FillText(sty, vg.Point{X: x + legendSwatch + vg.Points(5), Y: y}, e.label)
	}
	return height
}

// render draws f as PNG and SVG and returns both files' contents.
func (f *figure) render() (pngData, svgData []byte, err error) {
	defer func() {
		// gonum panics on input it cannot draw (a log axis given a zero
		// the code above missed); a figure must fail, not the run.
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing figure %s: %v", f.name, r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(figureWidth, f.height), vgimg.UseDPI(dpi))
	f.draw(draw.New(img))
	var pb bytes.Buffer
	// The fastest compression: the default one took 40% of the drawing
	// time, for files a fifth smaller.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&pb, img.Image()); err != nil {
		return nil, nil, fmt.Errorf("encoding figure %s as PNG: %w", f.name, err)
	}
	svgData, err = f.renderSVG()
	return pb.Bytes(), svgData, err
}

// renderSVG draws f as SVG alone, which is quick: tests check most
// figures so, since rasterising under the race detector is slow.
func (f *figure) renderSVG() (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing figure %s: %v", f.name, r)
		}
	}()
	svg := vgsvg.New(figureWidth, f.height)
	f.draw(draw.New(svg))
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return nil, fmt.Errorf("encoding figure %s as SVG: %w", f.name, err)
	}
	return sb.Bytes(), nil
}

// write renders f into dir as NAME.png and NAME.svg.
func (f *figure) write(dir string) (Figure, error) {
	pngData, svgData, err := f.render()
	if err != nil {
		return Figure{}, err
	}
	out := Figure{Name: f.name, Title: f.title, Caption: f.caption}
	for _, file := range []struct {
		name string
		data []byte
	}{{f.name + ".png", pngData}, {f.name + ".svg", svgData}} {
		if err := os.WriteFile(filepath.Join(dir, file.name), file.data, 0o644); err != nil {
			return Figure{}, fmt.Errorf("writing figure %s: %w", f.name, err)
		}
		out.Files = append(out.Files, file.name)
	}
	return out, nil
}

// valueLabel draws a short label centred above the point (x, y) of c, for
// the numbers on top of bars.
func valueLabel(c draw.Canvas, x, y vg.Length, s string) {
	sty := textStyle(valueSize, ink)
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YBottom
	c.FillText(sty, vg.Point{X: x, Y: y + vg.Points(1.5)}, s)
}

// corners are the corners of r, anticlockwise from the bottom left, for
// FillPolygon and StrokeLines.
func corners(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
}

// wrap breaks s into lines no wider than width in style sty, at spaces,
// but never between a number and its unit ("10.4 s").
func wrap(sty text.Style, s string, width vg.Length) []string {
	var words []string
	for _, w := range strings.Fields(s) {
		if unit := strings.TrimRight(w, ".,;:)"); len(words) > 0 && (unit == "s" || unit == "ms" || unit == "µs") {
			words[len(words)-1] += " " + w
			continue
		}
		words = append(words, w)
	}
	var lines []string
	line := ""
	for _, w := range words {
		next := w
		if line != "" {
			next = line + " " + w
		}
		if line != "" && sty.Width(next) > width {
			lines = append(lines, line)
			next = w
		}
		line = next
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
