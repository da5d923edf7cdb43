package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
)

// naiveGemm is the definition, in float64.
func naiveGemm(tA, tB bool, m, n, k int, alpha float64, a []float32, lda int, b []float32, ldb int, beta float64, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if tA {
					ai = p*lda + i
				}
				if tB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			if beta == 0 {
				out[i*ldc+j] = alpha * s
			} else {
				out[i*ldc+j] = alpha*s + beta*float64(c[i*ldc+j])
			}
		}
	}
	return out
}

// TestSgemmMatchesDefinition checks the float32 product of this build
// (the assembly kernel, gonum or OpenBLAS) against the definition over
// shapes around the kernel's tile and block sizes, every transpose, padded
// leading dimensions, and alpha/beta cases; entries of C outside the
// m×n matrix must not change.
func TestSgemmMatchesDefinition(t *testing.T) {
	defer func(v int) { directBMaxM = v }(directBMaxM)
	for _, d := range []int{0, 1 << 30} { // B packed always, B in place where full
		directBMaxM = d
		t.Run(fmt.Sprintf("directBMaxM=%d", d), testSgemmDefinition)
	}
}

func testSgemmDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	shapes := [][3]int{{1, 1, 1}, {8, 32, 1}, {7, 31, 5}, {9, 33, 17}, {16, 64, 256}, {17, 65, 257},
		{64, 256, 784}, {784, 256, 64}, {64, 10, 128}, {3, 1100, 40}, {40, 3, 600}}
	if testing.Short() {
		shapes = shapes[:7]
	}
	scalars := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			tA, tB := tr[0], tr[1]
			t.Run(fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v", m, n, k, tA, tB), func(t *testing.T) {
				ra, ca := m, k
				if tA {
					ra, ca = k, m
				}
				rb, cb := k, n
				if tB {
					rb, cb = n, k
				}
				lda, ldb, ldc := ca+3, cb+1, n+2
				a, b := randSlice(rng, ra*lda, 1), randSlice(rng, rb*ldb, 1)
				for _, s := range scalars {
					c := randSlice(rng, m*ldc, 1)
					if s[1] == 0 {
						for i := range c {
							if i%ldc < n {
								c[i] = float32(math.NaN()) // beta = 0 must not read C
							}
						}
					}
					want := naiveGemm(tA, tB, m, n, k, float64(s[0]), a, lda, b, ldb, float64(s[1]), c, ldc)
					Gemm(tA, tB, m, n, k, s[0], a, lda, b, ldb, s[1], c, ldc)
					tol := 1e-5 * math.Sqrt(float64(k)+1) * float64(max(1, abs32(s[0])))
					for i, w := range want {
						if d := math.Abs(float64(c[i]) - w); !(d <= tol*(1+math.Abs(w))) {
							t.Fatalf("alpha %v beta %v: c[%d] (row %d, col %d) = %v, want %v", s[0], s[1], i, i/ldc, i%ldc, c[i], w)
						}
					}
				}
			})
		}
	}
}

