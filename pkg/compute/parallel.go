package compute

// Job is work over a range of independent items: Run(lo, hi) does items
// lo to hi−1. Ops keep their jobs in long-lived structs and pass pointers
// to them, so that handing one to Parallel allocates nothing.
type Job interface{ Run(lo, hi int) }

// Parallel runs job over n items cut into contiguous parts of at least
// grain items, at most one per thread (Threads()): on the product
// workers when they are spinning, and on the caller. Otherwise, or for
// fewer than 2·grain items, the caller runs them all; in the OpenBLAS
// build too, whose own threads compute the products and spin between them
// (dltrain's workers spinning as well would fight them for the cores).
// The items being
// independent, the results do not depend on the cut. Between the products
// of a step, this keeps the other cores' work (unrolling patches, pooling,
// ...) off the caller's critical path and the workers spinning for the
// next product.
func Parallel(n, grain int, job Job) {
	parts := min(Threads(), n/max(grain, 1), maxParts)
	if _, ours := impl.(pureGo); parts < 2 || !ours {
		job.Run(0, n)
		return
	}
	parts, ok := claimWorkers(parts)
	if !ok {
		job.Run(0, n)
		return
	}
	defer workersBusy.Unlock()
	bt := gemmBatches.Get().(*gemmBatch)
	defer gemmBatches.Put(bt)
	bt.left.Store(int32(parts - 1))
	for q := range parts {
		lo, hi := q*n/parts, (q+1)*n/parts
		if q == parts-1 {
			job.Run(lo, hi)
			break
		}
		bt.tasks[q] = gemmTask{job: job, lo: lo, hi: hi, left: &bt.left}
		workers[q].give(&bt.tasks[q])
	}
	waitParts(&bt.left)
	for q := range parts - 1 {
		bt.tasks[q].job = nil // do not keep the op alive through the pool
	}
}
