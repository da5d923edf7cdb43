package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/train"
)

// dltrain runs the command line in-process and returns its exit code,
// stdout and stderr.
func dltrain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(args, &out, &errb)
	return code, out.String(), errb.String()
}

// onlyRun returns the single run directory under out/name.
func onlyRun(t *testing.T, out, name string) string {
	t.Helper()
	runs, err := filepath.Glob(filepath.Join(out, name, "*"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run under %s/%s, got %v (%v)", out, name, runs, err)
	}
	return runs[0]
}

func readReport(t *testing.T, path string) eval.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r eval.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTrainIrisThenEvalReproducesTheTestAccuracy(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := dltrain(t, "train", "--config", "../../configs/iris-mlp.yaml", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	dir := onlyRun(t, out, "iris-mlp")
	for _, f := range []string{"config.yaml", "data.json", "metrics.csv", "metrics.jsonl", "checkpoints/best.ckpt", "checkpoints/last.ckpt", "report.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory lacks %s", f)
		}
	}
	trained := readReport(t, filepath.Join(dir, "report.json"))
	if trained.Classification == nil || trained.Classification.N != 30 {
		t.Fatalf("report = %+v", trained)
	}
	if acc := trained.Classification.Accuracy; acc < 0.9 {
		t.Errorf("iris test accuracy %.3f < 0.9", acc)
	}
	if !strings.Contains(stdout, "accuracy") || !strings.Contains(stdout, "confusion matrix") {
		t.Errorf("stdout lacks the report:\n%s", stdout)
	}

	code, stdout, stderr = dltrain(t, "eval", "--run", dir, "--json")
	if code != 0 {
		t.Fatalf("eval exit %d\n%s", code, stderr)
	}
	var again eval.Report
	if err := json.Unmarshal([]byte(stdout), &again); err != nil {
		t.Fatalf("eval --json printed %q: %v", stdout, err)
	}
	if again.Classification.Accuracy != trained.Classification.Accuracy || again.Loss != trained.Loss {
		t.Errorf("eval gives accuracy %v loss %v; training reported %v, %v",
			again.Classification.Accuracy, again.Loss, trained.Classification.Accuracy, trained.Loss)
	}
}

func TestDemoReachesItsStatedAccuracy(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := dltrain(t, "train", "--config", "../../configs/digits-mlp.yaml", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r := readReport(t, filepath.Join(onlyRun(t, out, "digits-mlp"), "report.json"))
	if acc := r.Classification.Accuracy; acc < 0.95 {
		t.Errorf("digits test accuracy %.4f < 0.95", acc)
	}
}

func TestSameSeedSameMetricsAndWeights(t *testing.T) {
	var metrics [2]string
	var params [2][]train.TensorRecord
	for i := range 2 {
		out := t.TempDir()
		code, _, stderr := dltrain(t, "train", "--config", "../../configs/digits-mlp.yaml", "--out", out, "--set", "train.epochs=4")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		dir := onlyRun(t, out, "digits-mlp")
		b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
		if err != nil {
			t.Fatal(err)
		}
		metrics[i] = withoutLastColumn(string(b)) // elapsed_s is wall time
		ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoints", "last.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		params[i] = ck.Params
	}
	if metrics[0] != metrics[1] {
		t.Errorf("metrics differ:\n%s\n---\n%s", metrics[0], metrics[1])
	}
	for j := range params[0] {
		a, b := params[0][j], params[1][j]
		for k := range a.F32 {
			if a.F32[k] != b.F32[k] {
				t.Fatalf("%s[%d] differs: %v vs %v", a.Name, k, a.F32[k], b.F32[k])
			}
		}
	}
}

func withoutLastColumn(csv string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n") {
		b.WriteString(line[:strings.LastIndex(line, ",")] + "\n")
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadConfigExits2NamingEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "bad.yaml", `name: bad
data: {source: builtin:iris}
model:
  kind: resnet
  layers: [{type: dense, units: 3}]
trian:
  epochs: 3
  optimizer: {kind: adam, lr: -1}
`)
	out := filepath.Join(dir, "runs")
	code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	for _, want := range []string{
		`bad.yaml:4:3: model.kind: unknown model kind "resnet"`,
		`bad.yaml:6:1: trian: unknown key (did you mean "train"?)`,
		`bad.yaml:8:27: trian.optimizer.lr: must be > 0, got -1`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a bad config still created a run directory")
	}
}

