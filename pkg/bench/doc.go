// Package bench measures dltrain's training throughput on the standard
// workloads of docs/PERFORMANCE.md (the same models, batch sizes and
// optimizer as bench/pytorch_ref.py, so that a ratio means something).
//
// A workload is an experiment file (workloads/*.yaml) that goes through the
// real training path: config.Parse, models.Build, train.Session and the
// training loop of `dltrain train` (run.NewLoop, train.Loop.Run: batches
// prefetched, finiteness guards, regularization, optimizer, schedule), on
// a training split of random inputs of the configured shape. Run warms
// up, times several windows of loop steps and reports the median steps
// per second with the matrix-product work of a step as executed (StepWork)
// and the GFLOP/s it gives, allocations per step, peak resident memory
// and its growth. Workloads whose layers dltrain does not have yet report
// why instead of a number.
package bench
