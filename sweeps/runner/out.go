package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stampsim/stampsim/internal/atomicfile"
	"github.com/stampsim/stampsim/reports"
)

// The files of a sweep's output directory. A finished sweep leaves the
// document, the rows and, for the whole sweep, the fits; while it runs,
// and after an interruption, the journal holds every row finished so far.
const (
	DocumentFile = "sweep.json"
	RowsFile     = "rows.csv"
	FitsFile     = "fits.csv"
	JournalFile  = "rows.jsonl"
)

// journalSchema names the version of the journal's header line.
const journalSchema = "stampsim/sweep-journal/v1"

// InputError is a mistake in what the runner was asked to do with a
// directory (one that holds another sweep's rows, say), as opposed to a
// failure while doing it.
type InputError struct{ Msg string }

// Error returns the message, which names the directory.
func (e *InputError) Error() string { return e.Msg }

func inputf(format string, args ...any) error { return &InputError{fmt.Sprintf(format, args...)} }

// journalHeader is the first line of the journal: whose rows follow.
type journalHeader struct {
	Journal string         `json:"journal"`
	Sweep   string         `json:"sweep"`
	Spec    string         `json:"spec_sha256"`
	Shard   *reports.Shard `json:"shard,omitempty"`
	Version string         `json:"stampsim_version,omitempty"`
	Commit  string         `json:"commit,omitempty"`
}

// Out is a sweep's output directory, open for the rows of one plan.
type Out struct {
	dir     string
	plan    *Plan
	build   Build
	header  journalHeader
	journal *os.File
	rows    map[reports.Key]reports.Row
	planned map[reports.Key]bool
}

