// Package rawlog keeps the raw output of the benchmarks: one JSON object a
// line, appended as each measurement finishes, so that a run that stops part
// way keeps what it measured and the next run with the same plan goes on
// from there (resumable). Each file starts with the run's plan, and every
// session that writes to it first writes the machine it ran on.
//
// It is for the bench tools only. It must not compute any figure: it stores
// and reads back what was measured, and nothing else.
package rawlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
)

// Record kinds.
const (
	// KindPlan is the first line of a file: what the run measures.
	KindPlan = "plan"
	// KindMachine starts every session that appended to the file.
	KindMachine = "machine"
	// KindResult is one measurement.
	KindResult = "result"
)

// Line is one line of a raw file. Exactly one of Plan, Machine and Result
// is set, as Kind says.
type Line struct {
	Kind    string   `json:"kind"`
	Plan    *Plan    `json:"plan,omitempty"`
	Machine *Machine `json:"machine,omitempty"`
	Result  *Result  `json:"result,omitempty"`
}

// Plan says what a run measures. A file is resumed only by a run with the
// same plan; a different one must start a fresh file.
type Plan struct {
	// Suite names the benchmark suite: "peers" or "sim".
	Suite string `json:"suite"`
	// Smoke is true for the one-repeat, small-size run that CI makes.
	Smoke bool `json:"smoke"`
	// Repeats is how often every unit is measured.
	Repeats int `json:"repeats"`
	// Units lists every unit's key in the order they run, repeats
	// included: the interleaving is part of the plan.
	Units []string `json:"units"`
	// Params holds the suite's settings (sizes, latencies), for the record.
	Params map[string]any `json:"params,omitempty"`
}

// Result is one measurement of one unit.
type Result struct {
	// Unit is the unit's key, as in Plan.Units.
	Unit string `json:"unit"`
	// Repeat numbers the repeat, from 0.
	Repeat int `json:"repeat"`
	// Session is the index of the machine record (from 0) of the session
	// that measured it.
	Session int `json:"session"`
	// Labels say what was measured (case, peer, settings, sizes).
	Labels map[string]string `json:"labels"`
	// Metrics are the measured values, by name with its unit
	// ("latency_ns", "upstream_calls").
	Metrics map[string]float64 `json:"metrics"`
}

// File is a raw file open for appending.
type File struct {
	path    string
	f       *os.File
	done    map[string]bool
	session int
	machine *Machine // written before the session's first result, then nil
}

// Key returns the key under which a unit's repeat is recorded as done.
func Key(unit string, repeat int) string { return fmt.Sprintf("%s#%d", unit, repeat) }

// Open opens path for a run of plan on machine m. A missing file is created
// with the plan; an existing one is resumed when its plan is the same, and
// refused otherwise (the error says to remove it). m is appended as the
// session's machine record before its first result, so that a session that
// finds everything done leaves the file as it was.
func Open(path string, plan Plan, m Machine) (*File, error) {
	fl := &File{path: path, done: map[string]bool{}}
	lines, err := Read(path)
	fresh := errors.Is(err, os.ErrNotExist)
	if err != nil && !fresh {
		return nil, err
	}
	if !fresh {
		if len(lines) == 0 || lines[0].Plan == nil {
			return nil, fmt.Errorf("%s: the first line is not a plan; remove the file to start afresh", path)
		}
		if !reflect.DeepEqual(normal(*lines[0].Plan), normal(plan)) {
			return nil, fmt.Errorf("%s holds a run with another plan (suite %q, smoke %v, %d repeats, %d units); remove it (or run with FRESH=1) to start afresh",
				path, lines[0].Plan.Suite, lines[0].Plan.Smoke, lines[0].Plan.Repeats, len(lines[0].Plan.Units))
		}
		for _, l := range lines {
			switch {
			case l.Machine != nil:
				fl.session++
			case l.Result != nil:
				fl.done[Key(l.Result.Unit, l.Result.Repeat)] = true
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating the directory of %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	fl.f = f
	if fresh {
		if err := fl.write(Line{Kind: KindPlan, Plan: &plan}); err != nil {
			f.Close()
			return nil, err
		}
	}
	fl.machine = &m
	return fl, nil
}

// normal returns p as it reads back from JSON, so that a plan built in
// memory compares equal to the same plan read from a file.
func normal(p Plan) Plan {
	b, _ := json.Marshal(p)
	var q Plan
	_ = json.Unmarshal(b, &q)
	return q
}

// Done reports whether the unit's repeat is already in the file.
func (f *File) Done(unit string, repeat int) bool { return f.done[Key(unit, repeat)] }

// Add appends one measurement of the current session and syncs it to disk,
// so that it survives the run being killed.
func (f *File) Add(r Result) error {
	if f.machine != nil {
		if err := f.write(Line{Kind: KindMachine, Machine: f.machine}); err != nil {
			return err
		}
		f.machine = nil
	}
	r.Session = f.session
	if err := f.write(Line{Kind: KindResult, Result: &r}); err != nil {
		return err
	}
	f.done[Key(r.Unit, r.Repeat)] = true
	return f.f.Sync()
}

func (f *File) write(l Line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding a %s line for %s: %w", l.Kind, f.path, err)
	}
	if _, err := f.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Read returns every line of the raw file at path. A line that is not a
// well-formed record is an error naming the file and the line.
func Read(path string) ([]Line, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Line
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("%s:%d: not a raw record: %w", path, n, err)
		}
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if (l.Kind == KindPlan) != (len(out) == 0) {
			return nil, fmt.Errorf("%s:%d: a plan must be the first line and only the first", path, n)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

func (l Line) check() error {
	set := 0
	for _, p := range []bool{l.Plan != nil, l.Machine != nil, l.Result != nil} {
		if p {
			set++
		}
	}
	want := map[string]bool{KindPlan: l.Plan != nil, KindMachine: l.Machine != nil, KindResult: l.Result != nil}
	ok, known := want[l.Kind]
	if !known {
		return fmt.Errorf("kind: unknown record kind %q (want plan, machine or result)", l.Kind)
	}
	if !ok || set != 1 {
		return fmt.Errorf("kind %q: the record must hold exactly its %s field", l.Kind, l.Kind)
	}
	if r := l.Result; r != nil && (r.Unit == "" || r.Repeat < 0) {
		return fmt.Errorf("result: unit must be named and repeat not negative, got unit %q, repeat %d", r.Unit, r.Repeat)
	}
	return nil
}