func TestSgemmKernelPaths(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512: the default build uses gonum's Sgemm")
	}
	// The same product through the kernel and through gonum agree closely.
	rng := rand.New(rand.NewPCG(3, 3))
	m, n, k := 33, 70, 300
	a, b := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1)
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	pureGo{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c1, n)
	pureGo{}.Implementation.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c2, n)
	for i := range c1 {
		if math.Abs(float64(c1[i]-c2[i])) > 1e-4 {
			t.Fatalf("c[%d]: kernel %v, gonum %v", i, c1[i], c2[i])
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, sh := range [][3]int{{64, 256, 784}, {784, 256, 64}, {64, 784, 256}, {1024, 1024, 1024}} {
		m, n, k := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, y, c := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Gemm(false, false, m, n, k, 1, x, k, y, n, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestSgemmSameAtEveryThreadCount checks that splitting a product over
// cores changes no bit of the result, by columns and by rows.
func TestSgemmSameAtEveryThreadCount(t *testing.T) {
	if _, ok := impl.(pureGo); !ok {
		t.Skip("OpenBLAS's results depend on its thread count (measured: last-bit differences)")
	}
	before, minBefore := Threads(), parallelMin
	defer func() { SetThreads(before); parallelMin = minBefore }()
	parallelMin = 1
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sh := range [][3]int{{64, 256, 784}, {784, 10, 128}, {37, 300, 70}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {true, true}} {
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			a, b := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1)
			var want []float32
			for _, threads := range []int{1, 2, 3, 4} {
				SetThreads(threads)
				c := make([]float32, m*n)
				Gemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
				if want == nil {
					want = c
					continue
				}
				for i := range c {
					if c[i] != want[i] {
						t.Fatalf("%v trans %v, %d threads: c[%d] = %v, 1 thread %v", sh, tr, threads, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestPackBT32MatchesScalarPack(t *testing.T) {
	kernels := []struct {
		name string
		ok   bool
		step int
		f    func(kb int, b []float32, ldb int, dst []float32) // a full panel
	}{
		{"avx512", useAVX512, 16, func(kb int, b []float32, ldb int, dst []float32) { packBT32(kb, &b[0], ldb, &dst[0]) }},
		{"avx2", useFMA, 8, func(kb int, b []float32, ldb int, dst []float32) {
			for j := 0; j < nr; j += 8 { // as packB calls it
				packBT8AVX2(kb, &b[j*ldb], ldb, &dst[j])
			}
		}},
	}
	for _, kn := range kernels {
		t.Run(kn.name, func(t *testing.T) {
			if !kn.ok {
				t.Skip("this CPU lacks it")
			}
			rng := rand.New(rand.NewPCG(4, 4))
			for _, kb := range []int{kn.step, 32, 256, 8 * kn.step} {
				ldb := kb + 5
				b := randSlice(rng, 32*ldb, 1)
				want, got := make([]float32, kb*nr), make([]float32, kb*nr)
				for j := range nr {
					for p := range kb {
						want[p*nr+j] = b[j*ldb+p]
					}
				}
				kn.f(kb, b, ldb, got)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("kb=%d: element %d (p %d, j %d) = %v, want %v", kb, i, i/nr, i%nr, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestSgemmConcurrentCallers runs parallel products from several
// goroutines at once: each must get its own result.
func TestSgemmConcurrentCallers(t *testing.T) {
	before, minBefore := Threads(), parallelMin
	defer func() { SetThreads(before); parallelMin = minBefore }()
	SetThreads(4)
	parallelMin = 1
	rng := rand.New(rand.NewPCG(8, 8))
	m, n, k := 40, 200, 50
	a, b := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1)
	want := make([]float32, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			c := make([]float32, m*n)
			for range 50 {
				Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				for i := range c {
					if c[i] != want[i] {
						errs <- fmt.Errorf("element %d: %v, want %v", i, c[i], want[i])
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestSgemmWorkersSleepAndWake splits products spaced around the
// workers' spinning time, so that workers fall asleep just before, during
// and after a product is handed out, and every other product lets them
// fall asleep between the check that they spin and the hand-off; a lost
// hand-off would hang.
func TestSgemmWorkersSleepAndWake(t *testing.T) {
	before, minBefore := Threads(), parallelMin
	defer func() { SetThreads(before); parallelMin = minBefore; testHookBeforeGive = nil }()
	calls := 0
	testHookBeforeGive = func() {
		if calls++; calls%2 == 0 {
			time.Sleep(3 * spinFor)
		}
	}
	SetThreads(2)
	parallelMin = 1
	rng := rand.New(rand.NewPCG(10, 10))
	m, n, k := 16, 128, 32
	a, b := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := make([]float32, m*n)
		for i := range 200 {
			Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			time.Sleep(spinFor - 20*time.Microsecond + time.Duration(i%9)*5*time.Microsecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a parallel product never finished: a hand-off to a worker was lost")
	}
}
