// Package bench measures dltrain's training throughput on the standard
// workloads of docs/PERFORMANCE.md (the same models, batch sizes and
// optimizer as bench/pytorch_ref.py, so that a ratio means something).
//
// A workload is an experiment file (workloads/*.yaml) that goes through the
// real training path: config.Parse, models.Build, train.Session.Forward and
// an optimizer Step, on random inputs of the configured shape. Run warms
// up, times several windows and reports the median steps per second with
// the achieved GFLOP/s, allocations per step and peak resident memory.
// Workloads whose layers dltrain does not have yet report why instead of
// a number.
package bench
