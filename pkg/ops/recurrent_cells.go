package ops

import "github.com/dltrain/dltrain/pkg/compute"

// The per-step arithmetic of each cell, on one batch item. In the forward
// functions g holds the input projection x·W_ihᵀ + b_ih of the step and is
// overwritten with the activated gates, hh is W_hh·h + b_hh, and h
// receives the new state. The backward functions read those gates back.

// rnnForward: h = act(g + hh).
func rnnForward[T compute.Float](c Cell, g, hh, h []T) {
	compute.Add(g, hh)
	if c == CellRNNRelu {
		compute.Relu(h, g)
	} else {
		compute.Tanh(h, g)
	}
}

// rnnBackward: the pre-activation's gradient dg from the state h and its
// gradient dh (relu's derivative read from its output, h > 0).
func rnnBackward[T compute.Float](c Cell, dg, h, dh []T) {
	if c == CellRNNRelu {
		compute.ReluGrad(dg, h, dh)
	} else {
		compute.TanhGrad(dg, h, dh)
	}
}

// lstmForward: i, f, o = σ(·), g = tanh(·) over the four blocks of
// g + hh; c = f⊙cp + i⊙g (cp nil: the zero state); h = o⊙tanh(c).
func lstmForward[T compute.Float](g, hh, c, cp, h []T) {
	n := len(c)
	compute.Add(g, hh)
	compute.Sigmoid(g[:2*n], g[:2*n])
	compute.Tanh(g[2*n:3*n], g[2*n:3*n])
	compute.Sigmoid(g[3*n:], g[3*n:])
	i, f, gg, o := g[:n], g[n:2*n], g[2*n:3*n], g[3*n:4*n]
	for j := range c {
		c[j] = i[j] * gg[j]
	}
	if cp != nil {
		for j := range c {
			c[j] += f[j] * cp[j]
		}
	}
	compute.Tanh(h, c)
	for j := range h {
		h[j] *= o[j]
	}
}

// lstmBackward: from the gates g, the cell state c, the previous one cp
// (nil: zero), the state's gradient dh and the cell's gradient dc from the
// next step, the four gate pre-activation gradients into dg; dc becomes
// the previous cell's gradient. tc is scratch of length H.
func lstmBackward[T compute.Float](dg, g, c, cp, dh, dc, tc []T) {
	n := len(c)
	i, f, gg, o := g[:n], g[n:2*n], g[2*n:3*n], g[3*n:4*n]
	di, df, dgg, do := dg[:n], dg[n:2*n], dg[2*n:3*n], dg[3*n:4*n]
	compute.Tanh(tc, c)
	for j := range n {
		t := tc[j]
		do[j] = dh[j] * t * o[j] * (1 - o[j])
		dct := dc[j] + dh[j]*o[j]*(1-t*t)
		di[j] = dct * gg[j] * i[j] * (1 - i[j])
		dgg[j] = dct * i[j] * (1 - gg[j]*gg[j])
		var prev T
		if cp != nil {
			prev = cp[j]
		}
		df[j] = dct * prev * f[j] * (1 - f[j])
		dc[j] = dct * f[j]
	}
}

// gruForward: r, z = σ(·) over the first two blocks of g + hh; hn, the
// third block of hh (W_hn h + b_hn), is kept; n = tanh(g_n + r⊙hn);
// h = (1 − z)⊙n + z⊙hp (hp nil: the zero state).
func gruForward[T compute.Float](g, hh, hn, hp, h []T) {
	n := len(h)
	compute.Add(g[:2*n], hh[:2*n])
	compute.Sigmoid(g[:2*n], g[:2*n])
	copy(hn, hh[2*n:])
	r, z, nn := g[:n], g[n:2*n], g[2*n:3*n]
	for j := range n {
		nn[j] += r[j] * hn[j]
	}
	compute.Tanh(nn, nn)
	for j := range n {
		var prev T
		if hp != nil {
			prev = hp[j]
		}
		h[j] = nn[j] + z[j]*(prev-nn[j])
	}
}

// gruBackward: from the gates g (r, z, n), hn, the previous state hp
// (nil: zero) and the state's gradient dh, the input-side pre-activation
// gradients into dg, the hidden-side ones (of W_hh·h + b_hh) into dgh, and
// z⊙dh, the direct part of the previous state's gradient, into carry.
func gruBackward[T compute.Float](dg, dgh, g, hn, hp, dh, carry []T) {
	n := len(hn)
	r, z, nn := g[:n], g[n:2*n], g[2*n:3*n]
	dr, dz, dn := dg[:n], dg[n:2*n], dg[2*n:3*n]
	for j := range n {
		var prev T
		if hp != nil {
			prev = hp[j]
		}
		an := dh[j] * (1 - z[j]) * (1 - nn[j]*nn[j])
		dn[j] = an
		dz[j] = dh[j] * (prev - nn[j]) * z[j] * (1 - z[j])
		dr[j] = an * hn[j] * r[j] * (1 - r[j])
		dgh[2*n+j] = an * r[j]
		carry[j] = dh[j] * z[j]
	}
	copy(dgh[:2*n], dg[:2*n])
}
