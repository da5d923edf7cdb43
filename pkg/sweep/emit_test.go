package sweep

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"go.yaml.in/yaml/v3"
)

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

// job is the part of a Kubernetes batch/v1 Job the manifest uses, decoded
// strictly: a misspelt or misplaced field fails. (Not k8s.io/api's types:
// see docs/sweep.md.)
type job struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		BackoffLimit   int    `yaml:"backoffLimit"`
		Template       struct {
			Spec struct {
				RestartPolicy                 string `yaml:"restartPolicy"`
				TerminationGracePeriodSeconds int    `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Name         string   `yaml:"name"`
					Image        string   `yaml:"image"`
					WorkingDir   string   `yaml:"workingDir"`
					Command      []string `yaml:"command"`
					Args         []string `yaml:"args"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name                  string `yaml:"name"`
					PersistentVolumeClaim struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestEmitK8s: an Indexed Job whose pods are workers named by their
// completion index, on the shared claim; absolute paths are refused.
func TestEmitK8s(t *testing.T) {
	text, err := Emitters["k8s"](emitSpec(), EmitOptions{Binary: "dltrain", Config: "sweeps/digits.yaml", Dir: "out/digits", Image: "registry/dltrain:1", Claim: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	var j job
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, text)
	}
	s := j.Spec
	c := s.Template.Spec.Containers
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions != 12 || s.Parallelism != 2 ||
		len(c) != 1 || c[0].Image != "registry/dltrain:1" || c[0].WorkingDir != "/sweep" ||
		strings.Join(append(c[0].Command, c[0].Args...), " ") != "dltrain sweep --config sweeps/digits.yaml --out out/digits --worker k8s-$(JOB_COMPLETION_INDEX)" ||
		len(c[0].VolumeMounts) != 1 || c[0].VolumeMounts[0].MountPath != "/sweep" ||
		len(s.Template.Spec.Volumes) != 1 || s.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "shared" ||
		s.Template.Spec.RestartPolicy != "OnFailure" {
		t.Errorf("manifest:\n%s\ndecoded: %+v", text, j)
	}
	_, err = Emitters["k8s"](emitSpec(), EmitOptions{Binary: "dltrain", Config: "/abs/sweep.yaml", Dir: "out"})
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("an absolute --config: %v", err)
	}
}
