package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// loadScenario reads arg as a file if it names one (or looks like a path),
// otherwise as a built-in name.
func loadScenario(arg string) (*scenarios.Scenario, error) {
	sc, _, err := loadScenarioPositions(arg)
	return sc, err
}

// loadScenarioPositions is loadScenario that also returns where each field
// was written, for checks made after loading. Whatever makes arg unusable
// is bad input (exit status 2): a file that does not exist, a directory, a
// file that cannot be read, a mistake in it.
func loadScenarioPositions(arg string) (*scenarios.Scenario, *scenarios.Positions, error) {
	if arg == "" {
		arg = scenarios.DefaultBuiltin
	}
	looksLikePath := strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.HasSuffix(arg, ".json")
	if strings.HasSuffix(arg, ".json") {
		return loadResultsSpec(arg)
	}
	st, err := os.Stat(arg)
	if err == nil && st.IsDir() {
		return nil, nil, usagef("%s is a directory, not a scenario file", arg)
	}
	if err == nil || looksLikePath {
		sc, pos, err := scenarios.LoadPositions(arg)
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, usagef("no scenario file %s", arg)
		case errors.As(err, &pe):
			return nil, nil, usagef("cannot read scenario file %s: %v", arg, pe.Err)
		}
		return sc, pos, err
	}
	sc, pos, err := scenarios.BuiltinPositions(arg)
	var nf *scenarios.NotFoundError
	if errors.As(err, &nf) {
		return nil, nil, usagef("%q is neither a scenario file nor a built-in scenario (%s)", arg, strings.Join(scenarios.BuiltinNames(), ", "))
	}
	return sc, pos, err
}

// loadResultsSpec reads the scenario a results document ran (its
// scenario_spec, seed and topologies as run), so that the run can be
// replayed. The spec is checked again like any scenario file.
func loadResultsSpec(path string) (*scenarios.Scenario, *scenarios.Positions, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, usagef("no results file %s", path)
	} else if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return nil, nil, usagef("cannot read results file %s: %v", path, pe.Err)
	} else if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	res, err := reports.ReadJSON(f)
	if err != nil {
		return nil, nil, usagef("%s: %v", path, err)
	}
	if res.Spec == nil {
		return nil, nil, usagef("%s: the results document holds no scenario_spec to replay", path)
	}
	data, err := yaml.Marshal(res.Spec)
	if err != nil {
		return nil, nil, err
	}
	return scenarios.ParsePositions(path+" (scenario_spec as YAML)", data)
}
