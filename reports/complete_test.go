package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// An interrupted command's document says so twice: complete is false, and
// the run it stopped in is marked. The finished runs carry no mark, so
// that a finished run reads exactly as it did before the mark existed.
func TestIncompleteDocument(t *testing.T) {
	res := sampleResults(t)
	res.Complete = false
	res.Runs[1].Interrupted = true
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if !strings.Contains(doc, "\n  \"complete\": false,\n") {
		t.Errorf("the document does not say \"complete\": false:\n%s", doc)
	}
	if n := strings.Count(doc, `"interrupted": true`); n != 1 {
		t.Errorf("%d runs marked interrupted, want the one", n)
	}
	if strings.Contains(doc, `"interrupted": false`) {
		t.Error("a finished run is marked")
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Errorf("read back differs:\n got %+v\nwant %+v", back, res)
	}
}

// Documents written before the complete field existed still load. They
// held finished runs only, so they read as complete exactly when they hold
// a run for every topology of their scenario_spec.
func TestReadJSONWithoutComplete(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "results.without-complete.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(old, []byte(`"complete"`)) {
		t.Fatal("testdata/results.without-complete.json has the field it is meant to lack")
	}
	res, err := ReadJSON(bytes.NewReader(old))
	if err != nil {
		t.Fatalf("an older document does not load: %v", err)
	}
	if res.Complete || len(res.Runs) != 2 || len(res.Spec.Topologies) != 6 {
		t.Errorf("complete %v with %d runs of %d topologies; want false", res.Complete, len(res.Runs), len(res.Spec.Topologies))
	}
	for _, r := range res.Runs {
		if r.Interrupted {
			t.Errorf("%s read as interrupted", r.Topology)
		}
	}

	// The same document, had it run only the two topologies it holds.
	var doc map[string]any
	if err := json.Unmarshal(old, &doc); err != nil {
		t.Fatal(err)
	}
	doc["scenario_spec"].(map[string]any)["topologies"] = []string{"none", "two-level"}
	all, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = ReadJSON(bytes.NewReader(all)); err != nil || !res.Complete {
		t.Errorf("every topology run: complete %v (%v), want true", res != nil && res.Complete, err)
	}

	// A document that says complete is false is taken at its word.
	doc["complete"] = false
	said, _ := json.Marshal(doc)
	if res, err = ReadJSON(bytes.NewReader(said)); err != nil || res.Complete {
		t.Errorf("\"complete\": false read as complete %v (%v)", res != nil && res.Complete, err)
	}
}
