package page

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

// loadSweep reads testdata/requests-small.sweep.json.gz: a real run of the
// built-in requests sweep at its small size (stampsim sweep requests
// --size small), every topology.
func loadSweep(t *testing.T) *reports.SweepResults {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "requests-small.sweep.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := reports.ReadSweepJSON(zr)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// sweepFigs are two scaling figures as reports/plot describes them.
var sweepFigs = []Figure{
	{Name: "scaling-upstream-calls", Title: "Upstream calls against requests in the burst", Caption: "two-level as requests^0.00 (flat at 3, the regions).", Files: []string{"scaling-upstream-calls.png", "scaling-upstream-calls.svg"}},
	{Name: "scaling-store-ops", Title: "Store round trips", Caption: "one-level & global <grow>.", Files: []string{"scaling-store-ops.svg", "scaling-store-ops.png"}},
}

var sweepFiles = []string{"sweep.json", "rows.csv", "fits.csv"}

func renderSweep(t *testing.T, p SweepPage) string {
	t.Helper()
	var b bytes.Buffer
	if err := RenderSweep(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRenderSweep(t *testing.T) {
	doc := loadSweep(t)
	html := renderSweep(t, SweepPage{Doc: doc, Figures: sweepFigs, Files: sweepFiles})
	golden(t, "sweep.golden.html", html)
	for _, w := range []string{
		"<title>stampsim sweep: requests</title>",
		doc.Spec.Description,
		`<p class="status complete" id="status">Complete: all 18 runs finished.</p>`,
		"Seed <code>1</code> · size <code>small</code> · 1 repeat of each point",
		"<td><code>workload.bursts[0].requests</code> (the figures' x axis)</td><td>log</td><td>1000, 3160, 10000</td>",
		// The fits of the metrics drawn, not the others.
		"<tr><td>peak_contenders_shared</td><td>two-level</td><td></td><td class=\"num\">0.000</td>",
		"The fits of the 5 metrics drawn, of 48 in all",
		`<img src="scaling-upstream-calls.png" alt="Upstream calls against requests in the burst">`,
		`<img src="scaling-store-ops.png" alt="Store round trips">`, `<a href="scaling-store-ops.svg">scaling-store-ops.svg</a>`,
		"one-level &amp; global &lt;grow&gt;.",
		`<a href="fits.csv">fits.csv</a>`,
		// The sweep as YAML, in the document's order, block style.
		"name: requests\n", "axes:\n  - path: workload.bursts[0].requests\n    scale: log\n", "  lease_ttl: 5s\n",
	} {
		if !strings.Contains(html, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if strings.Contains(html, "<td>leases_lost</td>") {
		t.Error("the page lists the fits of a metric it does not draw")
	}
	for _, bad := range []string{"http://", "https://", "<script", "<link", "@import", "//"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page has %q: it must work offline", bad)
		}
	}
	if again := renderSweep(t, SweepPage{Doc: doc, Figures: sweepFigs, Files: sweepFiles}); again != html {
		t.Error("two renderings of one page differ")
	}
}

func TestRenderSweepStates(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(p *SweepPage)
		want   []string
		absent []string
	}{
		{
			name: "interrupted",
			edit: func(p *SweepPage) {
				p.Doc.Complete, p.Doc.Fits, p.Doc.Rows = false, nil, p.Doc.Rows[:7]
				p.Figures, p.NoFigures = nil, "Figures were not drawn, so that the interrupted sweep could stop at once."
				p.Resume = "stampsim sweep requests --size small --out out --resume"
			},
			want: []string{
				`<p class="status incomplete" id="status">Incomplete: the sweep was stopped with 7 runs finished; no power law is fitted until every run has. stampsim sweep requests --size small --out out --resume runs the rest.</p>`,
				`<p id="no-figures">Figures were not drawn, so that the interrupted sweep could stop at once.</p>`,
				`<p id="no-fits">`,
			},
			absent: []string{"Complete:", "<img", `id="fits-table"`},
		},
		{
			name: "a shard",
			edit: func(p *SweepPage) {
				p.Doc.Shard, p.Doc.Fits, p.Doc.Rows = &reports.Shard{Index: 1, Count: 3}, nil, p.Doc.Rows[:5]
				p.Figures = nil
			},
			want: []string{"Shard 1 of 3 (counted from 0): 5 runs.", "stampsim sweep merge", "No figures were drawn for this sweep."},
		},
		{
			name: "no provenance",
			edit: func(p *SweepPage) { p.Doc.Version, p.Doc.Commit, p.Doc.GoVersion = "", "", "" },
			want: []string{"stampsim <code>unknown</code>", "commit <code>unknown</code>"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := SweepPage{Doc: loadSweep(t), Figures: sweepFigs, Files: sweepFiles}
			c.edit(&p)
			html := renderSweep(t, p)
			for _, w := range c.want {
				if !strings.Contains(html, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(html, a) {
					t.Errorf("the page has %q", a)
				}
			}
		})
	}
}

// A page that could not find its files once moved, or offline, is refused
// with an error that names the figure and the file.
func TestRenderSweepRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		page  SweepPage
		wants []string
	}{
		{"no document", SweepPage{}, []string{"no sweep document"}},
		{"absolute", SweepPage{Figures: []Figure{{Name: "f", Files: []string{"/tmp/f.png"}}}}, []string{`figure "f"`, `"/tmp/f.png"`}},
		{"outside", SweepPage{Figures: []Figure{{Name: "f", Files: []string{"../f.png"}}}}, []string{`figure "f"`, `"../f.png"`}},
		{"url", SweepPage{Figures: []Figure{{Name: "f", Files: []string{"https://example.com/f.png"}}}}, []string{`figure "f"`, "https://example.com/f.png"}},
		{"no files", SweepPage{Figures: []Figure{{Name: "empty"}}}, []string{`figure "empty" has no files`}},
		{"no image", SweepPage{Figures: []Figure{{Name: "data", Files: []string{"data.csv"}}}}, []string{`figure "data" has no PNG or SVG`}},
		{"data file", SweepPage{Files: []string{"/etc/passwd"}}, []string{"data file", `"/etc/passwd"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "no document" {
				c.page.Doc = loadSweep(t)
			}
			var b bytes.Buffer
			err := RenderSweep(&b, c.page)
			if err == nil {
				t.Fatal("rendered")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
