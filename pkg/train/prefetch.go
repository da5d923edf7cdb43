package train

import "github.com/dltrain/dltrain/pkg/data"

// Prefetching takes the data off the critical path of a step: while a
// mini-batch trains, a goroutine of the loop gathers the next one (its
// samples copied from the split into the graph's spare input buffers;
// then the training augmentation of pkg/augment), and the next step
// binds those buffers as the graph's inputs instead of gathering. The next
// mini-batch is known in advance: the order of an epoch is a pure function
// of the seed and the epoch (data.Order). The values gathered are the
// same either way, so results are bit-identical with and without
// prefetching (TestPrefetchIsBitIdentical). Only mini-batches of the same
// epoch are prefetched; the first of each epoch is gathered when its step
// starts.
//
// The gather overlaps the step only where a core is free for it: with
// GOMAXPROCS = 1 it runs when the step waits for it, and while the
// products' workers spin on the other cores it mostly does too (measured
// on 2 cores: no change in steps/s either way). The OpenBLAS build does
// not prefetch (Loop.NoPrefetch).

type prefetcher struct {
	jobs chan prefetchJob
	done chan struct{}
	// The gather in flight, if any: the graph whose spare buffers it
	// fills and the mini-batch it gathers.
	pending bool
	c       *compiled
	at      batchPos
}

// batchPos is a mini-batch's place in the training: epoch and index in
// the epoch's order.
type batchPos struct{ epoch, batch int }

type prefetchJob struct {
	c     *compiled
	split *data.Split
	idx   []int
}

// newPrefetcher starts the gathering goroutine; stop ends it.
func newPrefetcher() *prefetcher {
	p := &prefetcher{jobs: make(chan prefetchJob), done: make(chan struct{}, 1)}
	go p.work()
	return p
}

func (p *prefetcher) work() {
	for j := range p.jobs {
		j.c.fillSpare(j.split, j.idx)
		p.done <- struct{}{}
	}
}

// start gathers the samples idx of split, the mini-batch at, into c's
// spare buffers, after any gather in flight has finished.
func (p *prefetcher) start(c *compiled, split *data.Split, idx []int, at batchPos) {
	p.wait()
	c.makeSpare()
	p.pending, p.c, p.at = true, c, at
	p.jobs <- prefetchJob{c: c, split: split, idx: idx}
}

// wait returns when no gather is in flight.
func (p *prefetcher) wait() {
	if p.pending {
		<-p.done
		p.pending = false
	}
}

// take reports whether c's spare buffers hold the mini-batch at, waiting
// for its gather to finish; a gather of anything else is waited for and
// dropped.
func (p *prefetcher) take(c *compiled, at batchPos) bool {
	hit := p.pending && p.c == c && p.at == at
	p.wait()
	return hit
}

// stop waits for the gather in flight and ends the goroutine.
func (p *prefetcher) stop() {
	p.wait()
	close(p.jobs)
}
