package compute

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// pureGo is the BLAS of the default build: gonum's, with single-precision
// matrix products on a packed, register-blocked kernel in Go assembly
// where the CPU has AVX-512, or AVX2 and FMA (gonum's own Sgemm reached
// about 16 GFLOP/s per core here, and allocates on every product).
type pureGo struct{ gonum.Implementation }

// Sgemm computes c = alpha·op(a)·op(b) + beta·c (row-major).
func (p pureGo) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !(useAVX512 || useFMA) || m == 0 || n == 0 {
		p.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	g := gemmArgs{tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, false}
	g.dot = useDot(g.tA, g.tB, m, n, k)
	if parts := Threads(); parts > 1 && m*n*k >= parallelMin {
		g.parallel(min(parts, maxParts))
		return
	}
	g.run()
}

// Blocking of sgemm: a micro-tile of C is mr×nr; the k axis is cut in
// blocks of kc so that a packed panel of B (kc×nr) stays in L1, and the n
// axis in blocks of nc so that the packed block of B (kc×nc) stays in L2.
const (
	mr = 8
	nr = 32
	kc = 256
	nc = 1024
)

// gemmArgs are the operands of one product.
type gemmArgs struct {
	tA, tB  bool
	m, n, k int
	alpha   float32
	a       []float32
	lda     int
	b       []float32
	ldb     int
	beta    float32
	c       []float32
	ldc     int
	dot     bool // computed by sdot (decided once for the whole product)
}

