package data

import (
	"sort"
)

// task is what a data task means for the targets.
type task struct {
	classes bool   // targets are class indices, scored by accuracy
	about   string // for messages and documentation
}

// tasks is every data task, by name (data.task).
var tasks = map[string]task{
	"classification": {classes: true, about: "one class per sample"},
	"regression":     {about: "one or more real-valued targets per sample"},
	"forecasting":    {about: "real-valued targets some steps after a window of a time series"},
	"language_model": {classes: true, about: "the token that follows a sequence of tokens"},
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