func TestBadCSVExits2NamingFileLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	csvPath, _ := filepath.Abs("../../testdata/csv/non-numeric.csv")
	for _, c := range []struct{ label, want string }{
		{"y", csvPath + `:3:3: column "b": expected a number, got "x"`},
		{"target", `label (target) column "target" does not exist; the columns are: a, b, y`},
	} {
		cfg := writeFile(t, dir, "csv.yaml", `name: csv
data: {source: "csv:`+csvPath+`", label: `+c.label+`}
model: {layers: [{type: dense, units: 2}]}
`)
		code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs"))
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"trian"},
		{"train"},
		{"train", "--config"},
		{"train", "--bogus"},
		{"eval"},
		{"eval", "--run", "/nonexistent"},
		{"train", "--config", "/nonexistent.yaml"},
		{"--log-format", "xml", "version"},
		{"completion", "foo"},
		{"train", "--config", "../../configs/iris-mlp.yaml", "--out", "/dev/null/x"},
	} {
		if code, _, stderr := dltrain(t, args...); code != 2 {
			t.Errorf("dltrain %v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	if code, out, _ := dltrain(t, "version"); code != 0 || !strings.Contains(out, "gorgonia v0.9.18") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestEvalRefusesChangedData(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("x1,x2,y\n")
	for i := range 60 {
		csv.WriteString(fmt.Sprintf("%d,%d,%d", i%7, i%5, i%2) + "\n")
	}
	writeFile(t, dir, "d.csv", csv.String())
	cfg := writeFile(t, dir, "c.yaml", `name: c
data: {source: "csv:d.csv", label: y}
model: {layers: [{type: dense, units: 2}]}
train: {epochs: 2}
`)
	out := filepath.Join(dir, "runs")
	if code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	writeFile(t, dir, "d.csv", csv.String()+"1,1,1\n")
	code, _, stderr := dltrain(t, "eval", "--run", onlyRun(t, out, "c"))
	if code != 2 || !strings.Contains(stderr, "changed since training") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestPredictCommand: predict writes CSV to stdout, JSON lines with
// --json, a file with --output; a missing flag or column exits 2.
func TestPredictCommand(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := dltrain(t, "train", "--config", "../../configs/iris-mlp.yaml", "--out", out, "--set", "train.epochs=5"); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	dir := onlyRun(t, out, "iris-mlp")
	in := writeFile(t, t.TempDir(), "new.csv", "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n2.3,5.2,3.0,6.7\n")
	code, stdout, stderr := dltrain(t, "predict", "--run", dir, "--input", in)
	if code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || lines[0] != "input,predicted,p_setosa,p_versicolor,p_virginica" || !strings.HasPrefix(lines[1], "line 2,") {
		t.Errorf("CSV output:\n%s", stdout)
	}
	code, stdout, _ = dltrain(t, "predict", "--run", dir, "--input", in, "--json")
	var p struct {
		Input, Predicted string
		Probabilities    map[string]float64
	}
	if code != 0 || json.Unmarshal([]byte(strings.Split(stdout, "\n")[0]), &p) != nil || p.Input != "line 2" || len(p.Probabilities) != 3 {
		t.Errorf("JSON output (exit %d):\n%s", code, stdout)
	}
	file := filepath.Join(t.TempDir(), "preds.csv")
	if code, stdout, stderr = dltrain(t, "predict", "--run", dir, "--input", in, "--output", file); code != 0 || stdout != "" || !strings.Contains(stderr, "wrote 2 predictions") {
		t.Errorf("--output: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, err := os.ReadFile(file); err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("--output file: %v\n%s", err, b)
	}
	if code, _, stderr = dltrain(t, "predict", "--run", dir); code != 2 || !strings.Contains(stderr, "--input") {
		t.Errorf("without --input: exit %d, %s", code, stderr)
	}
	bad := writeFile(t, t.TempDir(), "bad.csv", "sepal_length,sepal_width\n5.1,3.5\n")
	if code, _, stderr = dltrain(t, "predict", "--run", dir, "--input", bad); code != 2 || !strings.Contains(stderr, bad+":1") {
		t.Errorf("missing column: exit %d, %s", code, stderr)
	}
}

// TestJSONLogFormatCoversNotes: with --log-format json every stderr line
// of gradcheck is a JSON object.
func TestJSONLogFormatCoversNotes(t *testing.T) {
	code, _, stderr := dltrain(t, "--log-format", "json", "gradcheck", "--config", "../../configs/iris-mlp.yaml")
	if code != 0 || stderr == "" {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev["event"] == nil {
			t.Errorf("not a JSON event: %q", line)
		}
	}
}
