package sweep

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "sigs.k8s.io/yaml"
)

func deref(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

func emitSpec() *Spec {
	return &Spec{File: "/data/sweeps/Digits TPE.yaml", Trials: 12, Parallel: 2}
}

// TestEmitSlurm: an array job of one worker per trial, at most --array-parallel
// at once, requeued on pre-emption, dltrain exec'd so it gets the SIGTERM,
// each worker named by its array task; the script is valid bash.
func TestEmitSlurm(t *testing.T) {
	text, err := Emitters["slurm"](emitSpec(), EmitOptions{Binary: "/opt/dltrain", Config: "/data/sweeps/Digits TPE.yaml", Dir: "/data/out/digits", Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --job-name=dltrain-sweep-digits-tpe\n",
		"#SBATCH --array=0-11%3\n",
		"#SBATCH --requeue\n",
		"#SBATCH --signal=B:TERM@120\n",
		"#SBATCH --output=/data/out/digits/slurm-%A_%a.out\n",
		`exec /opt/dltrain sweep --config '/data/sweeps/Digits TPE.yaml' --out /data/out/digits --worker "slurm-${SLURM_ARRAY_TASK_ID}"` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the script lacks %q:\n%s", want, text)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to check the syntax")
	}
	path := filepath.Join(t.TempDir(), "job.sh")
	os.WriteFile(path, []byte(text), 0o644)
	if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s", err, out)
	}
}

// TestEmitK8s: an Indexed Job whose pods are workers named by their
// completion index, on the shared claim; absolute paths are refused.
func TestEmitK8s(t *testing.T) {
	text, err := Emitters["k8s"](emitSpec(), EmitOptions{Binary: "dltrain", Config: "sweeps/digits.yaml", Dir: "out/digits", Image: "registry/dltrain:1", Claim: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	var j batchv1.Job
	if err := k8syaml.UnmarshalStrict([]byte(text), &j); err != nil {
		t.Fatalf("strict decode into batch/v1 Job: %v\n%s", err, text)
	}
	s := j.Spec
	pod := s.Template.Spec
	c := pod.Containers
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion ||
		deref(s.Completions) != 12 || deref(s.Parallelism) != 2 ||
		len(c) != 1 || c[0].Image != "registry/dltrain:1" || c[0].WorkingDir != "/sweep" ||
		strings.Join(append(c[0].Command, c[0].Args...), " ") != "dltrain sweep --config sweeps/digits.yaml --out out/digits --worker k8s-$(JOB_COMPLETION_INDEX)" ||
		len(c[0].VolumeMounts) != 1 || c[0].VolumeMounts[0].MountPath != "/sweep" || c[0].VolumeMounts[0].Name != "sweep" ||
		len(pod.Volumes) != 1 || pod.Volumes[0].Name != "sweep" || pod.Volumes[0].PersistentVolumeClaim == nil ||
		pod.Volumes[0].PersistentVolumeClaim.ClaimName != "shared" ||
		pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("manifest:\n%s\ndecoded: %+v", text, j)
	}
	// What the API server checks of these fields: names are DNS labels
	// (a Job's pods are named and labelled after it), a Job's pods restart
	// OnFailure or Never.
	for what, name := range map[string]string{"job": j.Name, "container": c[0].Name, "volume": pod.Volumes[0].Name} {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("%s name %q: %v", what, name, errs)
		}
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 60 {
		t.Errorf("terminationGracePeriodSeconds %v: a worker needs time to save its checkpoint after SIGTERM", pod.TerminationGracePeriodSeconds)
	}
	// An invalid field must fail: the decode is strict.
	bad := strings.Replace(text, "completionMode: Indexed", "completionMode: Indexed\n  completion: 3", 1)
	if err := k8syaml.UnmarshalStrict([]byte(bad), &batchv1.Job{}); err == nil || !strings.Contains(err.Error(), `unknown field "completion"`) {
		t.Errorf("a misspelt field decoded: %v", err)
	}
	long := emitSpec()
	long.File = "/data/" + strings.Repeat("Very Long Sweep Name ", 5) + ".yaml"
	text, err = Emitters["k8s"](long, EmitOptions{Binary: "dltrain", Config: "s.yaml", Dir: "out"})
	if err != nil {
		t.Fatal(err)
	}
	if err := k8syaml.UnmarshalStrict([]byte(text), &j); err != nil {
		t.Fatal(err)
	}
	if errs := validation.IsDNS1123Label(j.Name); len(errs) > 0 {
		t.Errorf("the job of a long sweep file name: %q: %v", j.Name, errs)
	}
	_, err = Emitters["k8s"](emitSpec(), EmitOptions{Binary: "dltrain", Config: "/abs/sweep.yaml", Dir: "out"})
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("an absolute --config: %v", err)
	}
}
