//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSweepOnSlurm runs a sweep on a real Slurm cluster, as its users do:
// the script of dltrain sweep --emit slurm submitted with sbatch, an array
// of two workers. One worker's array task is requeued in the middle of a
// trial (scontrol requeue: SIGTERM, as pre-emption sends it); the worker
// saves the trial's checkpoint and exits, and the trial is resumed from
// that checkpoint, not started again. Every trial must finish, once.
//
// It needs a cluster whose nodes share this machine's file system, so it
// runs only with TEST_SLURM_CLUSTER=1 (not a DLTRAIN_ variable:
// those are experiment overrides): .ci/slurm-test.sh starts a one-node
// cluster (munged, slurmctld, slurmd) and runs it. With TEST_SLURM_CLUSTER=1
// and no cluster it fails: it is CI's test of the Slurm path.
func TestSweepOnSlurm(t *testing.T) {
	if os.Getenv("TEST_SLURM_CLUSTER") != "1" {
		t.Skip("needs a Slurm cluster: .ci/slurm-test.sh starts one and runs this test with TEST_SLURM_CLUSTER=1")
	}
	for _, tool := range []string{"sbatch", "squeue", "scontrol", "scancel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("TEST_SLURM_CLUSTER=1 but %s is not on PATH: %v", tool, err)
		}
	}
	bin := binary(t)
	dir := t.TempDir()
	const trials, epochs = 4, 30
	// Epochs long enough that a requeue sent after a trial's first epoch
	// lands before its last, however fast the machine.
	exp, err := os.ReadFile(repoFile("configs/digits-mlp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	expText := strings.Replace(string(exp), "epochs: 30", fmt.Sprintf("epochs: %d", epochs), 1)
	expText = strings.Replace(expText, "batch_size: 64", "batch_size: 16", 1)
	writeFile(t, dir, "digits.yaml", expText)
	cfg := writeFile(t, dir, "sweep.yaml", fmt.Sprintf(`experiment: digits.yaml
metric: val_accuracy
method: random
trials: %d
seed: 3
space:
  train.optimizer.lr: {log_uniform: [3.0e-4, 3.0e-3]}
  model.layers.dense1.units: {choice: [32, 64]}
`, trials))
	out := filepath.Join(dir, "sweep")
	code, script, stderr := runBinary(t, bin, "sweep", "--config", cfg, "--out", out, "--emit", "slurm", "--workers", "2", "--array-parallel", "2")
	if code != 0 {
		t.Fatalf("--emit slurm: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(script, "#SBATCH --array=0-1%2\n") {
		t.Fatalf("the script is not an array of 2 at once:\n%s", script)
	}
	scriptPath := writeFile(t, dir, "sweep.sbatch", script)
	job := strings.TrimSpace(slurm(t, "sbatch", "--parsable", "--chdir", dir, scriptPath))
	if i := strings.IndexByte(job, ';'); i >= 0 { // "ID;CLUSTER" on federated clusters
		job = job[:i]
	}
	t.Logf("submitted array job %s", job)
	passed := false
	defer func() {
		if !passed {
			exec.Command("scancel", job).Run()
			dumpSlurm(t, job, out)
		}
	}()

	// The first trial a worker claims: wait for its first epoch, then
	// requeue that worker's array task.
	claim := waitFor(t, 90*time.Second, "a worker's first claim in the journal", func() (journalLine, bool) {
		for _, r := range readJournalLines(t, out) {
			if r.Event == "claim" && strings.HasPrefix(r.Worker, "slurm-") {
				return r, true
			}
		}
		return journalLine{}, false
	})
	task := job + "_" + strings.TrimPrefix(claim.Worker, "slurm-")
	metrics := filepath.Join(out, "trials", fmt.Sprintf("%04d", claim.Trial+1), "metrics.jsonl")
	waitFor(t, 90*time.Second, fmt.Sprintf("trial %d's first epoch (%s)", claim.Trial+1, metrics), func() (struct{}, bool) {
		return struct{}{}, fileSize(metrics) > 0
	})
	slurm(t, "scontrol", "requeue", task)
	t.Logf("requeued array task %s in trial %d", task, claim.Trial+1)
	// A requeued job waits before it is eligible again (its begin time
	// is set later); make it eligible now, until it has started again.
	waitFor(t, 90*time.Second, "the requeued task "+task+" to run again", func() (struct{}, bool) {
		info := jobInfo(task)
		switch {
		case info["Restarts"] == "" || info["Restarts"] == "0":
			return struct{}{}, false // not requeued yet
		case info["JobState"] == "PENDING":
			exec.Command("scontrol", "update", "jobid="+task, "StartTime=now").Run()
			return struct{}{}, false
		}
		// RUNNING or ended; COMPLETING/REQUEUED: still on its way back.
		return struct{}{}, info["JobState"] == "RUNNING" || info["JobState"] == "COMPLETED"
	})
	waitFor(t, 5*time.Minute, "every task of job "+job+" to end", func() (struct{}, bool) {
		return struct{}{}, strings.TrimSpace(slurm(t, "squeue", "-h", "-j", job)) == ""
	})

	// Every task completed; the journal has one result per trial, each
	// completed; the requeued trial was claimed twice and its second
	// claim resumed it from the checkpoint its SIGTERM saved.
	for _, line := range strings.Split(strings.TrimSpace(slurm(t, "scontrol", "show", "job", "-o", job)), "\n") {
		info := fields(line)
		if info["JobState"] != "COMPLETED" || info["ExitCode"] != "0:0" {
			t.Errorf("array task %s_%s: %s, exit %s", info["ArrayJobId"], info["ArrayTaskId"], info["JobState"], info["ExitCode"])
		}
	}
	results := map[int][]journalLine{}
	claims := map[int][]journalLine{}
	for _, r := range readJournalLines(t, out) {
		switch r.Event {
		case "claim":
			claims[r.Trial] = append(claims[r.Trial], r)
		case "result":
			results[r.Trial] = append(results[r.Trial], r)
		}
	}
	for id := range trials {
		if len(results[id]) != 1 || results[id][0].Status != "completed" || results[id][0].Epochs != epochs {
			t.Errorf("trial %d: results %+v, want one, completed after %d epochs", id+1, results[id], epochs)
		}
	}
	requeued := results[claim.Trial]
	if n := len(claims[claim.Trial]); n != 2 || len(requeued) != 1 {
		t.Fatalf("the requeued trial %d has %d claims and %d results, want 2 and 1", claim.Trial+1, n, len(requeued))
	}
	if r := requeued[0]; r.FromEpoch < 1 || r.FromStep < 1 || r.FromEpoch >= epochs {
		t.Errorf("the requeued trial %d ran again from epoch %d, step %d: restarted, not resumed from its checkpoint", claim.Trial+1, r.FromEpoch, r.FromStep)
	}
	rows := metricsEpochs(t, metrics)
	if len(rows) != epochs {
		t.Errorf("the requeued trial logged epochs %v, want 1..%d once each", rows, epochs)
	}
	for i, e := range rows {
		if e != i+1 {
			t.Errorf("the requeued trial logged epochs %v, want 1..%d once each", rows, epochs)
			break
		}
	}
	trialLog, _ := os.ReadFile(filepath.Join(out, "trials", fmt.Sprintf("%04d.log", claim.Trial+1)))
	if !strings.Contains(string(trialLog), "checkpoint saved") || !strings.Contains(string(trialLog), "resuming") {
		t.Errorf("trial %d's log does not say it saved a checkpoint on SIGTERM and resumed from it:\n%s", claim.Trial+1, trialLog)
	}
	code, status, _ := runBinary(t, bin, "sweep", "status", out)
	if code != 0 || !strings.Contains(status, fmt.Sprintf("%d trials of %d", trials, trials)) || !strings.Contains(status, "finished") {
		t.Errorf("sweep status: exit %d\n%s", code, status)
	}
	if t.Failed() {
		return
	}
	passed = true
	resumer := claims[claim.Trial][1].Worker
	t.Logf("trial %d: claimed by %s, requeued, resumed by %s from its checkpoint at epoch %d, step %d; status:\n%s",
		claim.Trial+1, claim.Worker, resumer, requeued[0].FromEpoch, requeued[0].FromStep, status)
}

// journalLine is what the Slurm test reads of a journal record.
type journalLine struct {
	Event     string `json:"event"`
	Trial     int    `json:"trial"`
	Worker    string `json:"worker"`
	Status    string `json:"status"`
	Epochs    int    `json:"epochs"`
	Error     string `json:"error"`
	FromEpoch int    `json:"from_epoch"`
	FromStep  int64  `json:"from_step"`
}

// readJournalLines reads the whole lines of a sweep's journal; a bad line
// fails the test.
func readJournalLines(t *testing.T, dir string) []journalLine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []journalLine
	text := string(b)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i] // a line being written is not whole yet
	} else {
		return nil
	}
	for i, line := range strings.Split(text, "\n") {
		var r journalLine
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("journal line %d: %v\n%s", i+1, err, line)
		}
		out = append(out, r)
	}
	return out
}

