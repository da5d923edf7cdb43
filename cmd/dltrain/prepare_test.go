package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dltrain/dltrain/pkg/train"
)

// run executes the command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// metricsWithoutTime drops the elapsed_s column, the only one that may
// differ between identical runs.
func metricsWithoutTime(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, line[:strings.LastIndex(line, ",")])
	}
	return strings.Join(out, "\n")
}

func onlyRunUnder(t *testing.T, parent string) string {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(parent, "*", "*"))
	if len(runs) != 1 {
		t.Fatalf("%d runs under %s", len(runs), parent)
	}
	return runs[0]
}

// TestPrepareThenTrainIsIdentical (acceptance): training from a prepared
// dataset gives bit-identical metrics, weights and test report to training
// from the source alone.
func TestPrepareThenTrainIsIdentical(t *testing.T) {
	for _, cfg := range []string{"penguins-mlp.yaml", "sunspots-forecast.yaml"} {
		t.Run(cfg, func(t *testing.T) {
			config := filepath.Join("..", "..", "configs", cfg)
			tmp := t.TempDir()
			prep := filepath.Join(tmp, "prepared")
			set := []string{"--set", "data.prepared=" + prep, "--set", "train.epochs=8"}
			code, _, stderr := runCLI(t, append([]string{"train", "--config", config, "--out", filepath.Join(tmp, "a")}, set...)...)
			if code != 0 || strings.Contains(stderr, "prepared dataset") {
				t.Fatalf("train without prepare: exit %d\n%s", code, stderr)
			}
			code, stdout, stderr := runCLI(t, append([]string{"prepare", "--config", config}, set...)...)
			if code != 0 || !strings.Contains(stdout, "wrote "+prep) {
				t.Fatalf("prepare: exit %d\n%s%s", code, stdout, stderr)
			}
			code, _, stderr = runCLI(t, append([]string{"train", "--config", config, "--out", filepath.Join(tmp, "b")}, set...)...)
			if code != 0 || !strings.Contains(stderr, "using the prepared dataset "+prep) {
				t.Fatalf("train with prepare: exit %d\n%s", code, stderr)
			}
			a, b := onlyRunUnder(t, filepath.Join(tmp, "a")), onlyRunUnder(t, filepath.Join(tmp, "b"))
			if ma, mb := metricsWithoutTime(t, a), metricsWithoutTime(t, b); ma != mb {
				t.Errorf("metrics differ:\n%s\n%s", ma, mb)
			}
			for _, ck := range []string{"best.ckpt", "last.ckpt"} {
				ca, err := train.LoadCheckpoint(filepath.Join(a, "checkpoints", ck))
				if err != nil {
					t.Fatal(err)
				}
				cb, err := train.LoadCheckpoint(filepath.Join(b, "checkpoints", ck))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ca.Params, cb.Params) || !bytes.Equal(ca.Meta, cb.Meta) {
					t.Errorf("%s: weights or data description differ", ck)
				}
			}
			ra, _ := os.ReadFile(filepath.Join(a, "report.json"))
			rb, _ := os.ReadFile(filepath.Join(b, "report.json"))
			if strings.ReplaceAll(string(ra), a, "") != strings.ReplaceAll(string(rb), b, "") {
				t.Errorf("reports differ:\n%s\n%s", ra, rb)
			}
			sa, _ := os.ReadFile(filepath.Join(a, "assignment.csv"))
			sb, _ := os.ReadFile(filepath.Join(prep, "assignment.csv"))
			if len(sa) == 0 || !bytes.Equal(sa, sb) {
				t.Error("the run's assignment.csv differs from the prepared one")
			}
		})
	}
}

