package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// FieldKind is what a field of a scenario file holds.
type FieldKind int

// The kinds of field.
const (
	FieldInt      FieldKind = iota + 1 // an integer
	FieldUint                          // a non-negative integer (the seed)
	FieldFloat                         // a number
	FieldDuration                      // Go duration text with a unit
	FieldString                        // text
	FieldBool                          // true or false
	FieldMapping                       // a section or a distribution, of fields of its own
	FieldList                          // a list
)

var fieldKindNames = [...]string{"", "integer", "non-negative integer", "number", "duration", "string", "boolean", "mapping", "list"}

// String names the kind as messages do ("duration").
func (k FieldKind) String() string {
	if k > 0 && int(k) < len(fieldKindNames) {
		return fieldKindNames[k]
	}
	return "FieldKind(" + strconv.Itoa(int(k)) + ")"
}

// Scalar reports whether a field of kind k holds one value (not a mapping
// or a list).
func (k FieldKind) Scalar() bool { return k >= FieldInt && k <= FieldBool }

// Numeric reports whether a field of kind k holds a number or a duration.
func (k FieldKind) Numeric() bool { return k >= FieldInt && k <= FieldDuration }

// pathStep is one step of a field path: a field name, or an index into a
// list.
type pathStep struct {
	name  string
	index int // when name is ""
}

// splitPath splits a field path as errors write it
// ("workload.bursts[0].requests") into its steps.
func splitPath(path string) ([]pathStep, error) {
	if path == "" {
		return nil, fmt.Errorf("empty field path: name a field such as topology.nodes_per_zone")
	}
	var steps []pathStep
	for part := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" {
			return nil, fmt.Errorf("field path %q: a field name is missing before %q", path, "."+part)
		}
		steps = append(steps, pathStep{name: name})
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || i < 0 || (after != "" && after[0] != '[') {
				return nil, fmt.Errorf("field path %q: want a list index such as [0] after %s", path, name)
			}
			steps = append(steps, pathStep{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return steps, nil
}

// LookupField returns the kind of the field that path names in a scenario
// file: a path as errors write it, field names joined by dots and list
// items by index ("workload.bursts[0].requests",
// "custom_topologies[1].levels[0].wait_timeout"). A path that names no
// field is an error that says so, with the field it was probably meant to
// be ("did you mean topology.nodes_per_zone?"). Whether a list has the
// item an index names depends on the scenario, so it is not checked.
func LookupField(path string) (FieldKind, error) {
	steps, err := splitPath(path)
	if err != nil {
		return 0, err
	}
	t := reflect.TypeFor[Scenario]()
	done := ""
	for i, st := range steps {
		t = deref(t)
		if st.name == "" {
			if t.Kind() != reflect.Slice {
				return 0, fmt.Errorf("%s is a %s, not a list: it takes no index", done, kindOf(t))
			}
			t = t.Elem()
			done += fmt.Sprintf("[%d]", st.index)
			continue
		}
		if t.Kind() != reflect.Struct || t == durationType {
			return 0, fmt.Errorf("%s is a %s: it has no field %q", done, kindOf(t), st.name)
		}
		f, ok := fieldsOf(t)[st.name]
		if !ok {
			return 0, unknownPathError(path, steps, i, done, t)
		}
		t = f.Type
		done = join(done, st.name)
	}
	return kindOf(deref(t)), nil
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// kindOf is the FieldKind of a Go type of the scenario's.
func kindOf(t reflect.Type) FieldKind {
	if t == durationType {
		return FieldDuration
	}
	switch t.Kind() {
	case reflect.Int:
		return FieldInt
	case reflect.Uint64:
		return FieldUint
	case reflect.Float64:
		return FieldFloat
	case reflect.String:
		return FieldString
	case reflect.Bool:
		return FieldBool
	case reflect.Slice:
		return FieldList
	}
	return FieldMapping
}

// unknownPathError says that steps[i] of path names no field of t (the
// section done), and suggests the path that was probably meant: the same
// path with that name spelt right, or, for a name that is a field
// elsewhere ("nodes_per_zone" alone), the path that leads to it.
func unknownPathError(path string, steps []pathStep, i int, done string, t reflect.Type) error {
	name := steps[i].name
	where := "a scenario"
	if done != "" {
		where = done
	}
	if s := suggest(name, fieldNames(t)); s != "" {
		fixed := slices.Clone(steps)
		fixed[i].name = s
		if p := joinSteps(fixed); validPath(p) {
			return fmt.Errorf("%s names no field: %s has no %q (did you mean %s?)", path, where, name, p)
		}
	}
	var found []string
	for _, leaf := range fieldPaths(reflect.TypeFor[Scenario](), "") {
		last := leaf[strings.LastIndex(leaf, ".")+1:]
		if last == name || suggest(name, []string{last}) == last {
			found = append(found, leaf)
		}
	}
	if len(found) > 0 && len(found) <= 3 {
		return fmt.Errorf("%s names no field: %s has no %q (did you mean %s?)", path, where, name, strings.Join(found, " or "))
	}
	return fmt.Errorf("%s names no field: %s has no %q (it has %s)", path, where, name, strings.Join(fieldNames(t), ", "))
}

// validPath reports whether path names a field.
func validPath(path string) bool {
	_, err := LookupField(path)
	return err == nil
}

// joinSteps writes steps as a path.
func joinSteps(steps []pathStep) string {
	var b strings.Builder
	for _, st := range steps {
		if st.name == "" {
			fmt.Fprintf(&b, "[%d]", st.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.name)
	}
	return b.String()
}

// fieldPaths lists the paths of every field of t that holds a value (not
// a section), lists of sections by their first item ("workload.bursts[0].at").
func fieldPaths(t reflect.Type, prefix string) []string {
	t = deref(t)
	switch {
	case t == durationType:
		return []string{prefix}
	case t.Kind() == reflect.Slice && deref(t.Elem()).Kind() == reflect.Struct:
		return fieldPaths(t.Elem(), prefix+"[0]")
	case t.Kind() != reflect.Struct:
		return []string{prefix}
	}
	var paths []string
	for _, name := range fieldNames(t) {
		paths = append(paths, fieldPaths(fieldsOf(t)[name].Type, join(prefix, name))...)
	}
	return paths
}
