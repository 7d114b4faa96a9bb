package scenarios

import (
	"errors"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// Override gives one field of a scenario a value: Path names the field as
// LookupField takes it ("workload.bursts[0].requests"), Value is the YAML
// to give it (a scalar, or a mapping or a list for a field that holds
// one).
type Override struct {
	Path  string
	Value *yaml.Node
}

// Apply returns base, a scenario loaded by this package, with each
// override set, decoded and checked exactly as a file holding the result
// would be. The overrides are set in the YAML node tree of base, every
// default already written out, and the tree is parsed as a file called
// name: whatever the overrides make wrong is the *Error (or *ErrorList)
// that file would give, naming name and the field but no line, since the
// file was never written. An override whose path names no field, or an
// item that a list of base does not have, is an *Error too.
func Apply(name string, base *Scenario, overrides ...Override) (*Scenario, error) {
	t, err := NewTemplate(base)
	if err != nil {
		return nil, err
	}
	return t.Apply(name, overrides...)
}

// Template is a loaded scenario as the YAML node tree of a file that
// holds it, every default written out, for Apply to set fields of many
// times without writing the tree out again.
type Template struct {
	root *yaml.Node
}

// NewTemplate returns the template of base, a scenario loaded by this
// package.
func NewTemplate(base *Scenario) (*Template, error) {
	var root yaml.Node
	if err := root.Encode(base); err != nil {
		return nil, fmt.Errorf("scenario %q as YAML: %w", base.Name, err)
	}
	return &Template{root: &root}, nil
}

// Apply is the package's Apply of the template's scenario. The template
// is not changed: the nodes on the way to each override are copied.
func (t *Template) Apply(name string, overrides ...Override) (*Scenario, error) {
	root := t.root
	for _, o := range overrides {
		if _, err := LookupField(o.Path); err != nil {
			return nil, &Error{File: name, Field: o.Path, Msg: err.Error()}
		}
		steps, _ := splitPath(o.Path) // LookupField has checked it
		var err error
		if root, err = setNode(root, steps, o.Value); err != nil {
			return nil, &Error{File: name, Field: o.Path, Msg: err.Error()}
		}
	}
	s, _, err := ParseNode(name, root)
	if err != nil {
		return nil, withoutLines(err)
	}
	return s, nil
}

// setNode returns a copy of the mapping root with the field that steps
// lead to set to v; the nodes on the way are copied, the others shared. A
// field that is absent is added, and so is a section on the way to it; a
// list item that is absent is an error, since the rest of the item would
// be missing.
func setNode(root *yaml.Node, steps []pathStep, v *yaml.Node) (*yaml.Node, error) {
	top := copyNode(root)
	n := top
	for i, st := range steps {
		last := i == len(steps)-1
		done := joinSteps(steps[:i])
		if st.name == "" {
			if n.Kind != yaml.SequenceNode || st.index >= len(n.Content) {
				return nil, fmt.Errorf("the base scenario has no %s[%d]: its %s has %s", done, st.index, done, items(n))
			}
			if last {
				n.Content[st.index] = v
				return top, nil
			}
			n.Content[st.index] = copyNode(n.Content[st.index])
			n = n.Content[st.index]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("the base scenario's %s is not a mapping", done)
		}
		j := -1
		for k := 0; k+1 < len(n.Content); k += 2 {
			if n.Content[k].Value == st.name {
				j = k + 1
			}
		}
		switch {
		case j >= 0 && last:
			n.Content[j] = v
			return top, nil
		case j >= 0:
			n.Content[j] = copyNode(n.Content[j])
			n = n.Content[j]
			continue
		case last:
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: st.name}, v)
			return top, nil
		case steps[i+1].name == "":
			return nil, fmt.Errorf("the base scenario has no %s[%d]: it has no %s", join(done, st.name), steps[i+1].index, join(done, st.name))
		}
		section := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: st.name}, section)
		n = section
	}
	return top, nil
}

// copyNode copies n and its list of children, not the children.
func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = slices.Clone(n.Content)
	return &c
}

// items says how many items a list node has.
func items(n *yaml.Node) string {
	if n.Kind != yaml.SequenceNode {
		return "no items (it is not a list)"
	}
	if len(n.Content) == 1 {
		return "1 item"
	}
	return fmt.Sprintf("%d items", len(n.Content))
}

// withoutLines drops the lines from the mistakes of a file that was never
// written: they would point into text no one can see.
func withoutLines(err error) error {
	var l *ErrorList
	if errors.As(err, &l) {
		for _, e := range l.Errors {
			e.Line = 0
		}
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		e.Line = 0
	}
	return err
}
