package sweeps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/scenarios"
)

// sweepFile is the kind of a sweep file, for messages.
var sweepFile = scenarios.FileKind{Noun: "sweep", Guide: "sweeps/README.md"}

// file is a sweep file as written.
type file struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Seed        uint64        `yaml:"seed"`
	Base        baseFile      `yaml:"base"`
	Set         yaml.Node     `yaml:"set"`
	Axes        []axisFile    `yaml:"axes"`
	Repeats     int           `yaml:"repeats"`
	Topologies  []string      `yaml:"topologies"`
	Exclude     []excludeFile `yaml:"exclude"`
	Figures     *figuresFile  `yaml:"figures"`
	Small       *sizeFile     `yaml:"small"`
}

// baseFile names the base scenario: exactly one of the three.
type baseFile struct {
	Builtin  string    `yaml:"builtin"`
	File     string    `yaml:"file"`
	Scenario yaml.Node `yaml:"scenario"`
}

type axisFile struct {
	Path   string     `yaml:"path"`
	Values yaml.Node  `yaml:"values"`
	Range  *rangeFile `yaml:"range"`
	Scale  string     `yaml:"scale"`
}

type rangeFile struct {
	From      yaml.Node `yaml:"from"`
	To        yaml.Node `yaml:"to"`
	Step      yaml.Node `yaml:"step"`
	PerDecade int       `yaml:"per_decade"`
}

type excludeFile struct {
	Topologies []string  `yaml:"topologies"`
	Path       string    `yaml:"path"`
	Above      yaml.Node `yaml:"above"`
	Below      yaml.Node `yaml:"below"`
}

// sizeFile is the small block: what the small size changes.
type sizeFile struct {
	Repeats int        `yaml:"repeats"`
	Set     yaml.Node  `yaml:"set"`
	Axes    []axisFile `yaml:"axes"`
}

// Options says how to read a sweep file.
type Options struct {
	// Size is the size to read: SizeDefault (also "") or SizeSmall.
	Size string
	// ReadFile reads a base scenario file that the sweep names, by its
	// path relative to the sweep file's directory joined to it; nil
	// means the sweep may not name one (a built-in sweep).
	ReadFile func(path string) ([]byte, error)
}

// Load reads the sweep file at path, at size (SizeDefault or SizeSmall);
// a base file it names is read relative to its directory.
func Load(path, size string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, Options{Size: size, ReadFile: os.ReadFile})
}

// Parse reads the sweep in data, from the file called name, and checks
// it: its own fields, its base scenario, the set fields and every point
// (Points), each of which must be a scenario that passes every check a
// file would. Mistakes are *scenarios.Error values naming the file, the
// line and the field (those of the base's own file for a mistake in the
// base), or an *scenarios.ErrorList of them.
func Parse(name string, data []byte, opt Options) (*Sweep, error) {
	var f file
	pos, err := scenarios.DecodeFile(name, data, sweepFile, &f)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name, pos: pos, opt: opt}
	s := p.sweep(&f)
	if err := scenarios.JoinErrors(p.errs); err != nil {
		return nil, err
	}
	if _, err := s.Points(); err != nil {
		return nil, err
	}
	return s, nil
}

// parser collects the mistakes of one sweep file.
type parser struct {
	file  string
	pos   *scenarios.Positions
	opt   Options
	errs  []*scenarios.Error
	setAt map[string]setAt // where each set field is written
}

// setAt is where a set field is written: its block (set or small.set)
// and line.
type setAt struct {
	block string
	line  int
}

func (p *parser) errorf(field, format string, args ...any) {
	p.errs = append(p.errs, p.pos.Errorf(field, format, args...))
}

