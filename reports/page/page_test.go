package page

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// load reads testdata/holder-pause.results.json: a real run of the
// holder-pause built-in (which refuses a write, so the page shows the
// fencing column), every topology.
func load(t *testing.T) *reports.Results {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "holder-pause.results.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// figures are three figures as reports/plot describes them, in its
// order: the funnel, how requests were served over time, latency.
var figures = []Figure{
	{Name: "funnel", Title: "The funnel", Caption: "two-level: 2 upstream calls, one per region.", Files: []string{"funnel.png", "funnel.svg"}},
	{Name: "served", Title: "How requests were served over time, per topology", Caption: "two-level 203 hits (10%), 1,796 collapsed (90%) and 2 fetched (0.1%).", Files: []string{"served.png", "served.svg"}},
	{Name: "latency", Title: "Request latency", Caption: "CDF & CCDF of every finished request <by topology>.", Files: []string{"latency.svg", "latency.png"}},
}

var dataFiles = []string{"results.json", "series.csv", "summary.csv"}

func render(t *testing.T, p Page) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./reports/page -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./reports/page -update rewrites it); got:\n%s", path, got)
	}
}

var bodyRow = regexp.MustCompile(`(?s)<tbody>.*</tbody>`)

func TestRender(t *testing.T) {
	res := load(t)
	html := render(t, Page{Results: res, Figures: figures, Files: dataFiles})
	golden(t, "index.golden.html", html)

	want := []string{
		"<title>stampsim: holder-pause</title>",
		res.Spec.Description,
		"Complete: every topology ran to its end.",
		"Seed <code>1</code>", "stampsim <code>v0.0.0-test</code>", "commit <code>0123abc</code>", "<code>go1.26.8</code>",
		reports.Title(res),
		// The scenario as YAML, defaults filled in.
		"name: holder-pause\n", "seed: 1\n", "lease_ttl: 2s",
		// The PNG is shown and every file linked, whatever their order.
		`<img src="funnel.png" alt="The funnel">`, `<a href="funnel.svg">funnel.svg</a>`,
		`<img src="latency.png" alt="Request latency">`, `<a href="latency.svg">latency.svg</a>`,
		"two-level: 2 upstream calls, one per region.",
		`<img src="served.png" alt="How requests were served over time, per topology">`,
		"two-level 203 hits (10%), 1,796 collapsed (90%) and 2 fetched (0.1%).",
		// A caption is text, not markup.
		"CDF &amp; CCDF of every finished request &lt;by topology&gt;.",
		`<a href="summary.csv">summary.csv</a>`,
		// holder-pause refuses writes: the fencing column is shown.
		"<th class=\"num\" title=\"Values a lock holder wrote",
	}
	for _, w := range want {
		if !strings.Contains(html, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	// The figures in the order given: the reader's, which reports/plot
	// chose.
	last := -1
	for _, f := range figures {
		i := strings.Index(html, `<figure id="figure-`+f.Name+`">`)
		if i <= last {
			t.Errorf("figure %s at %d, not after the one before it (%d)", f.Name, i, last)
		}
		last = i
	}
	// Every column shown is explained in the legend.
	for _, c := range reports.NewSummary(res).Columns {
		if !strings.Contains(html, "<dt>"+c.Name+"</dt><dd>"+templateEscape(c.Legend)+"</dd>") {
			t.Errorf("the legend does not explain %s", c.Name)
		}
	}
	// A row per topology, each starting with its name.
	body := bodyRow.FindString(html)
	if n := strings.Count(body, "<tr>"); n != len(res.Runs) {
		t.Errorf("%d rows for %d topologies", n, len(res.Runs))
	}
	for _, r := range res.Runs {
		if !strings.Contains(body, "<tr><td>"+r.Topology+"</td>") {
			t.Errorf("no row for %s", r.Topology)
		}
	}
	// Offline: nothing is loaded from anywhere else.
	for _, bad := range []string{"http://", "https://", "<script", "<link", "@import", "//"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page has %q: it must work offline", bad)
		}
	}
	if strings.Contains(html, "no-figures") {
		t.Error("a page with figures says it has none")
	}
	// The same input gives the same bytes.
	if again := render(t, Page{Results: res, Figures: figures, Files: dataFiles}); again != html {
		t.Error("two renderings of one page differ")
	}
}

// templateEscape escapes s as html/template does text.
func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestRenderStates(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(p *Page)
		want   []string
		absent []string
	}{
		{
			name: "interrupted",
			edit: func(p *Page) {
				res := p.Results
				res.Complete = false
				res.Runs = res.Runs[:3]
				res.Runs[2].Interrupted, res.Runs[2].SimSeconds = true, 1.25
			},
			want: []string{
				`<p class="status incomplete" id="status">Incomplete. The run was interrupted: 2 of 7 topologies finished; one-level was stopped at 1.25s of simulated time, and its counts stop there.</p>`,
				"one-level (interrupted at 1.25s)",
				"; incomplete: interrupted",
			},
			absent: []string{"Complete: every topology"},
		},
		{
			name:   "no-plots",
			edit:   func(p *Page) { p.Figures, p.NoFigures = nil, "Figures were skipped (--no-plots)." },
			want:   []string{`<p id="no-figures">Figures were skipped (--no-plots).</p>`},
			absent: []string{"<img", "<figure"},
		},
		{
			name: "no figures, no reason",
			edit: func(p *Page) { p.Figures = nil },
			want: []string{`<p id="no-figures">No figures were drawn for this run.</p>`},
		},
		{
			name:   "no spec",
			edit:   func(p *Page) { p.Results.Spec, p.Files = nil, nil },
			want:   []string{"The results document holds no scenario."},
			absent: []string{`<pre class="yaml">`, `id="data"`},
		},
		{
			name: "no provenance",
			edit: func(p *Page) { p.Results.Version, p.Results.Commit = "", "" },
			want: []string{"stampsim <code>unknown</code>", "commit <code>unknown</code>"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := Page{Results: load(t), Figures: figures, Files: dataFiles}
			c.edit(&p)
			html := render(t, p)
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
func TestRenderRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		page  Page
		wants []string
	}{
		{"no results", Page{}, []string{"no results document"}},
		{"absolute", Page{Figures: []Figure{{Name: "funnel", Files: []string{"/tmp/funnel.png"}}}}, []string{`figure "funnel"`, `"/tmp/funnel.png"`}},
		{"outside", Page{Figures: []Figure{{Name: "funnel", Files: []string{"../funnel.png"}}}}, []string{`figure "funnel"`, `"../funnel.png"`}},
		{"url", Page{Figures: []Figure{{Name: "cdf", Files: []string{"https://example.com/cdf.png"}}}}, []string{`figure "cdf"`, "https://example.com/cdf.png"}},
		{"backslash", Page{Figures: []Figure{{Name: "cdf", Files: []string{`..\cdf.png`}}}}, []string{`figure "cdf"`}},
		{"no files", Page{Figures: []Figure{{Name: "empty"}}}, []string{`figure "empty" has no files`}},
		{"no image", Page{Figures: []Figure{{Name: "data", Files: []string{"data.csv"}}}}, []string{`figure "data" has no PNG or SVG`}},
		{"data file", Page{Files: []string{"/etc/passwd"}}, []string{"data file", `"/etc/passwd"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.page.Results == nil && c.name != "no results" {
				c.page.Results = load(t)
			}
			var b bytes.Buffer
			err := Render(&b, c.page)
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
