package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Load reads, completes and validates the scenario file at path. Errors in
// the file are *Error values naming path, the line and the field, or an
// *ErrorList of them when the file has several mistakes.
func Load(path string) (*Scenario, error) {
	s, _, err := LoadPositions(path)
	return s, err
}

// Parse decodes the scenario in data strictly, fills in the defaults and
// validates it. name is the file name that errors carry; it also gives the
// scenario its name when the document has none. Every error it returns is
// an *Error, or, when the file has several mistakes, an *ErrorList of up to
// MaxErrors of them in line order (errors.As finds the first *Error in
// either).
func Parse(name string, data []byte) (*Scenario, error) {
	s, _, err := ParsePositions(name, data)
	return s, err
}

// ParsePositions is Parse that also returns where each field was written.
//
// Every mistake is reported, not only the first, but none that is only a
// consequence of another. A top-level section that does not decode (an
// unknown field, a wrong type) is not checked further, nor is anything
// that reads it; a check that finds a mistake keeps the checks that read
// that field from running (a burst is not checked against a duration that
// is itself wrong).
func ParsePositions(name string, data []byte) (*Scenario, *Positions, error) {
	root, err := parseNode(name, data, scenarioFile)
	if err != nil {
		return nil, nil, err
	}
	// The walk checks every field and type; the strict decoder is the
	// second opinion, and the one that fills the struct.
	return parseRoot(name, root, func(s *Scenario) error {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	})
}

// ParseNode is ParsePositions for a scenario written inside another file:
// root is the mapping that holds it, parsed from the file called name,
// whose lines its mistakes give. Their fields are paths within the
// scenario ("workload.rate"), as in a file of its own.
func ParseNode(name string, root *yaml.Node) (*Scenario, *Positions, error) {
	if root.Kind != yaml.MappingNode {
		return nil, nil, &Error{File: name, Line: root.Line, Msg: fmt.Sprintf("a scenario is a YAML mapping, got %s", describe(root))}
	}
	// The walk has checked every field and type, so the decoder, which
	// has no strict mode for a node, meets nothing it would drop.
	return parseRoot(name, root, func(s *Scenario) error { return root.Decode(s) })
}

// parseRoot decodes, completes and checks the scenario whose mapping is
// root, in the file called name; decode fills the struct once the walk
// has found no mistake.
func parseRoot(name string, root *yaml.Node, decode func(*Scenario) error) (*Scenario, *Positions, error) {
	d := &decoder{file: name, lines: map[string]int{}, nulls: map[string]bool{}, budget: maxNodes}
	d.walk(root, reflect.TypeFor[Scenario](), "")
	var s Scenario
	pos := &Positions{file: name, lines: d.lines}
	c := &checker{pos: pos, nulls: d.nulls}
	if len(d.errs) == 0 {
		if err := decode(&s); err != nil {
			return nil, nil, yamlError(name, err)
		}
	} else {
		// Decode only the sections that have no mistake: the decoder may
		// give up on a whole mapping for one bad field, and checks of
		// fields it left unset would report mistakes the file does not
		// have.
		for _, f := range append(errorFields(d.errs), d.meant...) {
			c.bad = append(c.bad, section(f))
		}
		if d.aborted || !decodeClean(root, c.bad, &s) {
			return nil, nil, JoinErrors(d.errs)
		}
	}
	c.fillDefaults(&s)
	c.validate(&s)
	if err := JoinErrors(append(d.errs, c.errs...)); err != nil {
		return nil, nil, err
	}
	return &s, pos, nil
}

// errorFields returns the fields the errors are about.
func errorFields(errs []*Error) []string {
	fields := make([]string, len(errs))
	for i, e := range errs {
		fields[i] = e.Field
	}
	return fields
}

// section returns the top-level field that path is in.
func section(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// decodeClean decodes into s the sections of the root mapping that are
// not in bad, and reports whether it could. A merge key at the top level
// could bring any section in, so a document with one is not decoded.
func decodeClean(root *yaml.Node, bad []string, s *Scenario) bool {
	clean := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return false
		}
		if !slices.Contains(bad, k.Value) && !slices.Contains(bad, "") {
			clean.Content = append(clean.Content, k, root.Content[i+1])
		}
	}
	return clean.Decode(s) == nil
}

