package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeFile decodes data, a file holding one YAML mapping, into v, a
// pointer to a struct whose fields carry yaml tags, as strictly as
// scenario files are decoded: an unknown field (with a suggestion), a
// value of the wrong type, a duration without a unit or a key set twice is
// an *Error naming name, the line and the field's path, and every such
// mistake is reported (an *ErrorList), not only the first. kind says what
// the file holds, for the messages about one that holds something else.
// A field of type yaml.Node is taken as written, for the caller to check;
// the Positions it returns say where each field was written, for the
// caller's own checks.
func DecodeFile(name string, data []byte, kind FileKind, v any) (*Positions, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("scenarios.DecodeFile: want a pointer to a struct, got %T", v)
	}
	root, err := parseNode(name, data, kind)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: name, lines: map[string]int{}, nulls: map[string]bool{}, budget: maxNodes}
	d.walk(root, rv.Elem().Type(), "")
	if err := JoinErrors(d.errs); err != nil {
		return nil, err
	}
	// The walk has checked every field and type, so the decoder, which
	// has no strict mode for a node, meets nothing it would drop.
	if err := root.Decode(v); err != nil {
		return nil, yamlError(name, err)
	}
	return &Positions{file: name, lines: d.lines}, nil
}

// FileKind says what a kind of YAML file holds, for the messages about a
// file that holds something else: Noun names the thing ("scenario"),
// Guide the document that describes the format.
type FileKind struct {
	Noun, Guide string
}

// scenarioFile is the kind of a scenario file.
var scenarioFile = FileKind{Noun: "scenario", Guide: "scenarios/README.md"}

// parseNode parses data into its single document's root node (a mapping).
func parseNode(name string, data []byte, kind FileKind) (*yaml.Node, error) {
	empty := fmt.Sprintf("empty document: a %s is a YAML mapping (see %s)", kind.Noun, kind.Guide)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: empty}
		}
		return nil, syntaxError(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Msg: "more than one YAML document: a file holds one " + kind.Noun}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, &Error{File: name, Line: root.Line, Msg: empty}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: fmt.Sprintf("a %s is a YAML mapping, got a %s", kind.Noun, kindName(root))}
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
