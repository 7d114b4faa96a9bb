package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

// allFigures are the figures of a run with series and histograms and
// without background refreshes, in the order WriteAll returns them;
// policyFigures those of one with background refreshes.
var (
	allFigures    = []string{"funnel", "upstream", "served", "contenders", "store-load", "latency", "summary"}
	policyFigures = []string{"funnel", "upstream", "served", "refreshes", "contenders", "store-load", "latency", "summary"}
)

// checkFiles checks that every figure's files exist and are what they
// claim: a PNG of the figure's size in pixels with more than a handful of
// colours, an SVG that parses and has the figure's size in points.
func checkFiles(t *testing.T, dir string, res *reports.Results, figs []Figure) {
	t.Helper()
	heights := map[string]float64{}
	in := newInput(res)
	for _, b := range builders {
		f, err := b(in)
		if err != nil {
			t.Fatal(err)
		}
		if f != nil {
			heights[f.name] = f.height.Points()
		}
	}
	for _, f := range figs {
		if want := []string{f.Name + ".png", f.Name + ".svg"}; !slices.Equal(f.Files, want) {
			t.Errorf("%s: files %v, want %v", f.Name, f.Files, want)
		}
		if f.Title == "" || f.Caption == "" {
			t.Errorf("%s: title %q, caption %q: want both", f.Name, f.Title, f.Caption)
		}
		wantW := int(math.Round(figureWidth.Points() / 72 * dpi))
		wantH := int(math.Round(heights[f.Name] / 72 * dpi))
		checkPNG(t, filepath.Join(dir, f.Name+".png"), wantW, wantH)
		checkSVG(t, filepath.Join(dir, f.Name+".svg"), figureWidth.Points(), heights[f.Name])
	}
}

// checkPNG checks that file is a w×h PNG that is not blank: a figure has
// text, axes and coloured lines, so hundreds of colours once antialiased.
func checkPNG(t *testing.T, file string, w, h int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("%s: %d×%d pixels, want %d×%d", file, cfg.Width, cfg.Height, w, h)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if n := colours(img, 20); n < 20 {
		t.Errorf("%s: %d distinct colours, want at least 20 (a blank or near-blank image)", file, n)
	}
}

// colours counts the distinct colours of img, up to enough.
func colours(img image.Image, enough int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= enough {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// checkSVG checks that file parses as XML, has an svg root of w×h points
// and draws text and paths.
func checkSVG(t *testing.T, file string, w, h float64) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	elements := map[string]int{}
	var root *xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s: not XML: %v", file, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == nil {
				root = &se
			}
			elements[se.Name.Local]++
		}
	}
	if root == nil || root.Name.Local != "svg" {
		t.Fatalf("%s: root element %v, want svg", file, root)
	}
	size := map[string]string{}
	for _, a := range root.Attr {
		size[a.Name.Local] = a.Value
	}
	for attr, want := range map[string]float64{"width": w, "height": h} {
		got, err := strconv.ParseFloat(strings.TrimSuffix(size[attr], "pt"), 64)
		if err != nil || math.Abs(got-want) > 0.01 {
			t.Errorf("%s: %s %q, want %gpt", file, attr, size[attr], want)
		}
	}
	if elements["text"] < 5 || elements["path"] < 5 {
		t.Errorf("%s: %d text and %d path elements, want several of each", file, elements["text"], elements["path"])
	}
}

func names(figs []Figure) []string {
	var out []string
	for _, f := range figs {
		out = append(out, f.Name)
	}
	return out
}

