package sweeps

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/scenarios"
)

// axes reads a list of axes; one with a mistake (recorded) is the zero
// Axis, in its place, so that the others keep their indices.
func (p *parser) axes(list []axisFile, field string) []Axis {
	out := make([]Axis, len(list))
	for i := range list {
		out[i] = p.axis(&list[i], fmt.Sprintf("%s[%d]", field, i))
	}
	return out
}

// axis reads one axis, or records its mistake and returns the zero Axis.
func (p *parser) axis(af *axisFile, field string) Axis {
	if !p.pos.Has(field + ".path") {
		p.errorf(field, "missing: path, the scenario field to sweep (e.g. topology.nodes_per_zone)")
		return Axis{}
	}
	kind, err := scenarios.LookupField(af.Path)
	if err != nil {
		p.errorf(field+".path", "%v", err)
		return Axis{}
	}
	if !kind.Scalar() {
		p.errorf(field+".path", "%s is a %s: an axis gives one field a value at a time; name a field inside it (set gives a whole %s)", af.Path, kind, kind)
		return Axis{}
	}
	a := Axis{Path: af.Path, Kind: kind, Scale: Linear}
	values, ranged := p.pos.Has(field+".values"), p.pos.Has(field+".range")
	if values == ranged {
		p.errorf(field, "want values (a list) or range ({from, to, per_decade} or {from, to, step}), one of the two")
		return Axis{}
	}
	if ranged {
		if p.pos.Has(field + ".scale") {
			p.errorf(field+".scale", "a range says its scale: per_decade makes it log, step linear")
			return Axis{}
		}
		return p.axisRange(a, af.Range, field+".range")
	}
	return p.axisValues(a, af, field)
}

// axisValues reads an axis's list of values and its scale.
func (p *parser) axisValues(a Axis, af *axisFile, field string) Axis {
	n := &af.Values
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorAt(n, field+".values", "must be a list of at least one %s", a.Kind)
		return Axis{}
	}
	if len(n.Content) > MaxAxisValues {
		p.errorAt(n, field+".values", "%d values, more than the %d an axis may have", len(n.Content), MaxAxisValues)
		return Axis{}
	}
	ok := true
	for j, v := range n.Content {
		vf := fmt.Sprintf("%s.values[%d]", field, j)
		if v.Kind != yaml.ScalarNode {
			p.errorAt(v, vf, "want a %s, got a %s", a.Kind, nodeKind(v))
			ok = false
			continue
		}
		c, err := Canonical(a.Kind, v.Value)
		if err != nil {
			p.errorAt(v, vf, "%v", err)
			ok = false
			continue
		}
		if k := slices.Index(a.Values, c); k >= 0 {
			p.errorAt(v, vf, "%s is listed twice", c)
			ok = false
		}
		a.Values = append(a.Values, c)
	}
	switch af.Scale {
	case "", string(Linear):
	case string(Log):
		if !a.Kind.Numeric() {
			p.errorf(field+".scale", "log needs a numeric field; %s is a %s", a.Path, a.Kind)
			return Axis{}
		}
		for _, v := range a.Values {
			if ok && !(magnitude(a.Kind, v) > 0) {
				p.errorf(field+".scale", "log needs values above zero, got %s", v)
				return Axis{}
			}
		}
		a.Scale = Log
	default:
		p.errorf(field+".scale", "want log or linear, got %q", af.Scale)
		return Axis{}
	}
	if !ok {
		return Axis{}
	}
	return a
}

// axisRange reads an axis's range.
func (p *parser) axisRange(a Axis, r *rangeFile, field string) Axis {
	if !a.Kind.Numeric() {
		p.errorf(field, "a range needs a numeric field; %s is a %s: list its values", a.Path, a.Kind)
		return Axis{}
	}
	ends := map[string]float64{}
	ok := true
	for _, b := range []struct {
		name string
		node *yaml.Node
	}{{"from", &r.From}, {"to", &r.To}, {"step", &r.Step}} {
		if !p.pos.Has(field + "." + b.name) {
			continue
		}
		x, err := bound(a.Kind, b.node)
		if err != nil {
			p.errorAt(b.node, field+"."+b.name, "%v", err)
			ok = false
		}
		ends[b.name] = x
	}
	for _, need := range []string{"from", "to"} {
		if !p.pos.Has(field + "." + need) {
			p.errorf(field, "missing: %s", need)
			ok = false
		}
	}
	step, log := p.pos.Has(field+".step"), p.pos.Has(field+".per_decade")
	if step == log {
		p.errorf(field, "want per_decade (values spread evenly on a log scale) or step (on a linear one), one of the two")
		return Axis{}
	}
	if log && (r.PerDecade < 1 || r.PerDecade > 100) {
		p.errorf(field+".per_decade", "must be from 1 to 100, got %d", r.PerDecade)
		return Axis{}
	}
	if !ok {
		return Axis{}
	}
	var err error
	if log {
		a.Scale = Log
		a.Values, err = logRange(a.Kind, ends["from"], ends["to"], r.PerDecade)
	} else {
		a.Values, err = linearRange(a.Kind, ends["from"], ends["to"], ends["step"])
	}
	if err != nil {
		p.errorf(field, "%v", err)
		return Axis{}
	}
	return a
}

// replaceAxes returns axes with each axis of the small size in place of
// the axis of the same path.
func (p *parser) replaceAxes(axes, small []Axis) []Axis {
	axes = slices.Clone(axes)
	for i, a := range small {
		if a.Path == "" {
			continue
		}
		k := slices.IndexFunc(axes, func(b Axis) bool { return b.Path == a.Path })
		if k < 0 {
			var paths []string
			for _, b := range axes {
				paths = append(paths, b.Path)
			}
			p.errorf(fmt.Sprintf("small.axes[%d].path", i), "%s is not one of the axes (%s): the small size gives axes other values, it adds none", a.Path, strings.Join(paths, ", "))
			continue
		}
		axes[k] = a
	}
	return axes
}
