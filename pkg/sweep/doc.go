// Package sweep searches an experiment's hyperparameters: `dltrain
// sweep`. A sweep file names a base experiment, a validation metric, a
// method (grid, random or tpe: Samplers), a space of parameters (any key
// an experiment takes, layer options by layer name) and an early-stopping
// rule (none, asha, hyperband or median: Stoppers). Trials are run.Trial calls: one
// experiment with overrides, judged on validation data only.
//
// A sweep directory holds:
//
//	journal.jsonl      every claim and result, appended and fsynced under journal.lock
//	trials/NNNN/       each trial's run directory (NNNN.lock: held while a worker runs it; NNNN.log: its training log)
//	trials.csv         the table: values, metric, best epoch, epochs, status
//	best.yaml          the winning experiment, ready for dltrain train
//	plots/             the metric against each parameter; running-best.png
//
// The journal is the sweep's only state, so a sweep stopped at any moment
// (kill -9 included) continues where it was when run again, and several
// workers (processes, or machines sharing the directory) can work on one
// sweep: each claims the next trial under the lock, and a trial whose
// worker died is taken over (its lock is released with its process) and
// resumed from its checkpoint. ASHA and Hyperband promote a trial by resuming its
// checkpoint to the next rung's epochs, not by training it again.
package sweep