// TestWriteAll draws the figures of realistic results, with the cases of
// data a figure must survive, and checks which figures each gets and that
// every file is sound.
func TestWriteAll(t *testing.T) {
	flash := func(t *testing.T) *reports.Results { return loadFixture(t, "flash-crowd.json.gz") }
	tests := []struct {
		name string
		res  func(t *testing.T) *reports.Results
		want []string
	}{
		{"flash-crowd", flash, allFigures},
		{"holder-pause: a custom topology, a node paused", func(t *testing.T) *reports.Results {
			return loadFixture(t, "holder-pause.json.gz")
		}, allFigures},
		{"region-store-outage: a store down", func(t *testing.T) *reports.Results {
			return loadFixture(t, "region-store-outage.json.gz")
		}, allFigures},
		{"swr-steady-day: stale-while-revalidate, background refreshes", func(t *testing.T) *reports.Results {
			return loadFixture(t, "swr-steady-day.json.gz")
		}, policyFigures},
		{"swr-steady-day without series", func(t *testing.T) *reports.Results {
			res := loadFixture(t, "swr-steady-day.json.gz")
			for i := range res.Runs {
				res.Runs[i].Series = nil
			}
			return res
		}, []string{"funnel", "refreshes", "latency", "summary"}},
		{"a v1 document: per-second series, none at the node level, no histogram", func(t *testing.T) *reports.Results {
			return loadFixture(t, "flash-crowd.v1.json")
		}, []string{"funnel", "upstream", "contenders", "summary"}},
		{"no series, histograms", func(t *testing.T) *reports.Results {
			res := flash(t)
			for i := range res.Runs {
				res.Runs[i].Series = nil
			}
			return res
		}, []string{"funnel", "latency", "summary"}},
		{"no series, no histograms", func(t *testing.T) *reports.Results {
			res := loadFixture(t, "flash-crowd.v1.json")
			for i := range res.Runs {
				res.Runs[i].Series = nil
			}
			return res
		}, []string{"funnel", "summary"}},
		{"all-zero series and counts", func(t *testing.T) *reports.Results {
			res := flash(t)
			for i := range res.Runs {
				zero(&res.Runs[i])
			}
			return res
		}, []string{"funnel", "upstream", "contenders", "store-load", "summary"}},
		{"all-zero, with refreshes that all ended at zero", func(t *testing.T) *reports.Results {
			res := loadFixture(t, "swr-steady-day.json.gz")
			for i := range res.Runs {
				zero(&res.Runs[i])
				res.Runs[i].Refreshes = &reports.Refreshes{}
			}
			return res
		}, []string{"funnel", "upstream", "contenders", "store-load", "summary"}},
		// The one sample kept is the stampede's first step: every request
		// arrived, none was answered yet, so nothing was served.
		{"single-point series", func(t *testing.T) *reports.Results {
			res := flash(t)
			for i := range res.Runs {
				truncate(res.Runs[i].Series, 200, 201)
			}
			return res
		}, []string{"funnel", "upstream", "contenders", "store-load", "latency", "summary"}},
		{"single-point series, stale-while-revalidate", func(t *testing.T) *reports.Results {
			res := loadFixture(t, "swr-steady-day.json.gz")
			for i := range res.Runs {
				truncate(res.Runs[i].Series, 500, 501)
			}
			return res
		}, policyFigures},
		{"series of different lengths, a missing level", func(t *testing.T) *reports.Results {
			res := flash(t)
			s := res.Runs[3].Series
			s.UpstreamCalls = s.UpstreamCalls[:10]
			s.PeakContenders = s.PeakContenders[:1]
			s.Stores[0].Utilisation = nil
			s.Served.Hit = s.Served.Hit[:7]
			s.Served.Collapsed = nil
			res.Runs[4].Series.Served.Fetched = append(res.Runs[4].Series.Served.Fetched, 5, 5, 5)
			return res
		}, allFigures},
		{"one run, no spec", func(t *testing.T) *reports.Results {
			res := flash(t)
			res.Spec = nil
			res.Runs = res.Runs[3:4]
			return res
		}, allFigures},
		{"no runs", func(t *testing.T) *reports.Results {
			res := flash(t)
			res.Runs = nil
			return res
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Drawing is most of the package's test time (under -race
			// minutes): use both processors.
			t.Parallel()
			res := tt.res(t)
			dir := lookAt(t, tt.name)
			figs, err := WriteAll(dir, res)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(figs); !slices.Equal(got, tt.want) {
				t.Fatalf("figures %v, want %v", got, tt.want)
			}
			checkFiles(t, dir, res, figs)
		})
	}
}