// TestPrepareCommand: --list, usage errors, and bad data exit 2 without
// leaving a prepared directory.
func TestPrepareCommand(t *testing.T) {
	code, out, _ := runCLI(t, "prepare", "--list")
	for _, want := range []string{"builtin:sunspots", "forecasting", "public domain", "builtin:digits", "1×8×8", "CC BY 4.0"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--list: exit %d, no %q in\n%s", code, want, out)
		}
	}
	if code, _, stderr := runCLI(t, "prepare"); code != 2 || !strings.Contains(stderr, "--config is required") {
		t.Errorf("no --config: exit %d %s", code, stderr)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,y\n1,0\n2,oops,3\n"), 0o644)
	os.WriteFile(cfg, []byte("name: bad\ndata: {source: csv:d.csv, label: y}\n"), 0o644)
	out2 := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, "prepare", "--config", cfg, "--out", out2)
	if code != 2 || !strings.Contains(stderr, "d.csv:3") || !strings.Contains(stderr, "ragged row") {
		t.Errorf("bad data: exit %d %s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("a prepared directory was left for bad data")
	}
}

// TestExampleConfigsTrain (acceptance): every example config trains as
// shipped (one epoch here) and evaluates on its test split.
func TestExampleConfigsTrain(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			tmp := t.TempDir()
			code, _, stderr := runCLI(t, "train", "--config", path, "--out", tmp, "--set", "train.epochs=1",
				"--set", "data.prepared="+filepath.Join(tmp, "none"))
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			// A GAN has no test split: it is judged by its samples.
			want := "report.json"
			if b, _ := os.ReadFile(path); strings.Contains(string(b), "task: generation") {
				want = filepath.Join("checkpoints", "last.ckpt")
			}
			if _, err := os.Stat(filepath.Join(onlyRunUnder(t, tmp), want)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFewerRowsThanABatch: six rows and a batch of 64 still train: the
// one partial batch is trained on.
func TestFewerRowsThanABatch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,y\n1,2,0\n2,1,1\n3,4,0\n4,3,1\n5,6,0\n6,5,1\n"), 0o644)
	cfg := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(cfg, []byte(`name: tiny
data: {source: csv:d.csv, label: y, split: {train: 0.5, val: 0.25, test: 0.25, stratify: false}}
model: {layers: [{type: dense, units: 2}]}
train: {epochs: 2, batch_size: 64}
`), 0o644)
	code, out, stderr := runCLI(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs"))
	if code != 0 || !strings.Contains(out, "samples 2") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
}

// TestPrepareNeverReplacesOtherThings: prepare --out a regular file or a
// folder with an unrelated manifest.json, and train with such a folder as
// data.prepared, exit 2 naming the path and leave it as it was.
func TestPrepareNeverReplacesOtherThings(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join("..", "..", "configs", "iris-mlp.yaml")
	file := filepath.Join(dir, "notes.txt")
	os.WriteFile(file, []byte("keep me"), 0o644)
	folder := filepath.Join(dir, "mine")
	os.Mkdir(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "manifest.json"), []byte(`{"name":"x"}`), 0o644)
	os.WriteFile(filepath.Join(folder, "data.bin"), []byte("keep me too"), 0o644)
	for _, args := range [][]string{
		{"prepare", "--config", config, "--out", file},
		{"prepare", "--config", config, "--out", folder},
		{"train", "--config", config, "--out", filepath.Join(dir, "runs"), "--set", "train.epochs=1", "--set", "data.prepared=" + folder},
	} {
		target := args[len(args)-1]
		target = target[strings.Index(target, "=")+1:]
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, "not a prepared dataset: "+target) {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me" {
		t.Errorf("%s was replaced: %v", file, err)
	}
	if b, err := os.ReadFile(filepath.Join(folder, "data.bin")); err != nil || string(b) != "keep me too" {
		t.Errorf("%s was wiped: %v", folder, err)
	}
}

// TestPrepareWithoutTrainSection: a regression or forecasting config with
// no train section prepares (the default loss, cross_entropy, does not fit
// the task, but that is a problem of train.loss, not of the data); train
// names the key.
func TestPrepareWithoutTrainSection(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r.csv"), []byte("a,b,y\n1,2,0.5\n2,1,1.5\n3,4,2.5\n4,3,3.5\n5,6,4.5\n6,5,5.5\n7,8,6.5\n8,7,7.5\n"), 0o644)
	for name, yaml := range map[string]string{
		"forecasting": "name: s2\ndata:\n  source: builtin:sunspots\n  task: forecasting\n",
		"regression":  "name: r\ndata: {source: csv:r.csv, label: y, task: regression, split: {train: 0.5, val: 0.25, test: 0.25}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(dir, name+".yaml")
			os.WriteFile(cfg, []byte(yaml), 0o644)
			out := filepath.Join(dir, name+"-prepared")
			code, stdout, stderr := runCLI(t, "prepare", "--config", cfg, "--out", out)
			if code != 0 || !strings.Contains(stdout, "wrote "+out) {
				t.Fatalf("prepare: exit %d\n%s%s", code, stdout, stderr)
			}
			code, _, stderr = runCLI(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs"), "--set", "data.prepared="+out)
			if code != 2 || !strings.Contains(stderr, "train.loss: loss cross_entropy does not apply to a "+name+" task") {
				t.Errorf("train: exit %d\n%s", code, stderr)
			}
		})
	}
}

