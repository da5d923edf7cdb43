package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dltrain/dltrain/pkg/train"
)

// elfHead is the start of an executable: the binary file most often given
// by mistake (a path completed to the wrong file).
const elfHead = "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00\x01\x00\x00\x00\x1b[31m\x07"

// TestBinaryInputsNeverReachTheTerminalRaw (issue 16, item 7): binary
// content given as a config, a csv source or a predict input is refused
// with exit 2, and nothing raw (control bytes, invalid UTF-8) is printed.
func TestBinaryInputsNeverReachTheTerminalRaw(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "data.csv", elfHead+strings.Repeat("\x00\xff\x1b]0;pwned\x07", 40))
	csvCfg := writeFile(t, dir, "csv.yaml", "name: bin\ndata: {source: \"csv:data.csv\", label: y}\nmodel: {layers: [{type: dense, units: 2}]}\n")
	binCfg := writeFile(t, dir, "bin.yaml", elfHead+"\n\x1b[2J: 1\n")
	keyCfg := writeFile(t, dir, "key.yaml", "name: k\n\"\\e[2Jx\\a\": 1\ndata: {source: builtin:iris}\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"csv source", []string{"train", "--config", csvCfg, "--out", filepath.Join(dir, "runs")}, "is binary, not delimited text"},
		{"prepare", []string{"prepare", "--config", csvCfg, "--out", filepath.Join(dir, "prep")}, "is binary, not delimited text"},
		{"binary config", []string{"train", "--config", binCfg, "--out", filepath.Join(dir, "runs")}, "bin.yaml"},
		{"control characters in a key", []string{"train", "--config", keyCfg, "--out", filepath.Join(dir, "runs")}, `\x1b[2jx\a`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := dltrain(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			noRawBytes(t, stdout+stderr)
		})
	}
}

// noRawBytes fails when s holds a byte a terminal would interpret: a
// control character other than newline and tab, or invalid UTF-8.
func noRawBytes(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("output holds invalid UTF-8: %q", s)
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError) {
			t.Errorf("output holds the raw control character %U: %q", r, s)
			return
		}
	}
}

// TestSecondTrainOfARunningRunExits2 (issue 16, item 8): with the real
// binary, a train --resume of a run another process is training exits 2,
// naming that process, and the first run goes on to be stopped normally.
func TestSecondTrainOfARunningRunExits2(t *testing.T) {
	if testing.Short() {
		t.Skip("trains through the binary")
	}
	out := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "signals.yaml", signalYAML)
	var second string
	var secondCode int
	code, log := startTraining(t, []string{"--config", cfg, "--out", out}, func(p *os.Process, epoch int) {
		if epoch != 1 {
			return
		}
		dir := onlyRun(t, out, "signals")
		cmd := exec.Command(binary(t), "train", "--resume", dir)
		b, err := cmd.CombinedOutput()
		second, secondCode = string(b), cmd.ProcessState.ExitCode()
		if err == nil {
			secondCode = 0
		}
		want := fmt.Sprintf("run in use: %s is being trained by another dltrain process (PID %d)", dir, p.Pid)
		if !strings.Contains(second, want) {
			t.Errorf("second train: %q lacks %q", second, want)
		}
		p.Signal(syscall.SIGTERM)
	})
	if secondCode != 2 {
		t.Errorf("second train --resume exited %d, want 2\n%s", secondCode, second)
	}
	if code != 143 {
		t.Errorf("first run exited %d after SIGTERM, want 143\n%s", code, log)
	}
}

// TestSIGHUPSavesAndExits129 (issue 16, item 10): with the real binary,
// SIGHUP in the middle of training saves a checkpoint and exits 129, and
// the run resumes from it.
func TestSIGHUPSavesAndExits129(t *testing.T) {
	if testing.Short() {
		t.Skip("trains through the binary")
	}
	out := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "signals.yaml", signalYAML)
	code, log := startTraining(t, []string{"--config", cfg, "--out", out}, func(p *os.Process, epoch int) {
		if epoch == 1 {
			p.Signal(syscall.SIGHUP)
		}
	})
	if code != 129 || !strings.Contains(log, "hangup received") || !strings.Contains(log, "checkpoint saved") {
		t.Fatalf("exit %d after SIGHUP, want 129 with a checkpoint saved\n%s", code, log)
	}
	dir := onlyRun(t, out, "signals")
	ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoints", "last.ckpt"))
	if err != nil || ck.State.Epoch < 1 || ck.State.Step == 0 {
		t.Errorf("last.ckpt after SIGHUP: %v %+v", err, ck)
	}
}

// TestMovedCheckoutTrainsOnItsPreparedData (issue 16, item 13): prepare in
// one checkout, copy the checkout elsewhere and delete the first; train
// there uses the prepared dataset (no rebuild), and its run describes the
// data where it now is.
func TestMovedCheckoutTrainsOnItsPreparedData(t *testing.T) {
	a := filepath.Join(t.TempDir(), "checkout")
	penguins, err := os.ReadFile(repoFile("testdata/penguins/penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(a, "data"), 0o755)
	writeFile(t, a, "data/penguins.csv", string(penguins))
	cfg := writeFile(t, a, "exp.yaml", "name: moved\ndata: {source: csv:data/penguins.csv, label: species, categorical: [island, sex], clean: {missing: drop}, prepared: prep}\nmodel: {layers: [{type: dense, units: 3}]}\ntrain: {epochs: 1}\n")
	if code, _, stderr := dltrain(t, "prepare", "--config", cfg); code != 0 {
		t.Fatalf("prepare: exit %d\n%s", code, stderr)
	}
	b := filepath.Join(t.TempDir(), "elsewhere", "checkout")
	os.MkdirAll(filepath.Dir(b), 0o755)
	if out, err := exec.Command("cp", "-r", a, b).CombinedOutput(); err != nil {
		t.Fatal("cp -r:", string(out))
	}
	os.RemoveAll(a)
	code, _, stderr := dltrain(t, "train", "--config", filepath.Join(b, "exp.yaml"), "--out", filepath.Join(b, "runs"))
	if code != 0 || !strings.Contains(stderr, "using the prepared dataset "+filepath.Join(b, "prep")) || strings.Contains(stderr, "stale") {
		t.Fatalf("train in the moved checkout: exit %d\n%s", code, stderr)
	}
	run := onlyRun(t, filepath.Join(b, "runs"), "moved")
	if dj, _ := os.ReadFile(filepath.Join(run, "data.json")); !strings.Contains(string(dj), filepath.Join(b, "data", "penguins.csv")) || strings.Contains(string(dj), a) {
		t.Errorf("data.json does not name the source where it now is:\n%s", dj)
	}
}
