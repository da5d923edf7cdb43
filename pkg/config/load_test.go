package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parse(t *testing.T, text string, sets []string, env []string) (*Experiment, error) {
	t.Helper()
	return Parse("exp.yaml", []byte(text), sets, env)
}

const minimal = `
name: t
data: {source: builtin:iris}
model:
  layers:
    - {type: dense, units: 3}
`

func TestDefaultsFillWhatTheFileOmits(t *testing.T) {
	e, err := parse(t, minimal, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if e.Train.Epochs != d.Train.Epochs || e.Train.BatchSize != d.Train.BatchSize || e.Train.Optimizer.Kind != "adam" {
		t.Errorf("defaults not applied: %+v", e.Train)
	}
	if e.Data.Split != d.Data.Split {
		t.Errorf("split = %+v, want %+v", e.Data.Split, d.Data.Split)
	}
}

func TestUnknownKeyNamesLineAndClosestKey(t *testing.T) {
	_, err := parse(t, minimal+"trian:\n  epochs: 3\n", nil, nil)
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want a *Problem", err)
	}
	if p.Key != "trian" || p.Pos.Line != 7 || !strings.Contains(p.Msg, `did you mean "train"`) {
		t.Errorf("problem = %+v", p)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("a config problem does not wrap ErrInvalid")
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	text := `
name: bad
data: {source: builtin:iris}
model:
  kind: mlp
  layers: [{type: dense, units: 3}]
trian:
  optimizer: {kind: adam, lr: -1}
train:
  epochs: 0
  batch_size: many
`
	_, err := parse(t, text, nil, nil)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %T %v, want Problems", err, err)
	}
	msg := err.Error()
	for _, want := range []string{
		`exp.yaml:7:1: trian: unknown key (did you mean "train"?)`,
		"exp.yaml:10:3: train.epochs: must be >= 1, got 0",
		`exp.yaml:11:3: train.batch_size: expected an integer, got the string "many"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if len(ps) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(ps), msg)
	}
}

func TestTypeErrorsNameTheKeyAndWhatWasExpected(t *testing.T) {
	cases := map[string]string{
		"seed: -3\n":                  "seed: expected a non-negative integer",
		"data: {split: {train: x}}\n": `data.split.train: expected a number, got the string "x"`,
		"data: {shape: 8}\n":          "data.shape: expected a list, got 8",
		"model: {dtype: float16, layers: [{type: dense, units: 1}]}\n": `model.dtype: must be one of float32, float64, got "float16"`,
		"train: {epochs: 2.5}\n": "train.epochs: expected an integer, got 2.5",
		"data: [1, 2]\n":         "data: expected a mapping of keys, got a list",
	}
	for text, want := range cases {
		t.Run(want, func(t *testing.T) {
			head := "name: t\n"
			if !strings.HasPrefix(text, "model:") {
				head += "model: {layers: [{type: dense, units: 1}]}\n"
			}
			if !strings.HasPrefix(text, "data:") {
				head += "data: {source: builtin:iris}\n"
			}
			_, err := parse(t, head+strings.Replace(text, "data: {", "data: {source: builtin:iris, ", 1), nil, nil)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to contain %q", err, want)
			}
		})
	}
}

func TestPrecedenceFlagOverEnvOverFile(t *testing.T) {
	text := minimal + "train: {epochs: 5, batch_size: 8}\n"
	env := []string{"DLTRAIN_TRAIN_EPOCHS=7", "DLTRAIN_TRAIN_BATCH_SIZE=16", "HOME=/x"}
	e, err := parse(t, text, []string{"train.epochs=9"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if e.Train.Epochs != 9 {
		t.Errorf("epochs = %d, want 9 from --set", e.Train.Epochs)
	}
	if e.Train.BatchSize != 16 {
		t.Errorf("batch_size = %d, want 16 from the environment", e.Train.BatchSize)
	}
	if got := e.Pos("train.batch_size").Origin; got != "env DLTRAIN_TRAIN_BATCH_SIZE" {
		t.Errorf("origin of batch_size = %q", got)
	}
}

func TestSetOverridesBlockOptionsAndKinds(t *testing.T) {
	text := minimal + "train: {optimizer: adam}\n"
	e, err := parse(t, text, []string{"train.optimizer.lr=0.5", "data.shape=[2, 2]"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Train.Optimizer.Kind != "adam" || e.Train.Optimizer.Opts["lr"] != 0.5 {
		t.Errorf("optimizer = %+v", e.Train.Optimizer)
	}
	if len(e.Data.Shape) != 2 || e.Data.Shape[0] != 2 {
		t.Errorf("shape = %v", e.Data.Shape)
	}
	e, err = parse(t, text, []string{"train.optimizer=sgd"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Train.Optimizer.Kind != "sgd" {
		t.Errorf("--set train.optimizer=sgd gave kind %q", e.Train.Optimizer.Kind)
	}
}

func TestUnknownEnvironmentVariableIsAProblem(t *testing.T) {
	_, err := parse(t, minimal, nil, []string{"DLTRAIN_TRAIN_EPOCS=3"})
	if err == nil || !strings.Contains(err.Error(), `DLTRAIN_TRAIN_EPOCS matches no config key (did you mean "DLTRAIN_TRAIN_EPOCHS"?)`) {
		t.Errorf("err = %v", err)
	}
}

func TestBadSetFlags(t *testing.T) {
	for _, s := range []string{"noequals", "model.layers[0].units=3", "train.epochs=[1"} {
		if _, err := parse(t, minimal, []string{s}, nil); err == nil {
			t.Errorf("--set %s accepted", s)
		}
	}
}

func TestYAMLSyntaxErrorNamesTheFile(t *testing.T) {
	_, err := parse(t, "name: [unclosed\n", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "exp.yaml: not valid YAML") {
		t.Errorf("err = %v", err)
	}
	_, err = parse(t, "name: a\nname: b\n", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exp.yaml:2:1: name: set twice (first at line 1)") {
		t.Errorf("duplicate key: err = %v", err)
	}
}

func TestResolvedConfigRoundTrips(t *testing.T) {
	text := minimal + `
train:
  optimizer: {kind: sgd, lr: 0.1, momentum: 0.9}
  regularization: {l2: 0.001}
`
	e, err := parse(t, text, []string{"seed=42"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Parse("resolved.yaml", b, nil, nil)
	if err != nil {
		t.Fatalf("resolved config does not load: %v\n%s", err, b)
	}
	b2, _ := e2.YAML()
	if string(b) != string(b2) {
		t.Errorf("round trip changed the config:\n%s\n---\n%s", b, b2)
	}
	if e2.Seed != 42 || e2.Train.Optimizer.Opts["momentum"] != 0.9 {
		t.Errorf("lost values: seed %d, optimizer %+v", e2.Seed, e2.Train.Optimizer)
	}
}

func TestRelativeDataPathsFollowTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "exp.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	text := "name: t\ndata: {source: 'csv:../data.csv', label: y}\nmodel: {layers: [{type: dense, units: 1}]}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "csv:" + filepath.Join(dir, "data.csv"); e.Data.Source != want {
		t.Errorf("source = %q, want %q", e.Data.Source, want)
	}
}

func TestOptionsReportUnknownAndBadOptions(t *testing.T) {
	b := Block{Kind: "adam", Path: "train.optimizer", Opts: map[string]any{"lr": "fast", "beta": 0.9, "eps": 1e-8}}
	o := b.Read()
	o.Float("lr", 0.001)
	o.Floats("betas", nil)
	o.Float("eps", 1e-8)
	ps := o.Done()
	if len(ps) != 2 {
		t.Fatalf("problems = %v", ps)
	}
	if !strings.Contains(ps.Error(), `train.optimizer.lr: expected a number, got the string "fast"`) ||
		!strings.Contains(ps.Error(), `train.optimizer.beta: unknown option for adam (did you mean "betas"?)`) {
		t.Errorf("problems = %v", ps)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"train", "trian", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"lr", "lr", 0}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("name: x\ntrain: {optimizer: {kind: sgd, lr: 1}}\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		e, err := Parse("fuzz.yaml", text, nil, nil)
		if err == nil && e == nil {
			t.Fatal("no experiment and no error")
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error does not wrap ErrInvalid: %v", err)
		}
	})
}

func TestSetReplacesTheFilePositionsOfWhatItOverrides(t *testing.T) {
	e, err := parse(t, minimal, []string{"model.layers=[{type: dense, units: 7}]"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Pos("model.layers[0].units"); got.Line != 0 || !strings.HasPrefix(got.Origin, "--set model.layers=") {
		t.Errorf("position of a --set layer option = %+v, want the --set flag", got)
	}
}

// TestMessagesNameTheirSource: a required key the file lacks names the
// file (not the word "file"); an indexed --set path names the flag.
func TestMessagesNameTheirSource(t *testing.T) {
	_, err := Parse("exp.yaml", []byte("name: x\n"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exp.yaml: data.source: is required") {
		t.Errorf("missing data.source: %v", err)
	}
	_, err = Parse("exp.yaml", []byte("data: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\n"), []string{"model.layers.0.units=5"}, nil)
	if err == nil || !strings.Contains(err.Error(), "--set model.layers.0.units=5") || !strings.Contains(err.Error(), "set the whole list") {
		t.Errorf("indexed --set: %v", err)
	}
}
