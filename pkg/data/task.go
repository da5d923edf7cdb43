package data

import (
	"sort"

	"github.com/dltrain/dltrain/pkg/config"
)

// task is what a data task means for the targets.
type task struct {
	classes bool   // targets are class indices, scored by accuracy
	self    bool   // the target is the sample's own (clean, preprocessed) input
	about   string // for messages and documentation
}

// tasks is every data task, by name (data.task).
var tasks = map[string]task{
	"classification": {classes: true, about: "one class per sample"},
	"regression":     {about: "one or more real-valued targets per sample"},
	"forecasting":    {about: "real-valued targets some steps after a window of a time series"},
	"language_model": {classes: true, about: "the token that follows a sequence of tokens"},
	"reconstruction": {self: true, about: "the sample itself: the target is the clean input after preprocessing"},
	"generation":     {self: true, about: "new samples like the data (a GAN): no target; the samples are the model's input"},
	Seq2SeqTask:      {about: "a target token sequence for a source token sequence (seq2seq.go)"},
}

// Tasks lists the known data tasks.
func Tasks() []string {
	out := make([]string, 0, len(tasks))
	for k := range tasks {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ClassTask reports whether a task's targets are class indices (one logit
// per class, cross-entropy, accuracy and F1) rather than real values.
func ClassTask(name string) bool { return tasks[name].classes }

// SelfTask reports whether a task's target is the sample's own input after
// preprocessing (reconstruction), so that the data has no label and the
// model's output has the input's shape.
func SelfTask(name string) bool { return tasks[name].self }

// KeepsClasses reports whether an experiment's samples keep their class
// although its task has no target: a conditional GAN (data.task:
// generation, model.conditional: true) is told which class to draw.
// Each sample's target is then its class index, as in classification,
// and Meta.Classes names the classes.
func KeepsClasses(e *config.Experiment) bool {
	return e.Data.Task == generationTask && e.Model.Conditional
}

// generationTask is the task of a GAN.
const generationTask = "generation"

// selfTarget reports whether an experiment's target is the sample's own
// input: a reconstruction, or an unconditional GAN.
func selfTarget(e *config.Experiment) bool { return SelfTask(e.Data.Task) && !KeepsClasses(e) }

// classTargets reports whether an experiment's targets are class indices:
// a class task, or a conditional GAN's labels.
func classTargets(e *config.Experiment) bool { return ClassTask(e.Data.Task) || KeepsClasses(e) }

// SelfTarget reports whether the target of the data m describes is each
// sample's own input (reconstruction, unconditional generation), so that
// Y is X; a conditional GAN's data holds class indices instead.
func (m Meta) SelfTarget() bool { return SelfTask(m.Task) && !m.Conditional }
