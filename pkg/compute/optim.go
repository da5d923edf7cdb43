package compute

import "math"

// AdamParams are the scalars of one Adam step (Kingma & Ba; the form of
// torch.optim.Adam):
//
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + (1−β₂)·g²
//	w ← w − StepSize·m / (√v·InvSqrtBC2 + Eps)
//
// with StepSize = lr/(1−β₁ᵗ) and InvSqrtBC2 = 1/√(1−β₂ᵗ) at step t.
type AdamParams struct {
	Beta1, Beta2 float64
	StepSize     float64
	InvSqrtBC2   float64
	Eps          float64
}

// NewAdamParams returns the scalars of Adam's step t (1-based) for
// learning rate lr.
func NewAdamParams(lr, beta1, beta2, eps float64, t int64) AdamParams {
	bc1 := 1 - math.Pow(beta1, float64(t))
	bc2 := 1 - math.Pow(beta2, float64(t))
	return AdamParams{Beta1: beta1, Beta2: beta2, StepSize: lr / bc1, InvSqrtBC2: 1 / math.Sqrt(bc2), Eps: eps}
}

// AdamStep applies one Adam update to the weights w from their gradient g,
// updating the moment buffers m and v in place; all four have the same
// length. Arithmetic is in T, each operation rounded as written (no fused
// multiply-add), so the vectorized float32 path on amd64 gives results
// bit-identical to adamRef, the plain loop.
func AdamStep[T Float](w, g, m, v []T, p AdamParams) {
	n := len(w)
	if len(g) != n || len(m) != n || len(v) != n {
		panic("compute.AdamStep: slices of different lengths")
	}
	if w32, ok := any(w).([]float32); ok {
		done := adamVec(w32, any(g).([]float32), any(m).([]float32), any(v).([]float32), adamConsts(p))
		w, g, m, v = w[done:], g[done:], m[done:], v[done:]
	}
	adamRef(w, g, m, v, p)
}

// adamConsts packs the float32 constants the vector kernels broadcast:
// β₁, 1−β₁, β₂, 1−β₂, StepSize, InvSqrtBC2, Eps, each rounded as adamRef
// rounds them.
func adamConsts(p AdamParams) *[7]float32 {
	b1, b2 := float32(p.Beta1), float32(p.Beta2)
	return &[7]float32{b1, 1 - b1, b2, 1 - b2, float32(p.StepSize), float32(p.InvSqrtBC2), float32(p.Eps)}
}

// adamRef is AdamStep as a plain loop: the reference the vector kernels
// are tested against, and the path for float64 and the tail.
func adamRef[T Float](w, g, m, v []T, p AdamParams) {
	b1, b2 := T(p.Beta1), T(p.Beta2)
	c1, c2 := 1-b1, 1-b2
	ss, ib, eps := T(p.StepSize), T(p.InvSqrtBC2), T(p.Eps)
	m, v, w = m[:len(g)], v[:len(g)], w[:len(g)]
	for j, gj := range g {
		// The explicit conversions round each product, forbidding the
		// compiler to fuse them into FMAs (GOAMD64=v3 would).
		mj := T(b1*m[j]) + T(c1*gj)
		vj := T(b2*v[j]) + T(T(c2*gj)*gj)
		m[j], v[j] = mj, vj
		den := T(T(math.Sqrt(float64(vj)))*ib) + eps
		w[j] -= T(ss*mj) / den
	}
}

// SGDStep applies w ← w − lr·g.
func SGDStep[T Float](w, g []T, lr float64) {
	a := T(lr)
	w = w[:len(g)]
	for j, gj := range g {
		w[j] -= T(a * gj)
	}
}

// MomentumStep applies SGD with momentum μ and dampening τ, as
// torch.optim.SGD, to w with velocity buffer b:
//
//	b ← g at the first step, else b ← μ·b + (1−τ)·g
//	d ← g + μ·b with Nesterov, else b
//	w ← w − lr·d
func MomentumStep[T Float](w, g, b []T, lr, momentum, dampening float64, nesterov, first bool) {
	mu, damp, a := T(momentum), T(1-dampening), T(lr)
	w, b = w[:len(g)], b[:len(g)]
	for j, gj := range g {
		bj := gj
		if !first {
			bj = T(mu*b[j]) + T(damp*gj)
		}
		b[j] = bj
		d := bj
		if nesterov {
			d = gj + T(mu*bj)
		}
		w[j] -= T(a * d)
	}
}

// AllFinite reports whether no element of x is NaN or ±Inf (vectorized
// for float32 on amd64): the check a training loop makes on gradients and
// weights at every step.
func AllFinite[T Float](x []T) bool {
	if x32, ok := any(x).([]float32); ok {
		done, finite := finiteVec(x32)
		if !finite {
			return false
		}
		x = x[done:]
	}
	// x−x is 0 for finite x and NaN otherwise; summing keeps any NaN and
	// needs one branch for the whole slice.
	var s T
	for _, v := range x {
		s += v - v
	}
	return s == 0
}