// errorAt records a mistake at the line of node n.
func (p *parser) errorAt(n *yaml.Node, field, format string, args ...any) {
	p.errs = append(p.errs, &scenarios.Error{File: p.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// sweep checks f and returns the sweep it describes, at the size asked
// for; it records every mistake it finds.
func (p *parser) sweep(f *file) *Sweep {
	s := &Sweep{Name: f.Name, Description: f.Description, Seed: f.Seed, Repeats: f.Repeats, Size: p.opt.Size,
		file: p.file, pos: p.pos}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(p.file), filepath.Ext(p.file))
	}
	if !p.pos.Has("seed") {
		s.Seed = 1
	}
	if !p.pos.Has("repeats") {
		s.Repeats = 1
	}
	switch s.Size {
	case "", SizeDefault:
		s.Size = SizeDefault
	case SizeSmall:
		if f.Small == nil {
			p.errorf("small", "the sweep has no small size: add a small block with the axes, repeats or set fields of a quick run")
		}
	default:
		p.errs = append(p.errs, &scenarios.Error{File: p.file, Msg: fmt.Sprintf("no size %q: want %s or %s", s.Size, SizeDefault, SizeSmall)})
	}
	base := p.base(&f.Base)
	sets := p.settings(&f.Set, "set")
	axes := p.axes(f.Axes, "axes")
	if f.Small != nil {
		small := p.axes(f.Small.Axes, "small.axes")
		smallSets := p.settings(&f.Small.Set, "small.set")
		// The small block is checked at every size, and used at its own.
		replaced := p.replaceAxes(axes, small)
		if s.Size == SizeSmall {
			sets = append(sets, smallSets...)
			axes = replaced
			if p.pos.Has("small.repeats") {
				s.Repeats = f.Small.Repeats
			}
		}
	}
	if s.Repeats < 1 || s.Repeats > MaxRepeats {
		field := "repeats"
		if s.Size == SizeSmall && p.pos.Has("small.repeats") {
			field = "small.repeats"
		}
		p.errorf(field, "must be from 1 to %d, got %d", MaxRepeats, s.Repeats)
	}
	if len(f.Axes) == 0 {
		p.errorf("axes", "missing: the fields to sweep, e.g. axes: [{path: workload.bursts[0].requests, range: {from: 100, to: 1e6, per_decade: 2}}]")
	}
	for i, a := range axes {
		if a.Path == "" {
			continue // its mistake is recorded
		}
		if j := slices.IndexFunc(axes[:i], func(b Axis) bool { return b.Path == a.Path }); j >= 0 {
			p.errorf(fmt.Sprintf("axes[%d].path", i), "%s is swept twice (axes[%d] too)", a.Path, j)
		}
		for _, st := range sets {
			if st.Path == a.Path {
				p.errorf(fmt.Sprintf("axes[%d].path", i), "%s is both set and swept: leave it out of set", a.Path)
			}
		}
	}
	n := 1
	for _, a := range axes {
		n *= max(len(a.Values), 1)
		if n > MaxPoints {
			p.errorf("axes", "the axes make more than %d points", MaxPoints)
			break
		}
	}
	s.Axes = axes
	s.Figures = p.figures(f.Figures, axes)
	if base == nil || len(p.errs) > 0 {
		return s
	}
	var err error
	if s.Base, err = scenarios.Apply(p.file+" (base with set)", base, sets...); err != nil {
		p.setError(err)
		return s
	}
	s.Topologies = p.topologies(f.Topologies, s.Base)
	s.Exclude = p.excludes(f.Exclude, axes, s.Topologies)
	return s
}

// base loads the base scenario, and records its mistakes.
func (p *parser) base(b *baseFile) *scenarios.Scenario {
	given := 0
	for _, f := range []string{"base.builtin", "base.file", "base.scenario"} {
		if p.pos.Has(f) {
			given++
		}
	}
	if given != 1 {
		p.errorf("base", "want exactly one of builtin (a built-in scenario's name), file (a scenario file, relative to this one) or scenario (one written here)")
		return nil
	}
	var sc *scenarios.Scenario
	var err error
	switch {
	case p.pos.Has("base.builtin"):
		sc, err = scenarios.Builtin(b.Builtin)
		var nf *scenarios.NotFoundError
		if errors.As(err, &nf) {
			p.errorf("base.builtin", "%s", nf.Msg)
			return nil
		}
	case p.pos.Has("base.file"):
		if p.opt.ReadFile == nil {
			p.errorf("base.file", "a built-in sweep cannot name a file; write its base inline or name a built-in scenario")
			return nil
		}
		path := b.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(p.file), path)
		}
		data, rerr := p.opt.ReadFile(path)
		if rerr != nil {
			var pe *fs.PathError
			if errors.As(rerr, &pe) {
				rerr = pe.Err
			}
			p.errorf("base.file", "cannot read %s: %v (a base file is named relative to the sweep file)", path, rerr)
			return nil
		}
		sc, err = scenarios.Parse(path, data)
	default:
		sc, _, err = scenarios.ParseNode(p.file, &b.Scenario)
		err = prefixFields(err, "base.scenario")
	}
	if err != nil {
		p.addErrors(err)
		return nil
	}
	return sc
}

// prefixFields puts prefix before the fields of a scenario's mistakes,
// for a scenario written inside a sweep file.
func prefixFields(err error, prefix string) error {
	for _, e := range scenarioErrors(err) {
		e.Field = strings.TrimSuffix(prefix+"."+e.Field, ".")
	}
	return err
}

// scenarioErrors returns the mistakes err holds.
func scenarioErrors(err error) []*scenarios.Error {
	var l *scenarios.ErrorList
	if errors.As(err, &l) {
		return l.Errors
	}
	var e *scenarios.Error
	if errors.As(err, &e) {
		return []*scenarios.Error{e}
	}
	return nil
}