// maxNodes bounds the YAML nodes a document may expand to (anchors and
// aliases can make a small document huge).
const maxNodes = 1_000_000

// decoder walks a YAML node tree against the Go type it will be decoded
// into, so that unknown fields and wrong types are reported with their
// field path, and records the line of every field for later messages. It
// goes on past a mistake, so that every one is reported, unless the
// document is too big to walk (aborted).
type decoder struct {
	file      string
	lines     map[string]int
	nulls     map[string]bool
	budget    int
	expanding []*yaml.Node
	errs      []*Error
	meant     []string // the fields that unknown ones were probably meant to be
	aborted   bool
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) record(path string, line int) {
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = line
	}
}

var (
	durationType = reflect.TypeFor[Duration]()
	nodeType     = reflect.TypeFor[yaml.Node]()
)

func (d *decoder) walk(n *yaml.Node, t reflect.Type, path string) {
	if d.aborted {
		return
	}
	d.budget--
	if d.budget < 0 {
		d.errorf(n.Line, path, "document expands to too many YAML nodes (more than %d; check anchors and aliases)", maxNodes)
		d.aborted = true
		return
	}
	d.record(path, n.Line)
	if n.Kind == yaml.AliasNode {
		for _, a := range d.expanding {
			if a == n.Alias {
				d.errorf(n.Line, path, "alias *%s refers to a value that contains it", n.Value)
				return
			}
		}
		if n.Alias == nil {
			d.errorf(n.Line, path, "alias *%s refers to nothing", n.Value)
			return
		}
		d.expanding = append(d.expanding, n.Alias)
		d.walk(n.Alias, t, path)
		d.expanding = d.expanding[:len(d.expanding)-1]
		return
	}
	if t == nodeType {
		return // taken as written, for the caller to check (DecodeFile)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		d.nulls[path] = true
		return // left at its zero value, then defaulted or validated
	}
	if t == durationType {
		var v Duration
		if err := v.UnmarshalYAML(n); err != nil {
			d.errorf(n.Line, path, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		d.walk(n, t.Elem(), path)
		return
	case reflect.Struct:
		d.walkStruct(n, t, path)
		return
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "must be a list, got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			d.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
		return
	}
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false",
		reflect.Int: "an integer", reflect.Uint64: "a non-negative integer",
		reflect.Float64: "a number",
	}[t.Kind()]
	if want == "" {
		d.errorf(n.Line, path, "internal error: no rule for Go type %s", t)
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "must be %s, got %s", want, describe(n))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		d.errorf(n.Line, path, "must be %s, got %s", want, describe(n))
		return
	}
	if t.Kind() == reflect.String && n.ShortTag() != "!!str" {
		d.errorf(n.Line, path, "must be a string, got %s (quote it if you mean the text)", describe(n))
	}
}

// describe shows a node in a message: a scalar's text, or its kind.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}

func (d *decoder) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping of %s, got %s", strings.Join(fieldNames(t), ", "), describe(n))
		return
	}
	fields := fieldsOf(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			d.walkMerge(v, t, path)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "field names must be plain text, got a %s", kindName(k))
			continue
		}
		fp := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, fp, "set twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			if s := suggest(k.Value, fieldNames(t)); s != "" {
				d.errorf(k.Line, fp, "unknown field (did you mean %q?)", s)
				// That the field meant is absent is the same mistake.
				d.meant = append(d.meant, join(path, s))
			} else {
				d.errorf(k.Line, fp, "unknown field (known: %s)", strings.Join(fieldNames(t), ", "))
			}
			continue
		}
		d.record(fp, k.Line)
		d.walk(v, f.Type, fp)
	}
}

// walkMerge checks the value of a YAML merge key ("<<: *defaults"): a
// mapping, or a list of mappings, for the same struct.
func (d *decoder) walkMerge(v *yaml.Node, t reflect.Type, path string) {
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			d.walk(item, t, path)
		}
		return
	}
	d.walk(v, t, path)
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.StructField

// fieldsOf maps the YAML names of t's fields to the fields.
func fieldsOf(t reflect.Type) map[string]reflect.StructField {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.StructField)
	}
	m := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f
	}
	fieldCache.Store(t, m)
	return m
}

// fieldNames returns the YAML names of t's fields in declaration order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// defaultName gives a scenario with no name the base name of its file.
func defaultName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
