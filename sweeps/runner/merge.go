package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sweeps"
)

// Merge reads the sweep document in each of dirs (the shards of one
// sweep, each run where it was), checks that they are of one sweep and
// one build and hold every row of it exactly once, and writes into out
// what the whole sweep run at once writes, byte for byte. A row twice, a
// row missing (with the shard that runs it), or documents of different
// sweeps or builds are an *InputError that says which.
func Merge(dirs []string, out string) (*reports.SweepResults, error) {
	if len(dirs) == 0 {
		return nil, inputf("merge: no directories to merge")
	}
	outAbs, _ := filepath.Abs(out)
	var first *reports.SweepResults
	var firstDigest string
	from := map[reports.Key]string{}
	var rows []reports.Row
	for _, dir := range dirs {
		if abs, _ := filepath.Abs(dir); abs == outAbs {
			return nil, inputf("merge: --out %s is one of the directories merged; write the merged sweep elsewhere", out)
		}
		path := filepath.Join(dir, DocumentFile)
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, inputf("merge: %s has no %s: is it the --out of a sweep's shard?", dir, DocumentFile)
			}
			return nil, inputf("merge: cannot read %s: %v", path, unwrapPath(err))
		}
		doc, err := reports.ReadSweepJSON(f)
		f.Close()
		if err != nil {
			return nil, inputf("merge: %s: %v", path, err)
		}
		digest, err := specDigest(doc.Spec)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first, firstDigest = doc, digest
		} else if digest != firstDigest {
			return nil, inputf("merge: %s is of another sweep than %s (%s against %s, or another size or version of it)", path, filepath.Join(dirs[0], DocumentFile), doc.Sweep, first.Sweep)
		} else if doc.Version != first.Version || doc.Commit != first.Commit || doc.GoVersion != first.GoVersion {
			return nil, inputf("merge: %s was made by stampsim %s (commit %q, %s), %s by %s (commit %q, %s): the rows of two builds need not agree",
				path, doc.Version, doc.Commit, doc.GoVersion, dirs[0], first.Version, first.Commit, first.GoVersion)
		}
		for _, r := range doc.Rows {
			if prev, dup := from[r.Key()]; dup {
				return nil, inputf("merge: %s is in both %s and %s: merge each shard once", r.Key(), prev, dir)
			}
			from[r.Key()] = dir
			rows = append(rows, r)
		}
	}
	plan, err := NewPlan(first.Spec, nil)
	if err != nil {
		return nil, err
	}
	if err := checkRows(plan, from, first.Shard); err != nil {
		return nil, err
	}
	doc := plan.Document(rows, Build{first.Version, first.Commit, first.GoVersion})
	if st, err := os.Stat(out); err == nil && !st.IsDir() {
		return nil, inputf("merge: --out %s is a file; it names a directory", out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, inputf("merge: cannot create the directory %s: %v", out, unwrapPath(err))
	}
	return doc, WriteFiles(out, doc)
}

// checkRows checks that the rows read (by key, with the directory each
// came from) are exactly the plan's; shard is that of one of the
// documents, whose count says which shard a missing row belongs to.
func checkRows(plan *Plan, from map[reports.Key]string, shard *reports.Shard) error {
	planned := map[reports.Key]bool{}
	var missing []string
	n := 0
	for _, t := range plan.Tasks {
		k := t.Key()
		planned[k] = true
		if _, ok := from[k]; ok {
			continue
		}
		if n++; len(missing) < 3 {
			m := fmt.Sprintf("%s (%s)", k, t.Point.Label())
			if shard != nil {
				m += fmt.Sprintf(", which shard %d/%d runs", sweeps.Shard(*t.Point, shard.Count), shard.Count)
			}
			missing = append(missing, m)
		}
	}
	for k, dir := range from {
		if !planned[k] {
			return inputf("merge: %s holds a row that the sweep does not make (%s)", dir, k)
		}
	}
	if n > 0 {
		more := ""
		if n > len(missing) {
			more = fmt.Sprintf(", and %d more", n-len(missing))
		}
		return inputf("merge: %d of %d rows are missing: %s%s; is every shard's directory given, and every shard complete?",
			n, len(plan.Tasks), strings.Join(missing, "; "), more)
	}
	return nil
}
