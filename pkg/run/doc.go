// Package run carries out what the commands ask for, end to end: it loads
// and validates an experiment, prepares its data, builds the model, runs
// the training loop with its hooks in a run directory, resumes interrupted
// runs exactly, evaluates saved checkpoints and plots a run's curves. The
// commands in cmd/dltrain only parse flags and call it.
//
// A run directory holds:
//
//	config.yaml       the resolved experiment, exactly what ran
//	data.json         the data's shapes, classes, fitted scaling, checksum and cleaning notes
//	metrics.csv       one row per epoch (metrics.jsonl: the same, as JSON lines)
//	events.out.tfevents.*  TensorBoard scalars, one file per training session
//	checkpoints/      last.ckpt, best.ckpt and the newest epoch-E-step-S.ckpt, each whole or absent
//	plots/            loss, metric and learning-rate curves written by Plot
//	report.json       the final evaluation: the best checkpoint on the test split (eval rewrites it only for that)
//	eval/             every evaluation, as CHECKPOINT-SPLIT.json
package run