// TestPrepareInterrupted: a prepare whose context is cancelled (the first
// SIGINT or SIGTERM) exits 130 or 143 and writes nothing.
func TestPrepareInterrupted(t *testing.T) {
	for sig, want := range map[os.Signal]int{os.Interrupt: 130, syscall.SIGTERM: 143} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "prepared")
			var stdout, stderr bytes.Buffer
			a := &app{stdout: &stdout, stderr: &stderr, logFormat: "text", signal: sig}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			err := runPrepare(ctx, a, &prepareOptions{config: filepath.Join("..", "..", "configs", "iris-mlp.yaml"), out: out})
			if code := exitCode(err, a); code != want || !strings.Contains(err.Error(), out+" was not written") {
				t.Errorf("exit %d (%v), want %d", code, err, want)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) > 0 {
				t.Errorf("left %v", entries)
			}
		})
	}
}

// TestPrepareLogFormatJSON: with --log-format json, prepare's notes are
// JSON log events, as train's are.
func TestPrepareLogFormatJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "prepared")
	code, stdout, stderr := runCLI(t, "--log-format", "json", "prepare", "--config", filepath.Join("..", "..", "configs", "penguins-mlp.yaml"), "--out", out)
	if code != 0 || !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines on stderr:\n%s", len(lines), stderr)
	}
	for _, l := range lines {
		var ev struct{ Event, Msg string }
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Event != "log" || !strings.HasPrefix(ev.Msg, "data: ") {
			t.Errorf("not a JSON log event of a note: %q (%v)", l, err)
		}
	}
}