func (g *gemmArgs) run() {
	if g.dot {
		sdot(g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
		return
	}
	sgemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
}

// Products of at least parallelMin multiply-adds (about a microsecond on
// one core) are split over up to Threads() cores, by blocks of whole
// tiles, so that every element of C is computed by the same instructions
// whatever the thread count: results do not depend on it. With spinning
// workers (gemmWorker) the mlp's products ran 1.9× faster on 2 cores;
// with workers that slept between products they had run slower than on
// one.
var parallelMin = 1 << 18 // a variable so that tests can split small products

const maxParts = 16

// gemmWorker is a goroutine that computes parts of parallel products.
// After a part it spins for spinFor before sleeping, as OpenBLAS's threads
// do: waking a sleeping goroutine took tens of microseconds here, as long
// as a whole product of the mlp, while consecutive products of a training
// step are microseconds apart.
type gemmWorker struct {
	slot     atomic.Pointer[gemmTask]
	sleeping atomic.Bool
	wake     chan struct{}
}

const spinFor = 200 * time.Microsecond

var (
	workers     []*gemmWorker // runtime.NumCPU()−1 of them: the caller computes a part too
	startWorker sync.Once
	// workersBusy is held by the product using the workers; a product
	// computed meanwhile on another goroutine runs on its own core.
	workersBusy sync.Mutex
)

// gemmTask is a part of a product, or of a Job (Parallel) when job is set.
type gemmTask struct {
	args   gemmArgs
	job    Job
	lo, hi int
	left   *atomic.Int32 // parts not done yet
}

func (w *gemmWorker) loop() {
	for {
		t := w.take()
		if t.job != nil {
			t.job.Run(t.lo, t.hi)
		} else {
			t.args.run()
		}
		t.left.Add(-1)
	}
}

// take returns the next task, spinning for spinFor, then sleeping until
// woken, then spinning again.
func (w *gemmWorker) take() *gemmTask {
	for {
		deadline := time.Now().Add(spinFor)
		for i := 1; ; i++ {
			// Read before swapping: an atomic swap per turn would keep the
			// slot's cache line bouncing and the core's pipeline busy.
			if w.slot.Load() != nil {
				if t := w.slot.Swap(nil); t != nil {
					return t
				}
			}
			spinPause()
			if i%64 == 0 && time.Now().After(deadline) {
				break
			}
		}
		w.sleeping.Store(true)
		if t := w.slot.Swap(nil); t != nil { // given just before it saw sleeping
			w.sleeping.Store(false)
			return t
		}
		<-w.wake
		w.sleeping.Store(false)
	}
}

// give hands t to the worker, waking it if it has gone to sleep since
// awake said it spun. Go's atomics are sequentially consistent: either
// the worker's last look at the slot sees t, or give sees it sleeping.
func (w *gemmWorker) give(t *gemmTask) {
	w.slot.Store(t)
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// awake reports whether the worker spins, ready for a task; a sleeping
// one is woken to spin and reports false. A product is split only over
// spinning workers: a goroutine woken through a channel waits in the
// waker's run queue, and the measured steps ran several times slower.
func (w *gemmWorker) awake() bool {
	if !w.sleeping.Load() {
		return true
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return false
}

// testHookBeforeGive, when set by a test, runs between the check that
// the workers spin and the hand-off, to let them fall asleep there.
var testHookBeforeGive func()

// gemmBatch is the bookkeeping of one parallel product, pooled so that a
// product allocates nothing.
type gemmBatch struct {
	left  atomic.Int32
	tasks [maxParts]gemmTask
}

var gemmBatches = sync.Pool{New: func() any { return new(gemmBatch) }}

// parallel splits the product into parts along n (columns of C and B) or,
// when n is too narrow, along m (rows of C and A), each part a multiple of
// the tile (of the dot kernels' 4×4 blocks for sdot), runs parts−1 of them
// on the workers and one itself.
func (g *gemmArgs) parallel(parts int) {
	tm, tn := mr, nr
	if g.dot {
		tm, tn = 4, 4
	}
	byCols := g.n/tn >= parts
	tiles := (g.n + tn - 1) / tn
	if !byCols {
		tiles = (g.m + tm - 1) / tm
		if tiles < parts {
			parts = tiles
		}
	}
	parts, ok := claimWorkers(parts)
	if !ok {
		g.run()
		return
	}
	defer workersBusy.Unlock()
	bt := gemmBatches.Get().(*gemmBatch)
	defer gemmBatches.Put(bt)
	bt.left.Store(int32(parts - 1))
	for q := range parts {
		lo, hi := q*tiles/parts, (q+1)*tiles/parts
		part := *g
		if byCols {
			j0, j1 := lo*tn, min(hi*tn, g.n)
			part.n, part.c = j1-j0, g.c[j0:]
			if g.tB {
				part.b = g.b[j0*g.ldb:]
			} else {
				part.b = g.b[j0:]
			}
		} else {
			i0, i1 := lo*tm, min(hi*tm, g.m)
			part.m, part.c = i1-i0, g.c[i0*g.ldc:]
			if g.tA {
				part.a = g.a[i0:]
			} else {
				part.a = g.a[i0*g.lda:]
			}
		}
		if q == parts-1 {
			part.run()
			break
		}
		bt.tasks[q] = gemmTask{args: part, left: &bt.left}
		workers[q].give(&bt.tasks[q])
	}
	waitParts(&bt.left)
}

// claimWorkers takes the workers for a split into up to parts parts (the
// caller computing one) and returns the number of parts, with workersBusy
// held; false (and nothing held) when the workers are taken by another
// goroutine or are not spinning: a sleeping one is woken for next time,
// and the caller computes everything itself.
func claimWorkers(parts int) (int, bool) {
	startWorker.Do(func() {
		for range min(runtime.NumCPU(), maxParts) - 1 {
			w := &gemmWorker{wake: make(chan struct{}, 1)}
			workers = append(workers, w)
			go w.loop()
		}
	})
	parts = min(parts, len(workers)+1)
	if parts < 2 || !workersBusy.TryLock() {
		return 0, false
	}
	ready := true
	for _, w := range workers[:parts-1] {
		ready = w.awake() && ready
	}
	if !ready {
		workersBusy.Unlock()
		return 0, false
	}
	if testHookBeforeGive != nil {
		testHookBeforeGive()
	}
	return parts, true
}

// waitParts spins until the workers have done their parts.
func waitParts(left *atomic.Int32) {
	for i := 1; left.Load() > 0; i++ {
		spinPause()
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
}

// gemmBuf is the packing space of one sgemm call.
type gemmBuf struct {
	a    [mr * kc]float32
	b    [kc * nc]float32
	tile [mr * nr]float32
}

var gemmBufs = sync.Pool{New: func() any { return new(gemmBuf) }}

// Full panels of a row-major B are read in place rather than packed when
// C has at most directBMaxM rows: with few row panels to reuse a B panel,
// packing cost more than it saved (the mlp's products ran about 10% faster
// unpacked), while a 1024×1024 product ran 8% slower unpacked. A variable
// so that tests run both paths.
var directBMaxM = 256

// sgemm is the blocked product: C is scaled by beta, then for each block
// of k and of n, and each mr-row panel of A, the kernel adds alpha·Â·B̂ to
// each tile of C. Â is read in place when the panel is full (rows of A,
// or columns of a transposed A, both have a fixed stride), else packed;
// B's block is packed into nr-wide panels. Edge tiles go through a
// scratch tile.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	// With beta = 0 the first block of k writes C instead of adding to it
	// (the Set kernels): no clearing pass, no reading of C.
	zeroC := beta == 0
	if !zeroC {
		scaleC(m, n, beta, c, ldc)
	}
	buf := gemmBufs.Get().(*gemmBuf)
	defer gemmBufs.Put(buf)
	directB := !tB && m <= directBMaxM
	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		panels := (nb + nr - 1) / nr
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			if !directB {
				packB(buf.b[:panels*kb*nr], tB, b, ldb, p0, kb, j0, nb)
			} else if nb%nr != 0 {
				// The last, partial panel, packed once for every row panel.
				jj := j0 + (panels-1)*nr
				packB(buf.b[:kb*nr], false, b, ldb, p0, kb, jj, nb-(panels-1)*nr)
			}
			for i0 := 0; i0 < m; i0 += mr {
				t := tileRun{kb: kb, alpha: alpha, set: zeroC && p0 == 0}
				switch rows := min(mr, m-i0); {
				case rows == mr && tA: // columns of A, lda apart per k
					t.a, t.astep = &a[p0*lda+i0], 4*lda
				case rows == mr:
					t.a, t.lda = &a[i0*lda+p0], lda
				default:
					packA(buf.a[:kb*mr], tA, a, lda, i0, rows, p0, kb)
					t.a, t.astep = &buf.a[0], 4*mr
				}
				for jp := range panels {
					jj := j0 + jp*nr
					cols := min(nr, n-jj)
					switch {
					case directB && cols == nr:
						t.b, t.bstep = &b[p0*ldb+jj], 4*ldb
					case directB: // the last, partial panel, packed above
						t.b, t.bstep = &buf.b[0], 4*nr
					default:
						t.b, t.bstep = &buf.b[jp*kb*nr], 4*nr
					}
					rows := min(mr, m-i0)
					if rows == mr && cols == nr {
						t.run(&c[i0*ldc+jj], ldc)
						continue
					}
					set := t.set
					t.set = true
					t.run(&buf.tile[0], nr)
					t.set = set
					for r := range rows {
						dst := c[(i0+r)*ldc+jj : (i0+r)*ldc+jj+cols]
						src := buf.tile[r*nr : r*nr+cols]
						if set {
							copy(dst, src)
							continue
						}
						for j, v := range src {
							dst[j] += v
						}
					}
				}
			}
		}
	}
}

// tileRun is one call of a micro-kernel: where Â and B̂ are and how far
// apart their k steps are (lda > 0 selects the kernel reading A's rows).
type tileRun struct {
	kb         int
	a          *float32
	astep, lda int
	b          *float32
	bstep      int
	alpha      float32
	set        bool // write the tile (Set kernels) instead of adding to it
}

func (t *tileRun) run(c *float32, ldc int) {
	if !useAVX512 {
		t.runAVX2(c, ldc)
		return
	}
	switch {
	case t.lda > 0 && t.set:
		sgemmKernel8x32RowsSet(t.kb, t.a, t.lda, t.b, t.bstep, c, ldc, t.alpha)
	case t.lda > 0:
		sgemmKernel8x32Rows(t.kb, t.a, t.lda, t.b, t.bstep, c, ldc, t.alpha)
	case t.set:
		sgemmKernel8x32Set(t.kb, t.a, t.astep, t.b, t.bstep, c, ldc, t.alpha)
	default:
		sgemmKernel8x32(t.kb, t.a, t.astep, t.b, t.bstep, c, ldc, t.alpha)
	}
}

// runAVX2 is run's AVX2 half. Both call the kernels directly rather than
// through a table of funcs: an indirect call would lose their noescape
// and move every caller's operands to the heap.
func (t *tileRun) runAVX2(c *float32, ldc int) {
	switch {
	case t.lda > 0 && t.set:
		sgemmKernel8x32RowsSetAVX2(t.kb, t.a, t.lda, t.b, t.bstep, c, ldc, t.alpha)
	case t.lda > 0:
		sgemmKernel8x32RowsAVX2(t.kb, t.a, t.lda, t.b, t.bstep, c, ldc, t.alpha)
	case t.set:
		sgemmKernel8x32SetAVX2(t.kb, t.a, t.astep, t.b, t.bstep, c, ldc, t.alpha)
	default:
		sgemmKernel8x32AVX2(t.kb, t.a, t.astep, t.b, t.bstep, c, ldc, t.alpha)
	}
}

// scaleC multiplies C by beta; beta = 0 sets it to zero without reading
// it, as BLAS does (so NaNs in an uninitialised C do not survive).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packA copies rows i0..i0+rows of op(A), columns p0..p0+kb, into dst as
// kb groups of mr values (row-interleaved), zero-filling missing rows.
func packA(dst []float32, tA bool, a []float32, lda, i0, rows, p0, kb int) {
	if rows < mr {
		clear(dst)
	}
	if tA { // op(A)[i][p] = A[p][i]: each group is a contiguous run of A
		for p := range kb {
			copy(dst[p*mr:p*mr+rows], a[(p0+p)*lda+i0:])
		}
		return
	}
	for r := range rows {
		src := a[(i0+r)*lda+p0 : (i0+r)*lda+p0+kb]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}

// packB copies rows p0..p0+kb and columns j0..j0+nb of op(B) into dst as
// nr-wide panels, each kb rows of nr values, zero-filling the last panel.
func packB(dst []float32, tB bool, b []float32, ldb, p0, kb, j0, nb int) {
	for jp := 0; jp*nr < nb; jp++ {
		cols := min(nr, nb-jp*nr)
		panel := dst[jp*kb*nr : (jp+1)*kb*nr]
		if cols < nr {
			clear(panel)
		}
		jj := j0 + jp*nr
		if !tB { // rows of op(B) are rows of B
			if cols == nr && useAVX512 {
				packB32(kb, &b[p0*ldb+jj], ldb, &panel[0])
				continue
			}
			for p := range kb {
				copy(panel[p*nr:p*nr+cols], b[(p0+p)*ldb+jj:])
			}
			continue
		}
		// op(B)[p][j] = B[j][p]: a row of B is a column of the panel.
		// Full panels are transposed 16×16 at a time in registers on
		// AVX-512; on AVX2 every full group of 8 columns is, 8×8, also in
		// partial panels (the weight gradients of convolutions with fewer
		// than 32 filters, which AVX-512 machines send to sdot).
		pDone, jDone := 0, 0
		switch {
		case cols == nr && kb >= 16 && useAVX512:
			pDone, jDone = kb&^15, nr
			packBT32(pDone, &b[jj*ldb+p0], ldb, &panel[0])
		case cols >= 8 && kb >= 8 && useFMA:
			pDone, jDone = kb&^7, cols&^7
			for j := 0; j < jDone; j += 8 {
				packBT8AVX2(pDone, &b[(jj+j)*ldb+p0], ldb, &panel[j])
			}
		}
		packBTScalar(panel, b[jj*ldb+p0:], ldb, 0, jDone, pDone, kb)
		packBTScalar(panel, b[jj*ldb+p0:], ldb, jDone, cols, 0, kb)
	}
}

// packBTScalar packs columns j0..j1 and rows p0..p1 of a panel of a
// transposed B whose first element is b[0], walking the panel in order.
func packBTScalar(panel, b []float32, ldb, j0, j1, p0, p1 int) {
	if j0 >= j1 || p0 >= p1 {
		return
	}
	for p := p0; p < p1; p++ {
		row := panel[p*nr : p*nr+j1]
		for j := j0; j < j1; j++ {
			row[j] = b[j*ldb+p]
		}
	}
}

// checkGemm panics, as gonum does, when a slice is too short for its
// dimensions: the assembly kernel does not check bounds.
func checkGemm(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ra, ca := m, k
	if tA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tB {
		rb, cb = n, k
	}
	switch {
	case lda < max(1, ca), ldb < max(1, cb), ldc < max(1, n):
		panic("compute: bad leading dimension")
	case ra > 0 && ca > 0 && la < lda*(ra-1)+ca,
		rb > 0 && cb > 0 && lb < ldb*(rb-1)+cb,
		lc < ldc*(m-1)+n:
		panic("compute: slice too short for the matrix")
	}
}
