package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/internal/browsertest"
)

// The report page of a real run, as a person's browser shows it: no
// errors in the console, every figure's image loaded, a table row per
// topology. Without Chromium the test skips, unless
// STAMPSIM_REQUIRE_BROWSER=1 (as in CI).
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
	figures := browsertest.Eval[int](t, p, `document.querySelectorAll("figure").length`)
	if len(p.Images) != figures {
		t.Errorf("%d images for %d figures", len(p.Images), figures)
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
}
