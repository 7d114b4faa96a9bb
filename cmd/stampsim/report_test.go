package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/reports/page"
)

// stubDraw makes a draw figures as reports/plot would: a PNG and an SVG
// for each of two figures, named in the captions by the runs they show.
// It records the documents it was given.
func stubDraw(t *testing.T, a *app) *[]*reports.Results {
	var drawn []*reports.Results
	a.draw = func(dir string, res *reports.Results) ([]page.Figure, error) {
		drawn = append(drawn, res)
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 4))); err != nil {
			t.Fatal(err)
		}
		var figs []page.Figure
		for _, name := range []string{"funnel", "upstream"} {
			f := page.Figure{Name: name, Title: "The " + name, Caption: fmt.Sprintf("%d topologies.", len(res.Runs)),
				Files: []string{name + ".png", name + ".svg"}}
			if err := os.WriteFile(filepath.Join(dir, name+".png"), b.Bytes(), 0o644); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, name+".svg"), []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 0o644); err != nil {
				return nil, err
			}
			figs = append(figs, f)
		}
		return figs, nil
	}
	return &drawn
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// run --out writes the data files, the figures and a page that shows
// them, once, from the finished document.
func TestRunOutWritesTheReport(t *testing.T) {
	a, _ := stubApp(t)
	drawn := stubDraw(t, a)
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errs := exec(t, a, context.Background(), "run", "holder-pause", "-t", "none,two-level", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, f := range []string{"results.json", "series.csv", "summary.csv", "index.html", "funnel.png", "funnel.svg", "upstream.png", "upstream.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--out wrote no %s: %v", f, err)
		}
	}
	if len(*drawn) != 1 || len((*drawn)[0].Runs) != 2 || !(*drawn)[0].Complete {
		t.Errorf("figures drawn %d times; want once, from the complete document", len(*drawn))
	}
	html := readFile(t, filepath.Join(dir, "index.html"))
	for _, want := range []string{`<img src="funnel.png"`, `<a href="upstream.svg">`, "2 topologies.", "Complete: every topology",
		`<a href="results.json">`, `<a href="summary.csv">`, "name: holder-pause\n"} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	summary := readFile(t, filepath.Join(dir, "summary.csv"))
	if !strings.HasPrefix(summary, "topology,interrupted,requests,upstream_calls,") || strings.Count(summary, "\n") != 3 {
		t.Errorf("summary.csv:\n%s", summary)
	}
	if !strings.HasPrefix(out, "holder-pause, seed 1: 12s of traffic on 10 nodes") {
		t.Errorf("the table has no title:\n%s", out)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// --no-plots draws nothing, and the page says so.
	a, _ = stubApp(t)
	drawn = stubDraw(t, a)
	dir = t.TempDir()
	if code, _, errs := exec(t, a, context.Background(), "run", "-t", "none", "--out", dir, "--no-plots"); code != 0 {
		t.Fatalf("--no-plots: exit %d: %s", code, errs)
	}
	if len(*drawn) != 0 {
		t.Error("--no-plots drew figures")
	}
	if html := readFile(t, filepath.Join(dir, "index.html")); !strings.Contains(html, "Figures were skipped (--no-plots)") || strings.Contains(html, "<img") {
		t.Errorf("the page of a --no-plots run does not say that figures were skipped:\n%s", html)
	}
}

// A figure that cannot be drawn fails the run (status 1) after the data
// files are written, saying what failed.
func TestRunDrawError(t *testing.T) {
	a, _ := stubApp(t)
	a.draw = func(string, *reports.Results) ([]page.Figure, error) { return nil, errors.New("disk full") }
	dir := t.TempDir()
	code, _, errs := exec(t, a, context.Background(), "run", "-t", "none", "--out", dir)
	if code != 1 || errs != fmt.Sprintf("stampsim: drawing the figures of flash-crowd into %s: disk full\n", dir) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
		t.Errorf("results.json was not kept: %v", err)
	}
}

// -o csv prints the summary table as CSV: a header with units, a row per
// topology.
func TestRunCSV(t *testing.T) {
	a, _ := stubApp(t)
	code, out, errs := exec(t, a, context.Background(), "run", "-t", "none,two-level,fanout-tree", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("stdout is not CSV: %v\n%s", err, out)
	}
	if len(rows) != 4 || rows[1][0] != "none" || rows[3][0] != "fanout-tree" {
		t.Fatalf("want a header and 3 rows:\n%s", out)
	}
	header := strings.Join(rows[0], ",")
	for _, col := range []string{"upstream_calls", "p99_latency_ms", "peak_contenders_zone", "writes_refused"} {
		if !strings.Contains(header, col) {
			t.Errorf("header %q lacks %s", header, col)
		}
	}
}

// An interrupted run with --out still writes its page, which says that
// the results are incomplete, without figures: drawing them could take
// longer than a signal lets the command take to stop.
func TestInterruptedRunWritesThePage(t *testing.T) {
	a, _ := stubApp(t)
	drawn := stubDraw(t, a)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interruptAfter(a, 2, ctx, cancel)
	dir := t.TempDir()
	if code, _, errs := exec(t, a, ctx, "run", "-t", "none,two-level,global", "--out", dir, "-o", "csv"); code != 130 {
		t.Fatalf("exit %d, want 130: %s", code, errs)
	}
	html := readFile(t, filepath.Join(dir, "index.html"))
	if !strings.Contains(html, "Incomplete. The run was interrupted: 1 of 3 topologies finished; two-level was stopped at 1.25s") {
		t.Errorf("the page of an interrupted run does not say so:\n%s", html)
	}
	if len(*drawn) != 0 {
		t.Errorf("figures drawn %d times for an interrupted run; want none", len(*drawn))
	}
	if want := "Figures were not drawn, so that the interrupted run could stop at once: stampsim report " + dir + " draws them from results.json."; !strings.Contains(html, want) {
		t.Errorf("the page does not say why it has no figures; want %q", want)
	}
	if summary := readFile(t, filepath.Join(dir, "summary.csv")); !strings.Contains(summary, "\ntwo-level,true,") {
		t.Errorf("summary.csv does not mark the interrupted run:\n%s", summary)
	}
}