// TestWriteAllDeterministic draws the same results twice and wants the
// same bytes in every file.
func TestWriteAllDeterministic(t *testing.T) {
	for _, name := range []string{"holder-pause.json.gz", "swr-steady-day.json.gz"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := loadFixture(t, name)
			a, b := t.TempDir(), t.TempDir()
			figs, err := WriteAll(a, res)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := WriteAll(b, res); err != nil {
				t.Fatal(err)
			}
			for _, f := range figs {
				for _, file := range f.Files {
					x, errX := os.ReadFile(filepath.Join(a, file))
					y, errY := os.ReadFile(filepath.Join(b, file))
					if errX != nil || errY != nil || len(x) == 0 {
						t.Fatalf("%s: %v, %v (%d bytes)", file, errX, errY, len(x))
					}
					if !bytes.Equal(x, y) {
						t.Errorf("%s differs between two drawings of the same results", file)
					}
				}
			}
		})
	}
}

// TestWriteAllErrors checks the errors of input that cannot be drawn.
func TestWriteAllErrors(t *testing.T) {
	if _, err := WriteAll(t.TempDir(), nil); err == nil {
		t.Error("nil results: no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := WriteAll(filepath.Join(file, "figures"), loadFixture(t, "flash-crowd.v1.json"))
	if err == nil || !strings.Contains(err.Error(), "figures") {
		t.Errorf("a directory under a file: error %v, want one naming it", err)
	}
}

// TestCaptions checks that the captions say what the numbers say.
func TestCaptions(t *testing.T) {
	// The captions are computed before anything is drawn: building the
	// figures is enough.
	in := newInput(loadFixture(t, "flash-crowd.json.gz"))
	caption := map[string]string{}
	for _, b := range builders {
		f, err := b(in)
		if err != nil {
			t.Fatal(err)
		}
		if f != nil {
			caption[f.name] = f.caption
		}
	}
	for _, tt := range []struct{ figure, want string }{
		{"funnel", "100,000 requests"},
		{"funnel", "none 97,101"},
		{"funnel", "node-only 60 (one per node)"},
		{"funnel", "two-level 3 (one per region)"},
		{"funnel", "fanout-tree 1."},
		{"upstream", "two-level 3 "},
		{"contenders", "two-level 20 (every node of the region)"},
		{"contenders", "fanout-tree 10 (every node of the zone)"},
		{"contenders", "global 98,936"},
		{"store-load", "one-level up to"},
		{"served", "none 2,899 hits (10%) and 25,069 fetched (90%)"},
		{"served", "node-only 2,779 hits (2.8%), 97,161 collapsed (97%) and 60 fetched (0.1%)"},
		{"latency", "none 72%"},
		{"latency", "two-level 170 ms / 603 ms"},
		{"summary", "upstream calls from global and fanout-tree (1) to none (97,101)"},
	} {
		if !strings.Contains(caption[tt.figure], tt.want) {
			t.Errorf("%s caption %q does not say %q", tt.figure, caption[tt.figure], tt.want)
		}
	}
}

// TestColours checks that a topology keeps its colour whatever else ran,
// and that custom topologies get colours of their own.
func TestColours(t *testing.T) {
	a := newPalette([]string{"none", "two-level"})
	b := newPalette([]string{"two-level", "mine", "yours", "none"})
	if a.colours["two-level"] != b.colours["two-level"] || a.colours["none"] != b.colours["none"] {
		t.Error("a built-in topology's colour depends on the others")
	}
	seen := map[string]string{}
	for _, n := range []string{"two-level", "mine", "yours", "none"} {
		c := fmt.Sprint(b.colours[n])
		if other, ok := seen[c]; ok {
			t.Errorf("%s and %s share colour %s", n, other, c)
		}
		seen[c] = n
	}
}
