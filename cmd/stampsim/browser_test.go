package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/internal/browsertest"
)

// The report page of a real run, figures drawn by reports/plot, as a
// person's browser shows it: no errors in the console, at least six
// figures, each in PNG and SVG, every image loaded, a table row per
// topology. stampsim report draws the same files again. Without Chromium
// the test skips, unless STAMPSIM_REQUIRE_BROWSER=1 (as in CI).
func TestReportPageInBrowser(t *testing.T) {
	browsertest.Find(t) // skip before running anything
	dir := t.TempDir()
	topologies := []string{"two-level", "short-lease-no-renew"}
	var out, errs bytes.Buffer
	if code := run([]string{"run", "holder-pause", "-t", strings.Join(topologies, ","), "--out", dir, "-q"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	p := browsertest.Open(t, browsertest.FileURL(t, filepath.Join(dir, "index.html")))
	if len(p.Errors) != 0 {
		t.Errorf("console errors: %q", p.Errors)
	}
	figures := browsertest.Eval[[]string](t, p, `Array.from(document.querySelectorAll("figure"), f => Array.from(f.querySelectorAll("a"), a => a.getAttribute("href")).join(" "))`)
	if len(figures) < 6 {
		t.Errorf("%d figures on the page, want at least 6", len(figures))
	}
	for _, links := range figures {
		if !strings.Contains(links, ".png") || !strings.Contains(links, ".svg") {
			t.Errorf("a figure links %q, want its PNG and its SVG", links)
		}
	}
	if len(p.Images) != len(figures) {
		t.Errorf("%d images for %d figures", len(p.Images), len(figures))
	}
	for _, img := range p.Images {
		if img.NaturalWidth == 0 {
			t.Errorf("%s did not load", img.Src)
		}
	}
	rows := browsertest.Eval[[]string](t, p, `Array.from(document.querySelectorAll("#summary-table tbody tr"), tr => tr.cells[0].textContent)`)
	if strings.Join(rows, ",") != strings.Join(topologies, ",") {
		t.Errorf("table rows %q, want one per topology %q", rows, topologies)
	}
	status := browsertest.Eval[string](t, p, `document.getElementById("status").textContent`)
	if !strings.HasPrefix(status, "Complete") {
		t.Errorf("status %q", status)
	}

	// stampsim report rebuilds the page and every figure, byte for byte.
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, f := range files {
		before[f] = readFile(t, f)
		if !strings.HasSuffix(f, "results.json") {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code := run([]string{"report", dir}, &out, &errs); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs.String())
	}
	for f, want := range before {
		if got, err := os.ReadFile(f); err != nil || string(got) != want {
			t.Errorf("report did not rebuild %s as the run wrote it (%v)", filepath.Base(f), err)
		}
	}
}
