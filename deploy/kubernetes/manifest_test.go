// Package kubernetes holds the manifests that run a stampsim sweep as a
// Kubernetes Indexed Job and merge its shards, and the test that decodes
// them strictly into the Kubernetes API's types and checks the fields the
// sweep relies on. It is a module of its own so that stampsim itself does
// not depend on the Kubernetes API; it must not hold anything the
// manifests do not need.
package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/stampsim/stampsim/sweeps"
)

// documents returns the YAML documents of a manifest file.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// decode decodes doc strictly: a field the type does not have, or one set
// twice, is an error.
func decode(t *testing.T, doc []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("decoding into %T: %v", v, err)
	}
}

// flag returns the value after name in args.
func flag(t *testing.T, args []string, name string) string {
	t.Helper()
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("args %q have no %s", args, name)
	}
	return args[i+1]
}

func mountOf(t *testing.T, c corev1.Container, claim string, volumes []corev1.Volume) string {
	t.Helper()
	for _, v := range volumes {
		if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim {
			continue
		}
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name && !m.ReadOnly {
				return m.MountPath
			}
		}
	}
	t.Fatalf("container %s mounts no volume of claim %s for writing", c.Name, claim)
	return ""
}

func TestSweepJob(t *testing.T) {
	docs := documents(t, "sweep-job.yaml")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want the claim and the Job", len(docs))
	}
	var pvc corev1.PersistentVolumeClaim
	decode(t, docs[0], &pvc)
	if pvc.Kind != "PersistentVolumeClaim" || !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("claim %s: kind %s, access modes %v; want ReadWriteMany, for pods on every node", pvc.Name, pvc.Kind, pvc.Spec.AccessModes)
	}
	var job batchv1.Job
	decode(t, docs[1], &job)
	s := job.Spec
	if job.Kind != "Job" || job.APIVersion != "batch/v1" {
		t.Fatalf("%s %s, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed: the index is the shard", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Parallelism != *s.Completions {
		t.Fatalf("completions %v, parallelism %v: want both, equal", s.Completions, s.Parallelism)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1 {
		t.Errorf("backoffLimitPerIndex %v, want retries of a shard on its own", s.BackoffLimitPerIndex)
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s, want Never (backoffLimitPerIndex needs it)", s.Template.Spec.RestartPolicy)
	}
	failIndex := false
	if s.PodFailurePolicy != nil {
		for _, r := range s.PodFailurePolicy.Rules {
			failIndex = failIndex || r.Action == batchv1.PodFailurePolicyActionFailIndex && r.OnExitCodes != nil && slices.Contains(r.OnExitCodes.Values, 2)
		}
	}
	if !failIndex {
		t.Error("no podFailurePolicy rule fails an index on exit status 2 (bad input, which a retry repeats)")
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	args := c.Args
	if len(args) < 2 || args[0] != "sweep" {
		t.Fatalf("args %q, want stampsim sweep SWEEP ...", args)
	}
	if _, err := sweeps.Builtin(args[1], sweeps.SizeDefault); err != nil {
		t.Errorf("args name sweep %q: %v", args[1], err)
	}
	if shards := flag(t, args, "--shards"); shards != fmt.Sprint(*s.Completions) {
		t.Errorf("--shards %s, but %d completions: every shard must run, each once", shards, *s.Completions)
	}
	if !slices.Contains(args, "--resume") {
		t.Error("no --resume: a retried shard would refuse the directory its first try left")
	}
	mount := mountOf(t, c, pvc.Name, s.Template.Spec.Volumes)
	out := flag(t, args, "--out")
	if !strings.HasPrefix(out, mount+"/") || !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--out %s: want a directory per index, $(JOB_COMPLETION_INDEX), on the volume mounted at %s", out, mount)
	}
	env := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "JOB_COMPLETION_INDEX" })
	if env < 0 || c.Env[env].ValueFrom == nil || c.Env[env].ValueFrom.FieldRef == nil ||
		c.Env[env].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("env %+v: want JOB_COMPLETION_INDEX from the pod's completion-index annotation, for --shards and $(...) in args", c.Env)
	}

	// The merge Job reads each shard's directory from the same volume.
	merge := documents(t, "merge-job.yaml")
	if len(merge) != 1 {
		t.Fatalf("merge-job.yaml: %d documents, want 1", len(merge))
	}
	var mj batchv1.Job
	decode(t, merge[0], &mj)
	if mj.Spec.CompletionMode != nil && *mj.Spec.CompletionMode == batchv1.IndexedCompletion || len(mj.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("merge job: %+v", mj.Spec)
	}
	mc := mj.Spec.Template.Spec.Containers[0]
	mmount := mountOf(t, mc, pvc.Name, mj.Spec.Template.Spec.Volumes)
	if len(mc.Args) < 2 || mc.Args[0] != "sweep" || mc.Args[1] != "merge" {
		t.Fatalf("merge args %q, want stampsim sweep merge DIR... --out DIR", mc.Args)
	}
	var dirs []string
	for i := range int(*s.Completions) {
		dirs = append(dirs, strings.Replace(strings.Replace(out, mount, mmount, 1), "$(JOB_COMPLETION_INDEX)", fmt.Sprint(i), 1))
	}
	mout := flag(t, mc.Args, "--out")
	var given []string
	for i := 2; i < len(mc.Args); i++ {
		if mc.Args[i] == "--out" {
			i++
			continue
		}
		given = append(given, mc.Args[i])
	}
	if !slices.Equal(given, dirs) {
		t.Errorf("merge reads %q, want every shard's directory once: %q", given, dirs)
	}
	if !strings.HasPrefix(mout, mmount+"/") || slices.Contains(dirs, mout) {
		t.Errorf("merge --out %s: want a directory of its own on the volume", mout)
	}
	if image := c.Image; mc.Image != image {
		t.Errorf("the merge runs image %s, the shards %s: merge refuses rows of another build", mc.Image, image)
	}
}