// report draws the page and figures again from a results document, the
// same bytes each time, beside it or into --out with a copy of it.
func TestReport(t *testing.T) {
	a, _ := stubApp(t)
	stubDraw(t, a)
	dir := t.TempDir()
	if code, _, errs := exec(t, a, context.Background(), "run", "holder-pause", "-t", "two-level,short-lease-no-renew", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	files := []string{"index.html", "summary.csv", "series.csv", "funnel.png", "upstream.svg"}
	before := map[string]string{}
	for _, f := range files {
		before[f] = readFile(t, filepath.Join(dir, f))
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	doc := readFile(t, filepath.Join(dir, "results.json"))

	for _, arg := range []string{dir, filepath.Join(dir, "results.json")} {
		a, opts := stubApp(t)
		drawn := stubDraw(t, a)
		code, out, errs := exec(t, a, context.Background(), "report", arg)
		if code != 0 || out != "" || errs != "" {
			t.Fatalf("report %s: exit %d, stdout %q, stderr %q", arg, code, out, errs)
		}
		if len(*opts) != 0 || len(*drawn) != 1 {
			t.Errorf("report %s ran %d simulations and drew %d times; want none and once", arg, len(*opts), len(*drawn))
		}
		for _, f := range files {
			if got := readFile(t, filepath.Join(dir, f)); got != before[f] {
				t.Errorf("report %s: %s differs from the run's", arg, f)
			}
		}
		if readFile(t, filepath.Join(dir, "results.json")) != doc {
			t.Errorf("report %s changed results.json", arg)
		}
	}

	// Into another directory: a copy of the document, byte for byte, so
	// that the page's link to it works there.
	other := filepath.Join(t.TempDir(), "elsewhere")
	a, _ = stubApp(t)
	stubDraw(t, a)
	if code, _, errs := exec(t, a, context.Background(), "report", filepath.Join(dir, "results.json"), "--out", other, "--no-plots"); code != 0 {
		t.Fatalf("report --out: exit %d: %s", code, errs)
	}
	if readFile(t, filepath.Join(other, "results.json")) != doc {
		t.Error("report --out did not copy results.json as it was")
	}
	html := readFile(t, filepath.Join(other, "index.html"))
	if !strings.Contains(html, "Figures were skipped (--no-plots)") || !strings.Contains(html, `<a href="results.json">`) {
		t.Errorf("report --out --no-plots page:\n%s", html)
	}

	// A document of another name is linked by its name.
	renamed := filepath.Join(t.TempDir(), "old run.json")
	if err := os.WriteFile(renamed, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := exec(t, a, context.Background(), "report", renamed); code != 0 {
		t.Fatalf("report %s: exit %d: %s", renamed, code, errs)
	}
	if html := readFile(t, filepath.Join(filepath.Dir(renamed), "index.html")); !strings.Contains(html, `<a href="old%20run.json">old run.json</a>`) {
		t.Errorf("the page does not link the document by its name:\n%s", html)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(renamed), "results.json")); err == nil {
		t.Error("report wrote a results.json beside a document of another name")
	}
}

// report refuses what is not a results document with status 2, a message
// naming the path, and writes nothing.
func TestReportBadInput(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	notJSON := write("series.csv", "topology,second,metric,value\n")
	oldSchema := write("v0.json", `{"schema": "stampsim/results/v0", "runs": []}`)
	unknown := write("unknown.json", `{"schema": "`+reports.Schema+`", "runs": [], "colour": "blue"}`)
	good := filepath.Join("..", "..", "reports", "page", "testdata", "holder-pause.results.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "want one argument"},
		{[]string{"report", "a", "b"}, "want one argument"},
		{[]string{"report", filepath.Join(tmp, "nowhere")}, "no results file or directory " + filepath.Join(tmp, "nowhere")},
		{[]string{"report", empty}, empty + " holds no results.json"},
		{[]string{"report", notJSON}, notJSON + ": reading results: invalid character"},
		{[]string{"report", oldSchema}, oldSchema + `: reading results: schema "stampsim/results/v0"`},
		{[]string{"report", unknown}, unknown + `: reading results: json: unknown field "colour"`},
		{[]string{"report", good, "--out", notJSON}, "--out " + notJSON + ": is a file"},
		{[]string{"report", good, "--bogus"}, "unknown flag: --bogus"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			a, _ := stubApp(t)
			drawn := stubDraw(t, a)
			code, out, errs := exec(t, a, context.Background(), c.args...)
			if code != 2 || !strings.Contains(errs, c.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, c.want)
			}
			if strings.Count(errs, "stampsim: ") != 1 && !strings.Contains(errs, "Run 'stampsim --help'") {
				t.Errorf("want one line, got %q", errs)
			}
			if len(*drawn) != 0 {
				t.Error("figures were drawn")
			}
		})
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("report wrote into %s: %v", empty, entries)
	}
}
