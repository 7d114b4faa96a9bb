package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageErrors: a bad call is a usage error (exit status 2) naming what
// was wrong.
func TestUsageErrors(t *testing.T) {
	bad := filepath.Join("..", "..", "internal", "report", "testdata", "bad")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: bench peers|sim|report"},
		{[]string{"bogus"}, `unknown subcommand "bogus"`},
		{[]string{"peers", "-nope"}, "peers: flag provided but not defined: -nope"},
		{[]string{"peers", "-repeats", "-1"}, "-repeats must be at least 1, got -1"},
		{[]string{"sim", "-script", "no/such/file.py"}, "sim: -script"},
		{[]string{"report", "-results", bad, "-doc", filepath.Join(t.TempDir(), "B.md"), "-figures", t.TempDir()}, "sim.jsonl:3: result.unit"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := run(tc.args)
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%q) = %v, want a usage error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
