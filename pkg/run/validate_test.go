package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// TestTrainSectionProblems: every bad training option is a config error
// naming its key, reported together with the others.
func TestTrainSectionProblems(t *testing.T) {
	base := "data: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\n"
	cases := []struct {
		train, key, msg string
	}{
		{"{loss: mse}", "train.loss", "does not apply to a classification task"},
		{"{optimizer: {kind: adamw}, regularization: {weight_decay: 0.1}}", "train.regularization.weight_decay", "train.optimizer.weight_decay"},
		{"{early_stopping: {patience: 3, metric: val_mse}}", "train.early_stopping.metric", "unknown metric"},
		{"{early_stopping: {metric: val_loss}}", "train.early_stopping.patience", "off until patience"},
		{"{schedule: {kind: reduce_on_plateau, metric: val_r2}}", "train.schedule.metric", "unknown metric"},
		{"{regularization: {exclude: [biases]}}", "train.regularization.exclude[0]", `neither a role`},
		{"{regularization: {l1: -1}}", "train.regularization.l1", "must be >= 0"},
		{"{accumulate_steps: 0}", "train.accumulate_steps", "must be >= 1"},
		{"{checkpoint: {keep: 0}}", "train.checkpoint.keep", "must be >= 1"},
		{"{checkpoint: {every_steps: -1}}", "train.checkpoint.every_steps", "must be >= 0"},
		{"{schedule: {kind: cosine, warmup_epochs: 2, perid: 3}}", "train.schedule.perid", `did you mean "period"`},
		{"{optimizer: {kind: adagrad}, schedule: {kind: one_cycle}}", "train.schedule.cycle_momentum", "adagrad has none"},
		{"{loss: {kind: cross_entropy, weights: [0, 0, 0]}}", "train.loss.weights", "every class weight is 0"},
	}
	for _, c := range cases {
		t.Run(c.train, func(t *testing.T) {
			_, err := config.Parse("x.yaml", []byte(base+"train: "+c.train+"\n"), nil, nil, Validators...)
			var ps config.Problems
			if !errors.As(err, &ps) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v", err)
			}
			for _, p := range ps {
				if p.Key == c.key && strings.Contains(p.Msg, c.msg) {
					return
				}
			}
			t.Errorf("problems %v; want one at %s containing %q", ps, c.key, c.msg)
		})
	}
	// Early stopping needs a validation split.
	_, err := config.Parse("x.yaml", []byte(base+"train: {early_stopping: {patience: 2}}\n"), []string{"data.split={train: 0.8, val: 0, test: 0.2}"}, nil, Validators...)
	if err == nil || !strings.Contains(err.Error(), "no validation split") {
		t.Errorf("early stopping without a val split: %v", err)
	}
	// With k folds, one fold is the validation split.
	if _, err := config.Parse("x.yaml", []byte(base+"train: {early_stopping: {patience: 2}}\n"), []string{"data.split={train: 0.8, val: 0, test: 0.2, folds: 5, fold: 1}"}, nil, Validators...); err != nil {
		t.Errorf("early stopping with a validation fold: %v", err)
	}
	exp, err := config.Parse("x.yaml", []byte(base), nil, nil, Validators...)
	if err != nil {
		t.Fatal(err)
	}
	if d := exp.Train; d.AccumulateSteps != 1 || d.Schedule.Kind != "constant" || len(d.Regularization.Exclude) != 2 || d.Checkpoint.Keep != 1 || !d.TensorBoard {
		t.Errorf("defaults: %+v", d)
	}
}

func TestExcludeCanBeEmptied(t *testing.T) {
	base := "data: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\n"
	for _, c := range []struct {
		text string
		sets []string
	}{
		{base + "train: {regularization: {exclude: []}}\n", nil},
		{base, []string{"train.regularization.exclude=[]"}},
		{base, []string{"train.regularization.exclude=[dense1/*]"}},
	} {
		exp, err := config.Parse("x.yaml", []byte(c.text), c.sets, nil, Validators...)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if len(c.sets) > 0 && strings.Contains(c.sets[0], "dense1") {
			want = 1
		}
		if got := exp.Train.Regularization.Exclude; len(got) != want {
			t.Errorf("%q %v: exclude %v", c.text, c.sets, got)
		}
	}
}

// TestBlockSetByFlagIsNamed: a problem in a block that --set switched
// names the flag, not the file's enclosing section.
func TestBlockSetByFlagIsNamed(t *testing.T) {
	base := "data: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\ntrain: {epochs: 3}\n"
	_, err := config.Parse("x.yaml", []byte(base), []string{"train.optimizer=adagrad", "train.schedule=one_cycle"}, nil, Validators...)
	if err == nil || !strings.Contains(err.Error(), "--set train.schedule=one_cycle: train.schedule.cycle_momentum") {
		t.Errorf("error %v", err)
	}
}

// TestValidatorsAreExplicit: what a config is checked against is what the
// caller passes, not what the binary links. The schema alone lets a bad
// model kind, layer option, augmentation, data option and optimizer
// through; Validators reports each, with its key.
func TestValidatorsAreExplicit(t *testing.T) {
	text := `name: t
data: {source: builtin:iris, task: summarize}
model: {kind: resnet, layers: [{type: dense, unit: 3}]}
augment: [{kind: crop}]
train: {optimizer: {kind: adamm}}
`
	if _, err := config.Parse("x.yaml", []byte(text), nil, nil); err != nil {
		t.Fatalf("the schema alone: %v, want no problem (the registries are not asked)", err)
	}
	_, err := config.Parse("x.yaml", []byte(text), nil, nil, Validators...)
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v, want problems", err)
	}
	keys := map[string]bool{}
	for _, p := range ps {
		keys[p.Key] = true
	}
	for _, k := range []string{"model.kind", "model.layers[0].unit", "augment[0].kind", "data.task", "train.optimizer.kind"} {
		if !keys[k] {
			t.Errorf("no problem at %s in %v", k, ps)
		}
	}
}