// metricsEpochs lists the epoch of every row of a metrics.jsonl.
func metricsEpochs(t *testing.T, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var row struct{ Epoch int }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, row.Epoch)
	}
	return out
}

// slurm runs a Slurm command (30 s at most) and returns its stdout; a
// failure fails the test with its output.
func slurm(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, b, stderr.String())
	}
	return string(b)
}

// waitFor polls cond every 200 ms until it holds, failing the test after
// limit with what it waited for.
func waitFor[T any](t *testing.T, limit time.Duration, what string, cond func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if v, ok := cond(); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// jobInfo is scontrol's record of one job as KEY=VALUE fields; empty when
// Slurm does not know it (any more).
func jobInfo(job string) map[string]string {
	b, err := exec.Command("scontrol", "show", "job", "-o", job).Output()
	if err != nil {
		return map[string]string{}
	}
	return fields(strings.TrimSpace(string(b)))
}

var slurmField = regexp.MustCompile(`(\w+)=(\S*)`)

func fields(line string) map[string]string {
	out := map[string]string{}
	for _, m := range slurmField.FindAllStringSubmatch(line, -1) {
		if _, seen := out[m[1]]; !seen {
			out[m[1]] = m[2]
		}
	}
	return out
}

// dumpSlurm logs what a failed Slurm test needs to be understood: the
// jobs as Slurm sees them, each task's output and the journal.
func dumpSlurm(t *testing.T, job, out string) {
	t.Helper()
	for _, args := range [][]string{{"squeue", "-j", job}, {"scontrol", "show", "job", job}} {
		b, _ := exec.Command(args[0], args[1:]...).CombinedOutput()
		t.Logf("$ %s\n%s", strings.Join(args, " "), b)
	}
	files, _ := filepath.Glob(filepath.Join(out, "slurm-*.out"))
	files = append(files, filepath.Join(out, "journal.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		t.Logf("%s:\n%s", f, b)
	}
}