// TestPrepareOutPaths: --out is cleaned ("p/", "p/x/.."), an existing
// empty directory is a target, the current directory is refused with the
// reason, and a refused or failed prepare leaves no directory it made. A
// place that cannot be written is exit 2 naming it, found before the data
// is read (the config's data is bad, but the path is what is reported).
func TestPrepareOutPaths(t *testing.T) {
	config, err := filepath.Abs(filepath.Join("..", "..", "configs", "iris-mlp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("a,y\n1,0\n"), 0o644)
	os.WriteFile(bad, []byte("name: bad\ndata: {source: csv:bad.csv, label: z}\n"), 0o644)
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o755)
	t.Chdir(work)
	entries := func(d string) []string {
		var names []string
		es, _ := os.ReadDir(d)
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	prepare := func(out, cfg string) (int, string) {
		code, stdout, stderr := runCLI(t, "prepare", "--config", cfg, "--out", out)
		return code, stdout + stderr
	}
	if code, out := prepare("p", config); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, out := range []string{"p/", "p/x/..", "p/./"} {
		if code, text := prepare(out, config); code != 0 || !strings.Contains(text, "wrote p:") {
			t.Errorf("--out %s: exit %d\n%s", out, code, text)
		}
	}
	os.Mkdir("empty", 0o755)
	if code, text := prepare("empty/", config); code != 0 || !slices.Contains(entries("empty"), "manifest.json") {
		t.Errorf("--out empty/: exit %d\n%s", code, text)
	}
	if got := entries("."); !slices.Equal(got, []string{"empty", "p"}) || !slices.Equal(entries("p"), entries("empty")) {
		t.Errorf("the working directory holds %v, p holds %v", got, entries("p"))
	}
	os.Mkdir("here", 0o755)
	t.Chdir("here")
	for _, out := range []string{".", "./", ".."} {
		if code, text := prepare(out, config); code != 2 || !strings.Contains(text, "is the current directory") && !strings.Contains(text, "holds the current directory") {
			t.Errorf("--out %s: exit %d\n%s", out, code, text)
		}
	}
	if got := entries("."); len(got) > 0 {
		t.Errorf("--out . left %v", got)
	}
	t.Chdir(work)
	os.Remove("here")
	if code, text := prepare("new/a/b", bad); code != 2 || !strings.Contains(text, `"z" does not exist`) {
		t.Errorf("bad data: exit %d\n%s", code, text)
	}
	os.WriteFile("notes.txt", []byte("x"), 0o644)
	if code, text := prepare("notes.txt/p", bad); code != 2 || !strings.Contains(text, "cannot write the prepared dataset notes.txt/p: lstat notes.txt/p: not a directory") {
		t.Errorf("a file as parent: exit %d\n%s", code, text)
	}
	if got := entries("."); !slices.Equal(got, []string{"empty", "notes.txt", "p"}) {
		t.Errorf("refused prepares left %v", got)
	}
	out, want := "ro/p", "cannot write the prepared dataset ro/p in ro: permission denied"
	switch {
	case os.Geteuid() != 0:
		os.Mkdir("ro", 0o555)
	case runtime.GOOS == "linux": // root writes anywhere but in /proc
		out, want = "/proc/dltrain-test/p", "cannot write the prepared dataset /proc/dltrain-test/p: cannot make /proc/dltrain-test"
	default:
		return
	}
	if code, text := prepare(out, bad); code != 2 || !strings.Contains(text, want) {
		t.Errorf("an unwritable parent: exit %d\n%s", code, text)
	}
}

// TestPrepareOutSymlinkToCwd: the working directory is refused as --out
// under any name: through a linked parent, as a link itself, or when the
// working directory was entered through a link. Names were compared as
// text, so real/work given as link/work was renamed away under the user.
func TestPrepareOutSymlinkToCwd(t *testing.T) {
	config, err := filepath.Abs(filepath.Join("..", "..", "configs", "iris-mlp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "real", "work")
	os.MkdirAll(work, 0o755)
	for link, to := range map[string]string{"link": filepath.Join(dir, "real"), "here": work} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Skipf("no symbolic links: %v", err)
		}
	}
	for _, c := range []struct{ cwd, out, want string }{
		{work, filepath.Join(dir, "link", "work"), "is the current directory"},
		{work, filepath.Join(dir, "here"), "is the current directory"},
		{work, filepath.Join(dir, "link"), "holds the current directory"},
		{filepath.Join(dir, "link", "work"), work, "is the current directory"},
		{filepath.Join(dir, "here"), filepath.Join(dir, "real"), "holds the current directory"},
	} {
		t.Chdir(c.cwd)
		code, stdout, stderr := runCLI(t, "prepare", "--config", config, "--out", c.out)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("in %s, --out %s: exit %d\n%s%s", c.cwd, c.out, code, stdout, stderr)
		}
		if _, err := os.Stat(filepath.Join(work)); err != nil {
			t.Fatalf("in %s, --out %s: the working directory is gone: %v", c.cwd, c.out, err)
		}
	}
	if es, _ := os.ReadDir(work); len(es) > 0 {
		t.Errorf("the working directory holds %v", es)
	}
}
