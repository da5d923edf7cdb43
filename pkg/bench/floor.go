package bench

import (
	"math/rand/v2"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
)

// SgemmFloor measures the float32 matrix-multiply rate of this build's
// BLAS on n×n matrices, in GFLOP/s (2n³ operations per product), over
// about the given time. With OpenBLAS on large matrices it is the
// machine's practical peak: a step's FLOPs divided by it is the time no
// implementation can beat.
func SgemmFloor(n int, seconds float64) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = rng.Float32(), rng.Float32()
	}
	run := func() { compute.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n) }
	run() // warm-up: thread pools, page faults
	best := 0.0
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for reps := 0; reps < 3 || time.Now().Before(deadline); reps++ {
		t0 := time.Now()
		run()
		rate := 2 * float64(n) * float64(n) * float64(n) / time.Since(t0).Seconds() / 1e9
		best = max(best, rate)
	}
	return best
}