// addErrors records the mistakes err holds, or err itself.
func (p *parser) addErrors(err error) {
	es := scenarioErrors(err)
	if len(es) == 0 {
		es = []*scenarios.Error{{File: p.file, Msg: err.Error()}}
	}
	p.errs = append(p.errs, es...)
}

// settings reads a set block: a mapping of field paths to values.
func (p *parser) settings(n *yaml.Node, field string) []scenarios.Override {
	if !p.pos.Has(field) || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorAt(n, field, "must be a mapping of field paths to values, e.g. set: {topology.zones_per_region: 1}, got a %s", nodeKind(n))
		return nil
	}
	var out []scenarios.Override
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorAt(k, field, "field paths must be plain text, got a %s", nodeKind(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorAt(k, field+"."+k.Value, "set twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		if _, err := scenarios.LookupField(k.Value); err != nil {
			p.errorAt(k, field+"."+k.Value, "%v", err)
			continue
		}
		out = append(out, scenarios.Override{Path: k.Value, Value: v})
		if p.setAt == nil {
			p.setAt = map[string]setAt{}
		}
		if field == "set" || p.opt.Size == SizeSmall {
			p.setAt[k.Value] = setAt{field, k.Line}
		}
	}
	return out
}

// setError records the mistakes that setting the set fields made, each at
// the set field it is about, or at the set block.
func (p *parser) setError(err error) {
	for _, e := range scenarioErrors(err) {
		field, msg := e.Field, e.Msg
		e.File, e.Line, e.Field, e.Msg = p.file, p.pos.Line("set"), "set", "the base with the set fields: "+field+": "+msg
		for path := field; path != ""; path = parent(path) {
			if at, ok := p.setAt[path]; ok {
				e.Line, e.Field, e.Msg = at.line, at.block+"."+field, "the base with the set fields: "+msg
				break
			}
		}
	}
	p.addErrors(err)
}

// parent returns the field that path is in, "" for a top-level one.
func parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// topologies checks the sweep's topologies against the base, or takes the
// base's.
func (p *parser) topologies(names []string, base *scenarios.Scenario) []string {
	if !p.pos.Has("topologies") {
		return base.Topologies
	}
	if len(names) == 0 {
		p.errorf("topologies", "must name at least one lock topology (%s)", strings.Join(base.TopologyNames(), ", "))
	}
	for i, n := range names {
		field := fmt.Sprintf("topologies[%d]", i)
		if slices.Contains(names[:i], n) {
			p.errorf(field, "%s is named twice", n)
		} else if _, err := base.Resolve(n); err != nil {
			p.errorf(field, "%v", err)
		}
	}
	return names
}

// excludes reads the exclude rules.
func (p *parser) excludes(rules []excludeFile, axes []Axis, topos []string) []Exclude {
	var out []Exclude
	for i, r := range rules {
		field := fmt.Sprintf("exclude[%d]", i)
		e := Exclude{Topologies: r.Topologies, Path: r.Path}
		if len(r.Topologies) == 0 {
			p.errorf(field+".topologies", "missing: the topologies to leave out")
		}
		for j, t := range r.Topologies {
			if !slices.Contains(topos, t) {
				p.errorf(fmt.Sprintf("%s.topologies[%d]", field, j), "%s is not one of the sweep's topologies (%s)", t, strings.Join(topos, ", "))
			}
		}
		k := slices.IndexFunc(axes, func(a Axis) bool { return a.Path == r.Path })
		if k < 0 || !axes[k].Kind.Numeric() {
			p.errorf(field+".path", "want the path of a numeric axis (%s), got %q", axisPaths(axes), r.Path)
			continue
		}
		for _, b := range []struct {
			name string
			node *yaml.Node
			dst  *string
		}{{"above", &r.Above, &e.Above}, {"below", &r.Below, &e.Below}} {
			if !p.pos.Has(field + "." + b.name) {
				continue
			}
			if b.node.Kind != yaml.ScalarNode {
				p.errorAt(b.node, field+"."+b.name, "want a %s, got a %s", axes[k].Kind, nodeKind(b.node))
				continue
			}
			v, err := Canonical(axes[k].Kind, b.node.Value)
			if err != nil {
				p.errorAt(b.node, field+"."+b.name, "%v", err)
			}
			*b.dst = v
		}
		if e.Above == "" && e.Below == "" {
			p.errorf(field, "want above or below: the values of %s to leave %s out of", r.Path, strings.Join(r.Topologies, ", "))
		}
		out = append(out, e)
	}
	return out
}

func axisPaths(axes []Axis) string {
	paths := make([]string, len(axes))
	for i, a := range axes {
		paths[i] = a.Path
	}
	return strings.Join(paths, ", ")
}
