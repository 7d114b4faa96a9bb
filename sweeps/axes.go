package sweeps

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/scenarios"
)

// Canonical returns the canonical text of a value written as text for a
// field of kind: integers in decimal ("1e3" is "1000"), numbers in their
// shortest form, durations as scenarios write them ("2.5ms"), booleans as
// true or false, strings as they are. Two ways of writing one value have
// one canonical text, which is what a point's seed and shard are made of.
func Canonical(kind scenarios.FieldKind, text string) (string, error) {
	switch kind {
	case scenarios.FieldInt, scenarios.FieldUint:
		x, err := strconv.ParseFloat(text, 64)
		if i, ierr := strconv.ParseInt(text, 0, 64); ierr == nil {
			x, err = float64(i), nil // 0x10, 0o17, 0b101, as YAML reads them
		}
		if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return "", fmt.Errorf("want an integer, got %q", text)
		}
		if kind == scenarios.FieldUint && x < 0 {
			return "", fmt.Errorf("want a non-negative integer, got %q", text)
		}
		return strconv.FormatInt(int64(x), 10), nil
	case scenarios.FieldFloat:
		x, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return "", fmt.Errorf("want a number, got %q", text)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case scenarios.FieldDuration:
		d, err := scenarios.ParseDuration(text)
		if err != nil {
			return "", err
		}
		return d.String(), nil
	case scenarios.FieldBool:
		switch text {
		case "true", "false":
			return text, nil
		}
		return "", fmt.Errorf("want true or false, got %q", text)
	case scenarios.FieldString:
		return text, nil
	}
	return "", fmt.Errorf("an axis sets a field that holds one value, not a %s", kind)
}

// valueNode is the YAML scalar for a canonical value of kind, as a file
// would write it.
func valueNode(kind scenarios.FieldKind, value string) *yaml.Node {
	tag := map[scenarios.FieldKind]string{
		scenarios.FieldInt: "!!int", scenarios.FieldUint: "!!int", scenarios.FieldFloat: "!!float", scenarios.FieldBool: "!!bool",
	}[kind]
	if tag == "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: yaml.DoubleQuotedStyle}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// magnitude returns the value of a canonical value of a numeric kind as a
// float64: durations in nanoseconds, so that it converts back exactly.
func magnitude(kind scenarios.FieldKind, value string) float64 {
	if kind == scenarios.FieldDuration {
		d, _ := scenarios.ParseDuration(value)
		return float64(d)
	}
	x, _ := strconv.ParseFloat(value, 64)
	return x
}

// fromMagnitude is the canonical text of x (durations in nanoseconds) for
// a field of kind, rounded to what the kind holds.
func fromMagnitude(kind scenarios.FieldKind, x float64) string {
	switch kind {
	case scenarios.FieldDuration:
		return scenarios.Duration(time.Duration(math.Round(x))).String()
	case scenarios.FieldFloat:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strconv.FormatInt(int64(math.Round(x)), 10)
}

// bound reads one end or the step of a range for a field of kind: a
// number, or for a duration field a duration.
func bound(kind scenarios.FieldKind, n *yaml.Node) (float64, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("want a %s, got a %s", kind, nodeKind(n))
	}
	if kind == scenarios.FieldDuration {
		d, err := scenarios.ParseDuration(n.Value)
		return float64(d), err
	}
	x, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, fmt.Errorf("want a number, got %q", n.Value)
	}
	return x, nil
}

// logRange returns from, then per values a decade up to to, each rounded
// to three significant digits (316, not 316.227766) and then to what kind
// holds, without repeats.
func logRange(kind scenarios.FieldKind, from, to float64, per int) ([]string, error) {
	if !(from > 0) || to < from {
		return nil, fmt.Errorf("a log range goes from a positive value up to a value at least as large, got from %s to %s", fromMagnitude(kind, from), fromMagnitude(kind, to))
	}
	n := math.Floor(float64(per)*math.Log10(to/from)+1e-9) + 1
	if n > MaxAxisValues {
		return nil, fmt.Errorf("%.0f values, more than the %d an axis may have", n, MaxAxisValues)
	}
	var vals []string
	for i := range int(n) {
		x := from * math.Pow(10, float64(i)/float64(per))
		if i > 0 {
			x = roundSignificant(x, 3)
		}
		v := fromMagnitude(kind, x)
		if len(vals) == 0 || vals[len(vals)-1] != v {
			vals = append(vals, v)
		}
	}
	return vals, nil
}

// linearRange returns from, from+step, ... up to to.
func linearRange(kind scenarios.FieldKind, from, to, step float64) ([]string, error) {
	if !(step > 0) || to < from {
		return nil, fmt.Errorf("a linear range goes up from its from to a value at least as large by a positive step, got from %s to %s step %s",
			fromMagnitude(kind, from), fromMagnitude(kind, to), fromMagnitude(kind, step))
	}
	if (kind == scenarios.FieldInt || kind == scenarios.FieldUint) && (from != math.Trunc(from) || step != math.Trunc(step)) {
		return nil, fmt.Errorf("an integer field's range needs an integer from and step, got from %v step %v", from, step)
	}
	n := math.Floor((to-from)/step+1e-9) + 1
	if n > MaxAxisValues {
		return nil, fmt.Errorf("%.0f values, more than the %d an axis may have", n, MaxAxisValues)
	}
	vals := make([]string, 0, int(n))
	for i := range int(n) {
		// Twelve digits drop what adding steps in binary leaves behind
		// (1.2000000000000002 for 1.1 + 0.1).
		vals = append(vals, fromMagnitude(kind, roundSignificant(from+float64(i)*step, 12)))
	}
	return vals, nil
}

// roundSignificant rounds x to digits significant digits.
func roundSignificant(x float64, digits int) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, float64(digits)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// UnmarshalJSON reads an axis from a sweep document, and finds its kind
// again from its path.
func (a *Axis) UnmarshalJSON(data []byte) error {
	type plain Axis
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	k, err := scenarios.LookupField(p.Path)
	if err != nil {
		return fmt.Errorf("axis %s: %w", p.Path, err)
	}
	*a = Axis(p)
	a.Kind = k
	return nil
}

// nodeKind names a YAML node's kind for messages.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "scalar"
}
