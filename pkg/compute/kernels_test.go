package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestDotProductsMatchDefinition checks the products A·Bᵀ that go
// through the dot kernels (long inner dimension, narrow output) against
// the definition, over every kernel block shape (m, n up to 4 past a
// multiple of 4), a k that is not a multiple of 16 and one that spans
// several blocks, padded leading dimensions, alpha and beta.
func TestDotProductsMatchDefinition(t *testing.T) {
	if !useAVX512VL {
		t.Log("no AVX-512VL: these shapes go through the tiled or gonum product")
	}
	rng := rand.New(rand.NewPCG(2, 7))
	for _, sh := range [][3]int{{6, 25, 1000}, {1, 1, 256}, {4, 4, 512}, {7, 5, 1300}, {17, 150, 777}, {32, 3, 2048}} {
		m, n, k := sh[0], sh[1], sh[2]
		if !useDot(false, true, m, n, k) && useAVX512VL {
			t.Fatalf("%v does not take the dot path", sh)
		}
		for _, s := range [][2]float32{{1, 0}, {-0.5, 1}} {
			t.Run(fmt.Sprintf("%dx%dx%d/alpha=%v/beta=%v", m, n, k, s[0], s[1]), func(t *testing.T) {
				lda, ldb, ldc := k+3, k+1, n+2
				a, b := randSlice(rng, m*lda, 1), randSlice(rng, n*ldb, 1)
				c := randSlice(rng, m*ldc, 1)
				want := naiveGemm(false, true, m, n, k, float64(s[0]), a, lda, b, ldb, float64(s[1]), c, ldc)
				Gemm(false, true, m, n, k, s[0], a, lda, b, ldb, s[1], c, ldc)
				tol := 1e-5 * math.Sqrt(float64(k))
				for i, w := range want {
					if d := math.Abs(float64(c[i]) - w); !(d <= tol*(1+math.Abs(w))) {
						t.Fatalf("c[%d] (row %d, col %d) = %v, want %v", i, i/ldc, i%ldc, c[i], w)
					}
				}
			})
		}
	}
}

// TestDotProductsSameAtEveryThreadCount: splitting the dot products over
// cores, by rows or by columns, changes no bit.
func TestDotProductsSameAtEveryThreadCount(t *testing.T) {
	if _, ok := impl.(pureGo); !ok {
		t.Skip("OpenBLAS's results depend on its thread count")
	}
	before, minBefore := Threads(), parallelMin
	defer func() { SetThreads(before); parallelMin = minBefore }()
	parallelMin = 1
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][3]int{{6, 25, 4000}, {30, 3, 600}, {16, 150, 512}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b := randSlice(rng, m*k, 1), randSlice(rng, n*k, 1)
		var want []float32
		for _, threads := range []int{1, 2, 3, 4} {
			SetThreads(threads)
			c := make([]float32, m*n)
			Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
			if want == nil {
				want = c
				continue
			}
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("%v, %d threads: c[%d] = %v, 1 thread %v", sh, threads, i, c[i], want[i])
				}
			}
		}
	}
}

// withVectors runs f with the vector kernels on (as the CPU allows) and
// then off, so that tests compare both paths.
func withVectors(t *testing.T, f func(vec bool)) {
	s512, sVL, s2 := useAVX512, useAVX512VL, useAVX2
	defer func() { useAVX512, useAVX512VL, useAVX2 = s512, sVL, s2 }()
	f(true)
	useAVX512, useAVX512VL, useAVX2 = false, false, false
	f(false)
}

// eachVectorLevel runs f as the CPU allows and, on an AVX-512 machine,
// again with AVX-512 off, so that the AVX2 kernels that AVX2-only
// machines run are tested there too.
func eachVectorLevel(t *testing.T, f func(t *testing.T)) {
	t.Run("default", f)
	if useAVX512 && useAVX2 {
		s512, sVL := useAVX512, useAVX512VL
		defer func() { useAVX512, useAVX512VL = s512, sVL }()
		useAVX512, useAVX512VL = false, false
		t.Run("avx2", f)
	}
}

