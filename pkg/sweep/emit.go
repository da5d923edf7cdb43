package sweep

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// EmitOptions say how a sweep's workers run on a cluster engine.
type EmitOptions struct {
	Binary string // the dltrain binary the workers run
	Config string // the sweep file, as the workers see it
	Dir    string // the sweep directory, on a file system every worker shares
	// Workers is the number of worker tasks (default: one per trial;
	// each claims trials until none is left) and Parallel how many run at
	// once (default: the sweep's parallel).
	Workers, Parallel int
	Image             string // k8s: the container image holding dltrain
	Claim             string // k8s: the PersistentVolumeClaim holding the sweep
}

// Emitters write the job a cluster engine runs a sweep's workers with, by
// engine.
var Emitters = map[string]func(s *Spec, o EmitOptions) (string, error){
	"slurm": emitSlurm,
	"k8s":   emitK8s,
}

func (o *EmitOptions) defaults(s *Spec) {
	if o.Workers <= 0 {
		o.Workers = s.Trials
	}
	if o.Parallel <= 0 {
		o.Parallel = s.Parallel
	}
	o.Parallel = min(o.Parallel, o.Workers)
}

// jobName is a name a scheduler takes: a DNS label (lowercase letters,
// digits and '-', at most 63 characters, a letter or digit at each end),
// as Kubernetes requires of a Job whose pods are named after it.
func jobName(s *Spec) string {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File)))
	base = regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(base, "-")
	name := strings.Trim("dltrain-sweep-"+base, "-")
	return strings.TrimRight(name[:min(len(name), 63)], "-")
}

// emitSlurm writes an sbatch script: an array job of Workers tasks, at
// most Parallel at once, each a worker named after SLURM_ARRAY_TASK_ID.
// The sweep directory must exist when it is submitted (the tasks' output
// files are there): dltrain sweep --emit slurm starts the sweep in it.
// It is requeue-safe: scancel or pre-emption sends SIGTERM (the batch
// shell has exec'd dltrain), the trial saves its checkpoint and stays
// claimed-but-unfinished in the journal, and the requeued task (or any
// other worker) resumes it.
func emitSlurm(s *Spec, o EmitOptions) (string, error) {
	o.defaults(s)
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# dltrain sweep %s: %d workers, at most %d at once; each claims trials until none is left.\n", s.File, o.Workers, o.Parallel)
	fmt.Fprintf(&b, "# Submit with: sbatch THIS_FILE; follow with: %s sweep status %s\n", o.Binary, shellQuote(o.Dir))
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", jobName(s))
	fmt.Fprintf(&b, "#SBATCH --array=0-%d%%%d\n", o.Workers-1, o.Parallel)
	fmt.Fprintf(&b, "#SBATCH --requeue\n")
	fmt.Fprintf(&b, "#SBATCH --signal=B:TERM@120\n")
	fmt.Fprintf(&b, "#SBATCH --open-mode=append\n")
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(o.Dir, "slurm-%A_%a.out"))
	fmt.Fprintf(&b, "set -eu\n")
	fmt.Fprintf(&b, "# exec: SIGTERM (scancel, pre-emption, the time limit) reaches dltrain, which saves the\n# trial's checkpoint and exits; the requeued task resumes it.\n")
	fmt.Fprintf(&b, "exec %s sweep --config %s --out %s --worker \"slurm-${SLURM_ARRAY_TASK_ID}\"\n",
		shellQuote(o.Binary), shellQuote(o.Config), shellQuote(o.Dir))
	return b.String(), nil
}

// emitK8s writes an Indexed Job: Workers completions, Parallel at once,
// each pod a worker named after its JOB_COMPLETION_INDEX, the sweep file
// and directory on a shared PersistentVolumeClaim mounted at /sweep (Config
// and Dir relative to it).
func emitK8s(s *Spec, o EmitOptions) (string, error) {
	o.defaults(s)
	for _, p := range []struct{ what, path string }{{"--config", o.Config}, {"--out", o.Dir}} {
		if filepath.IsAbs(p.path) || strings.HasPrefix(filepath.Clean(p.path), "..") {
			return "", fmt.Errorf("%w: --emit k8s: %s %s must be relative, inside the directory on the shared volume (mounted at /sweep in the pods)", config.ErrInvalid, p.what, p.path)
		}
	}
	if o.Image == "" {
		o.Image = "dltrain:latest"
	}
	if o.Claim == "" {
		o.Claim = "dltrain-sweep"
	}
	q := strconv.Quote
	args := []string{"sweep", "--config", filepath.ToSlash(o.Config), "--out", filepath.ToSlash(o.Dir), "--worker", "k8s-$(JOB_COMPLETION_INDEX)"}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = q(a)
	}
	return fmt.Sprintf(`# dltrain sweep %s: %d workers, at most %d at once; each claims trials until none is left.
# Apply with: kubectl apply -f THIS_FILE (the claim %s must hold the sweep file and its experiment).
apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
  completionMode: Indexed
  completions: %d
  parallelism: %d
  backoffLimit: %d
  template:
    spec:
      restartPolicy: OnFailure
      terminationGracePeriodSeconds: 120
      containers:
        - name: worker
          image: %s
          workingDir: /sweep
          command: [%s]
          args: [%s]
          volumeMounts:
            - name: sweep
              mountPath: /sweep
      volumes:
        - name: sweep
          persistentVolumeClaim:
            claimName: %s
`, s.File, o.Workers, o.Parallel, q(o.Claim), jobName(s), o.Workers, o.Parallel, 3*o.Workers, q(o.Image), q(o.Binary), strings.Join(quoted, ", "), q(o.Claim)), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>*?()[]{}~#!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
