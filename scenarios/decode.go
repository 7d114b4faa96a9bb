package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Load reads, completes and validates the scenario file at path. Errors in
// the file are *Error values naming path, the line and the field.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes the scenario in data strictly, fills in the defaults and
// validates it. name is the file name that errors carry; it also gives the
// scenario its name when the document has none. Every error it returns is
// an *Error.
func Parse(name string, data []byte) (*Scenario, error) {
	root, err := parseNode(name, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: name, lines: map[string]int{}, nulls: map[string]bool{}, budget: maxNodes}
	if err := d.walk(root, reflect.TypeFor[Scenario](), ""); err != nil {
		return nil, err
	}
	// The walk has checked every field and type; the strict decoder is the
	// second opinion, and the one that fills the struct.
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	c := &checker{file: name, lines: d.lines, nulls: d.nulls}
	c.fillDefaults(&s)
	if err := c.validate(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// maxNodes bounds the YAML nodes a document may expand to (anchors and
// aliases can make a small document huge).
const maxNodes = 1_000_000

// parseNode parses data into its single document's root node (a mapping).
func parseNode(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty document: a scenario is a YAML mapping (see scenarios/README.md)"}
		}
		return nil, syntaxError(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Msg: "more than one YAML document: a file holds one scenario"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, &Error{File: name, Line: root.Line, Msg: "empty document: a scenario is a YAML mapping (see scenarios/README.md)"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: fmt.Sprintf("a scenario is a YAML mapping, got a %s", kindName(root))}
	}
	return root, nil
}

// syntaxError reports a YAML syntax error. Package yaml gives the line
// where the enclosing block began, not where the problem is, so for files of
// a readable size the line is found again: the problem is on the line after
// the longest run of whole lines that still parses.
func syntaxError(file string, data []byte, err error) *Error {
	e := yamlError(file, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxSyntaxSearchLines {
		return e
	}
	good := 0
	for k := len(lines) - 1; k >= 1; k-- {
		prefix := bytes.Join(lines[:k], nil)
		dec := yaml.NewDecoder(bytes.NewReader(prefix))
		ok := true
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				ok = false
				break
			}
		}
		if ok {
			good = k
			break
		}
	}
	if good+1 > e.Line {
		e.Line = good + 1
	}
	return e
}

// maxSyntaxSearchLines bounds the files whose syntax errors are located by
// re-parsing (quadratic in the length).
const maxSyntaxSearchLines = 1000

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError turns an error of package yaml into an *Error, taking the line
// from its text.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	e := &Error{File: file}
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		e.Line, _ = strconv.Atoi(msg[m[2]:m[3]])
		// Drop "yaml: line N: " or "line N: " from the message.
		rest := msg[m[1]:]
		rest = strings.TrimPrefix(rest, ":")
		msg = strings.TrimSpace(rest)
	}
	e.Msg = strings.TrimPrefix(msg, "yaml: ")
	return e
}

// decoder walks a YAML node tree against the Go type it will be decoded
// into, so that unknown fields and wrong types are reported with their
// field path, and records the line of every field for later messages.
type decoder struct {
	file      string
	lines     map[string]int
	nulls     map[string]bool
	budget    int
	expanding []*yaml.Node
}

func (d *decoder) errorf(line int, path, format string, args ...any) *Error {
	return &Error{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) record(path string, line int) {
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = line
	}
}

var durationType = reflect.TypeFor[Duration]()

func (d *decoder) walk(n *yaml.Node, t reflect.Type, path string) *Error {
	d.budget--
	if d.budget < 0 {
		return d.errorf(n.Line, path, "document expands to too many YAML nodes (more than %d; check anchors and aliases)", maxNodes)
	}
	d.record(path, n.Line)
	if n.Kind == yaml.AliasNode {
		for _, a := range d.expanding {
			if a == n.Alias {
				return d.errorf(n.Line, path, "alias *%s refers to a value that contains it", n.Value)
			}
		}
		if n.Alias == nil {
			return d.errorf(n.Line, path, "alias *%s refers to nothing", n.Value)
		}
		d.expanding = append(d.expanding, n.Alias)
		err := d.walk(n.Alias, t, path)
		d.expanding = d.expanding[:len(d.expanding)-1]
		return err
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		d.nulls[path] = true
		return nil // left at its zero value, then defaulted or validated
	}
	if t == durationType {
		var v Duration
		if err := v.UnmarshalYAML(n); err != nil {
			return d.errorf(n.Line, path, "%v", err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return d.walk(n, t.Elem(), path)
	case reflect.Struct:
		return d.walkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n.Line, path, "must be a list, got %s", describe(n))
		}
		for i, item := range n.Content {
			if err := d.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false",
		reflect.Int: "an integer", reflect.Uint64: "a non-negative integer",
		reflect.Float64: "a number",
	}[t.Kind()]
	if want == "" {
		return d.errorf(n.Line, path, "internal error: no rule for Go type %s", t)
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n.Line, path, "must be %s, got %s", want, describe(n))
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return d.errorf(n.Line, path, "must be %s, got %s", want, describe(n))
	}
	if t.Kind() == reflect.String && n.ShortTag() != "!!str" {
		return d.errorf(n.Line, path, "must be a string, got %s (quote it if you mean the text)", describe(n))
	}
	return nil
}

// describe shows a node in a message: a scalar's text, or its kind.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}

func (d *decoder) walkStruct(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n.Line, path, "must be a mapping of %s, got %s", strings.Join(fieldNames(t), ", "), describe(n))
	}
	fields := fieldsOf(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			if err := d.walkMerge(v, t, path); err != nil {
				return err
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return d.errorf(k.Line, path, "field names must be plain text, got a %s", kindName(k))
		}
		fp := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			return d.errorf(k.Line, fp, "set twice (first at line %d)", first)
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			if s := suggest(k.Value, fieldNames(t)); s != "" {
				return d.errorf(k.Line, fp, "unknown field (did you mean %q?)", s)
			}
			return d.errorf(k.Line, fp, "unknown field (known: %s)", strings.Join(fieldNames(t), ", "))
		}
		d.record(fp, k.Line)
		if err := d.walk(v, f.Type, fp); err != nil {
			return err
		}
	}
	return nil
}

// walkMerge checks the value of a YAML merge key ("<<: *defaults"): a
// mapping, or a list of mappings, for the same struct.
func (d *decoder) walkMerge(v *yaml.Node, t reflect.Type, path string) *Error {
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			if err := d.walk(item, t, path); err != nil {
				return err
			}
		}
		return nil
	}
	return d.walk(v, t, path)
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

// suggest returns the known name closest to name, if it is close enough to
// be a typo, or "".
func suggest(name string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		dist := editDistance(strings.ToLower(name), k)
		if best == "" || dist < bestD {
			best, bestD = k, dist
		}
	}
	limit := max(1, len(name)/3)
	if best != "" && bestD <= limit {
		return best
	}
	// A prefix or a different spelling of separators ("zonesPerRegion").
	flat := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	for _, k := range known {
		if flat(k) == flat(name) {
			return k
		}
	}
	return ""
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rb {
		rows[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, rows[i-2][j-2]+1)
			}
			rows[i][j] = v
		}
	}
	return rows[len(ra)][len(rb)]
}

// defaultName gives a scenario with no name the base name of its file.
func defaultName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