func TestMaxPool2x2MatchesLoop(t *testing.T) { eachVectorLevel(t, testMaxPool2x2) }

func testMaxPool2x2(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nan := float32(math.NaN())
	for _, sh := range [][3]int{{12, 12, 24}, {4, 4, 8}, {3, 17, 35}, {5, 40, 80}, {1, 1, 2}, {2, 16, 33}, {2, 7, 15}} {
		oh, ow, w := sh[0], sh[1], sh[2]
		in := make([]float32, 2*oh*w+3)
		for i := range in {
			in[i] = float32(rng.IntN(4)) // many ties
			if rng.IntN(50) == 0 {
				in[i] = nan
			}
		}
		var outs [2][]float32
		var idxs [2][]int32
		withVectors(t, func(vec bool) {
			i := 0
			if !vec {
				i = 1
			}
			outs[i], idxs[i] = make([]float32, oh*ow+1), make([]int32, oh*ow+1)
			outs[i][oh*ow], idxs[i][oh*ow] = 77, 77 // past the end: untouched
			MaxPool2x2(outs[i], idxs[i], in, oh, ow, w)
		})
		for i := range outs[0] {
			same := outs[0][i] == outs[1][i] || (outs[0][i] != outs[0][i] && outs[1][i] != outs[1][i])
			if !same || idxs[0][i] != idxs[1][i] {
				t.Fatalf("%v: output %d: vector %v at %d, loop %v at %d", sh, i, outs[0][i], idxs[0][i], outs[1][i], idxs[1][i])
			}
		}
		for y := range oh { // the loop against the definition
			for x := range ow {
				o := y*ow + x
				j := int(idxs[1][o])
				r, c := j/w-2*y, j%w-2*x
				if r < 0 || r > 1 || c < 0 || c > 1 {
					t.Fatalf("%v: output %d: index %d outside its window", sh, o, j)
				}
				for q := range r*2 + c { // nothing before the chosen one is larger, or a NaN chosen first
					v := in[(2*y+q/2)*w+2*x+q%2]
					if v >= in[j] && !(in[j] != in[j]) {
						t.Fatalf("%v: output %d picked %v at tap %d, tap %d holds %v", sh, o, in[j], r*2+c, q, v)
					}
				}
				for q := r*2 + c + 1; q < 4; q++ { // nothing after it is larger
					if v := in[(2*y+q/2)*w+2*x+q%2]; v > in[j] {
						t.Fatalf("%v: output %d picked %v at tap %d, tap %d holds %v", sh, o, in[j], r*2+c, q, v)
					}
				}
			}
		}
	}
}

func TestCopyAndAdd2DMatchLoops(t *testing.T) { eachVectorLevel(t, testCopyAndAdd2D) }

func testCopyAndAdd2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cols := range []int{1, 5, 8, 9, 15, 16, 17, 24, 31, 33, 40} {
		rows, ds, ss := 5, cols+3, cols+7
		src := randSlice(rng, rows*ss, 1)
		base := randSlice(rng, rows*ds+4, 1)
		var got [2][2][]float32
		withVectors(t, func(vec bool) {
			i := 0
			if !vec {
				i = 1
			}
			c, a := append([]float32(nil), base...), append([]float32(nil), base...)
			Copy2D(c, ds, src, ss, rows, cols)
			Add2D(a, ds, src, ss, rows, cols)
			got[i] = [2][]float32{c, a}
		})
		for i := range base {
			r, col := i/ds, i%ds
			inside := r < rows && col < cols
			wantC, wantA := base[i], base[i]
			if inside {
				wantC, wantA = src[r*ss+col], base[i]+src[r*ss+col]
			}
			for p := range 2 {
				if got[p][0][i] != wantC || got[p][1][i] != wantA {
					t.Fatalf("cols %d, vectors %v: element %d: copy %v add %v, want %v %v", cols, p == 0, i, got[p][0][i], got[p][1][i], wantC, wantA)
				}
			}
		}
	}
}

func TestElementwiseVectorsMatchLoops(t *testing.T) { eachVectorLevel(t, testElementwiseVectors) }

func testElementwiseVectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randSlice(rng, 1100, 3)
	x[3], x[20], x[41] = float32(math.NaN()), float32(math.Copysign(0, -1)), float32(math.Inf(-1))
	bits := func(v []float32) []uint32 {
		out := make([]uint32, len(v))
		for i, f := range v {
			out[i] = math.Float32bits(f)
		}
		return out
	}
	var relu, add, sdiff [2][]uint32
	var sums [2][]float32
	var sqsums [2][]float64
	y := randSlice(rng, len(x), 2)
	withVectors(t, func(vec bool) {
		i := 0
		if !vec {
			i = 1
		}
		r, a, sd := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
		Relu(r, x)
		AddConst(a, x, 0.25)
		ScaledDiff(sd, x, y, 0.375)
		relu[i], add[i], sdiff[i] = bits(r), bits(a), bits(sd)
		for _, n := range []int{0, 7, 16, 64, 80, 127, 999} {
			sums[i] = append(sums[i], Sum(x[50:50+n]))
			sqsums[i] = append(sqsums[i], SquaredDiffSum(x[50:50+n], y[50:50+n]))
		}
	})
	for i := range x {
		if relu[0][i] != relu[1][i] || add[0][i] != add[1][i] || sdiff[0][i] != sdiff[1][i] {
			t.Fatalf("element %d (%v): relu %x / %x, add %x / %x", i, x[i], relu[0][i], relu[1][i], add[0][i], add[1][i])
		}
	}
	if relu[1][3] != math.Float32bits(float32(math.NaN())) && !math.IsNaN(float64(math.Float32frombits(relu[1][3]))) {
		t.Errorf("relu(NaN) = %v", math.Float32frombits(relu[1][3]))
	}
	if relu[1][20] != 0 {
		t.Errorf("relu(-0) = %x, want +0", relu[1][20])
	}
	for i := range sums[0] {
		if math.Float32bits(sums[0][i]) != math.Float32bits(sums[1][i]) {
			t.Errorf("sum %d: vector %v, loop %v", i, sums[0][i], sums[1][i])
		}
		if math.Float64bits(sqsums[0][i]) != math.Float64bits(sqsums[1][i]) {
			t.Errorf("squared difference sum %d: vector %v, loop %v", i, sqsums[0][i], sqsums[1][i])
		}
	}
	var sq float64
	for i := 50; i < 50+999; i++ {
		d := float64(x[i] - y[i])
		sq += d * d
	}
	if math.Abs(sqsums[1][6]-sq) > 1e-12*sq {
		t.Errorf("squared difference sum %v, sequential %v", sqsums[1][6], sq)
	}
	var exact float64
	for _, v := range x[50 : 50+999] {
		exact += float64(v)
	}
	if math.Abs(float64(sums[1][6])-exact) > 1e-3 {
		t.Errorf("sum = %v, float64 sum %v", sums[1][6], exact)
	}
}

// countJob counts how often each item is run; with nested set, each part
// also computes a product, which must not wait for the workers the job
// holds.
type countJob struct {
	counts []atomic.Int32
	nested bool
}

func (j *countJob) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		j.counts[i].Add(1)
	}
	if j.nested {
		a := make([]float32, 64*64)
		c := make([]float32, 64*64)
		Gemm(false, false, 64, 64, 64, 1, a, 64, a, 64, 0, c, 64)
	}
}

func TestParallelRunsEveryItemOnce(t *testing.T) {
	before := Threads()
	defer SetThreads(before)
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		for _, n := range []int{0, 1, 5, 100, 1001} {
			for _, nested := range []bool{false, true} {
				j := &countJob{counts: make([]atomic.Int32, n), nested: nested}
				for rep := range 3 { // the first call may find the workers asleep
					Parallel(n, 2, j)
					for i := range j.counts {
						if c := j.counts[i].Load(); c != int32(rep+1) {
							t.Fatalf("%d threads, n %d: item %d run %d times after %d calls", threads, n, i, c, rep+1)
						}
					}
				}
			}
		}
	}
}
