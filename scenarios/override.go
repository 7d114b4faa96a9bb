package scenarios

import (
	"errors"
	"fmt"

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
	var root yaml.Node
	if err := root.Encode(base); err != nil {
		return nil, fmt.Errorf("scenario %q as YAML: %w", base.Name, err)
	}
	for _, o := range overrides {
		if _, err := LookupField(o.Path); err != nil {
			return nil, &Error{File: name, Field: o.Path, Msg: err.Error()}
		}
		steps, _ := splitPath(o.Path) // LookupField has checked it
		if err := setNode(&root, steps, o.Value); err != nil {
			return nil, &Error{File: name, Field: o.Path, Msg: err.Error()}
		}
	}
	data, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("scenario %q as YAML: %w", base.Name, err)
	}
	s, _, err := ParsePositions(name, data)
	if err != nil {
		return nil, withoutLines(err)
	}
	return s, nil
}

// setNode sets the field that steps lead to in the mapping root to v. A
// field that is absent is added, and so is a section on the way to it; a
// list item that is absent is an error, since the rest of the item would
// be missing.
func setNode(root *yaml.Node, steps []pathStep, v *yaml.Node) error {
	n := root
	for i, st := range steps {
		last := i == len(steps)-1
		done := joinSteps(steps[:i])
		if st.name == "" {
			if n.Kind != yaml.SequenceNode || st.index >= len(n.Content) {
				return fmt.Errorf("the base scenario has no %s[%d]: its %s has %s", done, st.index, done, items(n))
			}
			if last {
				n.Content[st.index] = v
				return nil
			}
			n = n.Content[st.index]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("the base scenario's %s is not a mapping", done)
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
			return nil
		case j >= 0:
			n = n.Content[j]
			continue
		case last:
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: st.name}, v)
			return nil
		case steps[i+1].name == "":
			return fmt.Errorf("the base scenario has no %s[%d]: it has no %s", join(done, st.name), steps[i+1].index, join(done, st.name))
		}
		section := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: st.name}, section)
		n = section
	}
	return nil
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