// Open opens dir, creating it if need be, for the rows of plan, made by
// build. Without resume, a directory that holds a sweep already is
// refused, so that a forgotten --resume cannot lose its rows; with it,
// the rows an earlier run of the same plan left there (in its document
// and its journal, the last line of which may have been cut short) are
// taken as done, and rows of another sweep, shard or build are refused.
func Open(dir string, plan *Plan, build Build, resume bool) (*Out, error) {
	digest, err := specDigest(plan.Sweep)
	if err != nil {
		return nil, err
	}
	o := &Out{dir: dir, plan: plan, build: build, rows: map[reports.Key]reports.Row{}, planned: map[reports.Key]bool{},
		header: journalHeader{Journal: journalSchema, Sweep: plan.Sweep.Name, Spec: digest, Shard: plan.Shard, Version: build.Version, Commit: build.Commit}}
	for _, t := range plan.Tasks {
		o.planned[t.Key()] = true
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, inputf("%s is a file; --out names a directory, for %s, %s and %s", dir, DocumentFile, RowsFile, FitsFile)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, inputf("cannot create the directory %s: %v", dir, unwrapPath(err))
	}
	doc, docErr := os.ReadFile(filepath.Join(dir, DocumentFile))
	jr, jrErr := os.ReadFile(filepath.Join(dir, JournalFile))
	held := docErr == nil || jrErr == nil
	if held && !resume {
		return nil, inputf("%s holds a sweep already: --resume finishes it (or, when it is complete, writes the same files again), or choose another --out", dir)
	}
	if docErr == nil {
		if err := o.takeDocument(doc); err != nil {
			return nil, err
		}
	}
	good := 0
	if jrErr == nil {
		if good, err = o.takeJournal(jr); err != nil {
			return nil, err
		}
	}
	if o.journal, err = os.OpenFile(filepath.Join(dir, JournalFile), os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return nil, err
	}
	// Drop a last line cut short, and write the header of a new journal.
	if err := o.journal.Truncate(int64(good)); err != nil {
		o.journal.Close()
		return nil, err
	}
	if _, err := o.journal.Seek(int64(good), io.SeekStart); err != nil {
		o.journal.Close()
		return nil, err
	}
	if good == 0 {
		if err := o.appendLine(o.header); err != nil {
			o.journal.Close()
			return nil, err
		}
	}
	return o, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// takeDocument takes the rows of a sweep document the directory holds.
func (o *Out) takeDocument(data []byte) error {
	path := filepath.Join(o.dir, DocumentFile)
	doc, err := reports.ReadSweepJSON(bytes.NewReader(data))
	if err != nil {
		return inputf("%s: %v", path, err)
	}
	digest, err := specDigest(doc.Spec)
	if err != nil {
		return err
	}
	if err := o.sameRun(path, journalHeader{Sweep: doc.Sweep, Spec: digest, Shard: doc.Shard, Version: doc.Version, Commit: doc.Commit}); err != nil {
		return err
	}
	for _, r := range doc.Rows {
		if err := o.take(path, r); err != nil {
			return err
		}
	}
	return nil
}

// takeJournal takes the rows of the directory's journal, and returns the
// length of the part of it that holds whole lines.
func (o *Out) takeJournal(data []byte) (int, error) {
	path := filepath.Join(o.dir, JournalFile)
	good := bytes.LastIndexByte(data, '\n') + 1
	lines := strings.Split(string(data[:good]), "\n")
	for n, line := range lines[:max(len(lines)-1, 0)] {
		if n == 0 {
			var h journalHeader
			if err := strictJSON(line, &h); err != nil || h.Journal != journalSchema {
				return 0, inputf("%s:1: not the header of a sweep's journal (%s)", path, journalSchema)
			}
			if err := o.sameRun(path, h); err != nil {
				return 0, err
			}
			continue
		}
		var r reports.Row
		if err := strictJSON(line, &r); err != nil {
			return 0, inputf("%s:%d: not a row: %v", path, n+1, err)
		}
		if err := o.take(path, r); err != nil {
			return 0, err
		}
	}
	return good, nil
}

func strictJSON(line string, v any) error {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// sameRun checks that rows from path are of the sweep, shard and build
// that o runs.
func (o *Out) sameRun(path string, h journalHeader) error {
	w := o.header
	switch {
	case h.Sweep != w.Sweep || h.Spec != w.Spec:
		return inputf("%s holds the rows of another sweep (%s, or another size or version of it): choose another --out", path, h.Sweep)
	case shardText(h.Shard) != shardText(w.Shard):
		return inputf("%s holds the rows of %s, not %s: choose another --out", path, shardText(h.Shard), shardText(w.Shard))
	case h.Version != w.Version || h.Commit != w.Commit:
		return inputf("%s holds rows made by stampsim %s (commit %q), not by this one, %s (commit %q): they would not be the rows this build makes; choose another --out",
			path, h.Version, h.Commit, w.Version, w.Commit)
	}
	return nil
}

// shardText names a shard for messages.
func shardText(s *reports.Shard) string {
	if s == nil {
		return "the whole sweep"
	}
	return fmt.Sprintf("shard %d/%d", s.Index, s.Count)
}

// take records a row read from path, which must be one of the plan's.
func (o *Out) take(path string, r reports.Row) error {
	k := r.Key()
	if !o.planned[k] {
		return inputf("%s holds a row that the sweep does not make (%s)", path, k)
	}
	o.rows[k] = r
	return nil
}

// Done reports whether the directory holds the row of k.
func (o *Out) Done(k reports.Key) bool {
	_, ok := o.rows[k]
	return ok
}

// Len returns how many rows the directory holds.
func (o *Out) Len() int { return len(o.rows) }

// Add records a finished row: it is appended to the journal at once, in
// one write of one line, so that an interruption keeps it.
func (o *Out) Add(r reports.Row) error {
	if err := o.appendLine(r); err != nil {
		return err
	}
	o.rows[r.Key()] = r
	return nil
}

func (o *Out) appendLine(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := o.journal.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("keeping a row in %s: %w", o.journal.Name(), err)
	}
	return nil
}

// Write writes the document and the rows (and, for a complete whole
// sweep, the fits) of the rows so far, each file atomically, and returns
// the document. Once every row is in, the journal is removed, since the
// document holds them all.
func (o *Out) Write() (*reports.SweepResults, error) {
	rows := make([]reports.Row, 0, len(o.rows))
	for _, r := range o.rows {
		rows = append(rows, r)
	}
	doc := o.plan.Document(rows, o.build)
	if err := WriteFiles(o.dir, doc); err != nil {
		return nil, err
	}
	if doc.Complete {
		if err := o.journal.Close(); err != nil {
			return nil, err
		}
		o.journal = nil
		if err := os.Remove(filepath.Join(o.dir, JournalFile)); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// Close closes the journal, if Write has not removed it.
func (o *Out) Close() error {
	if o.journal == nil {
		return nil
	}
	return o.journal.Close()
}

// WriteFiles writes doc into dir: the document, the rows, and the fits
// when it has them (the whole sweep, complete), each atomically; what a
// sweep writes, and what a report written elsewhere copies.
func WriteFiles(dir string, doc *reports.SweepResults) error {
	type file struct {
		name  string
		write func(io.Writer, *reports.SweepResults) error
	}
	files := []file{{DocumentFile, reports.WriteSweepJSON}, {RowsFile, reports.WriteRowsCSV}}
	if doc.Complete && doc.Shard == nil {
		files = append(files, file{FitsFile, reports.WriteFitsCSV})
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), func(w io.Writer) error { return f.write(w, doc) }); err != nil {
			return err
		}
	}
	return nil
}
