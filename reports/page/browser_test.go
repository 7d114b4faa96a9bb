package page

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/internal/browsertest"
)

// writeFigureFiles writes a PNG (a gradient, w by h pixels) and an SVG for
// each figure into dir.
func writeFigureFiles(t *testing.T, dir string, figs []Figure, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(255 * x / w), uint8(255 * y / h), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"><rect width="%d" height="%d" fill="teal"/></svg>`, w, h, w, h)
	for _, f := range figs {
		for _, file := range f.Files {
			data := b.Bytes()
			if strings.HasSuffix(file, ".svg") {
				data = []byte(svg)
			}
			if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The page as a browser shows it: no errors in the console, every image
// loaded, a table row per topology. A page whose image is missing is
// caught, so that the checks are known to fail when they should.
func TestPageInBrowser(t *testing.T) {
	res := load(t)
	for _, c := range []struct {
		name    string
		missing string // a figure file not written
	}{
		{name: "complete"},
		{name: "missing image", missing: "latency.png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFigureFiles(t, dir, figures, 320, 200)
			if c.missing != "" {
				if err := os.Remove(filepath.Join(dir, c.missing)); err != nil {
					t.Fatal(err)
				}
			}
			var b bytes.Buffer
			if err := Render(&b, Page{Results: res, Figures: figures}); err != nil {
				t.Fatal(err)
			}
			index := filepath.Join(dir, "index.html")
			if err := os.WriteFile(index, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			p := browsertest.Open(t, browsertest.FileURL(t, index))

			if len(p.Images) != len(figures) {
				t.Errorf("%d images on the page, want one per figure (%d)", len(p.Images), len(figures))
			}
			var broken []string
			for _, img := range p.Images {
				if img.NaturalWidth == 0 {
					broken = append(broken, img.Src)
				} else if img.NaturalWidth != 320 || img.NaturalHeight != 200 {
					t.Errorf("%s is %dx%d, want 320x200", img.Src, img.NaturalWidth, img.NaturalHeight)
				}
			}
			rows := browsertest.Eval[int](t, p, `document.querySelectorAll("#summary-table tbody tr").length`)
			if rows != len(res.Runs) {
				t.Errorf("%d table rows, want one per topology (%d)", rows, len(res.Runs))
			}
			if c.missing == "" {
				if len(p.Errors) != 0 {
					t.Errorf("console errors: %q", p.Errors)
				}
				if len(broken) != 0 {
					t.Errorf("images that did not load: %q", broken)
				}
				return
			}
			if len(broken) != 1 || !strings.HasSuffix(broken[0], "/"+c.missing) {
				t.Errorf("images that did not load: %q, want %s", broken, c.missing)
			}
			if len(p.Errors) == 0 || !strings.Contains(strings.Join(p.Errors, "\n"), c.missing) {
				t.Errorf("console errors %q: want one naming %s", p.Errors, c.missing)
			}
		})
	}
}

// A sweep's page as a browser shows it: no errors in the console, every
// figure loaded, a row per axis and the fits of the metrics drawn.
func TestSweepPageInBrowser(t *testing.T) {
	doc := loadSweep(t)
	dir := t.TempDir()
	writeFigureFiles(t, dir, sweepFigs, 320, 200)
	var b bytes.Buffer
	if err := RenderSweep(&b, SweepPage{Doc: doc, Figures: sweepFigs}); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, "index.html")
	if err := os.WriteFile(index, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p := browsertest.Open(t, browsertest.FileURL(t, index))
	if len(p.Errors) != 0 {
		t.Errorf("console errors: %q", p.Errors)
	}
	if len(p.Images) != len(sweepFigs) {
		t.Errorf("%d images on the page, want one per figure (%d)", len(p.Images), len(sweepFigs))
	}
	for _, img := range p.Images {
		if img.NaturalWidth != 320 || img.NaturalHeight != 200 {
			t.Errorf("%s is %dx%d, want 320x200", img.Src, img.NaturalWidth, img.NaturalHeight)
		}
	}
	if n := browsertest.Eval[int](t, p, `document.querySelectorAll("#axes-table tbody tr").length`); n != len(doc.Spec.Axes) {
		t.Errorf("%d axis rows, want %d", n, len(doc.Spec.Axes))
	}
	want, _ := fits(doc)
	if n := browsertest.Eval[int](t, p, `document.querySelectorAll("#fits-table tbody tr").length`); n != len(want) || n == 0 {
		t.Errorf("%d fit rows, want %d", n, len(want))
	}
}
