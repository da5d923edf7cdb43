package models

import (
	"math"
	"math/rand/v2"
)

// orthogonal fills w, a row-major matrix of rows rows, with a
// (semi-)orthogonal matrix as torch.nn.init.orthogonal_ does: the Q of the
// QR decomposition of a standard Gaussian matrix, with R's diagonal made
// positive (which makes Q unique), taken over the taller of the matrix
// and its transpose, so that the rows (wide) or the columns (tall) are
// orthonormal. As the orthogonal entry of initializers it gets the fan in
// as rows: the first axis of a dense layer's W [in, out]; recurrent layers
// call it with the G·H rows of weight_hh [G·H, H], as PyTorch.
func orthogonal(r *rand.Rand, w []float64, rows int) {
	if rows < 1 || len(w)%rows != 0 {
		rows = 1
	}
	cols := len(w) / rows
	m, n := rows, cols // the tall orientation: m ≥ n
	if m < n {
		m, n = n, m
	}
	a := make([]float64, m*n) // column j is a[j*m : (j+1)*m]
	normal(r, a, 1)
	gramSchmidt(a, m, n)
	for i := range rows {
		for j := range cols {
			if rows >= cols {
				w[i*cols+j] = a[j*m+i]
			} else {
				w[i*cols+j] = a[i*m+j]
			}
		}
	}
}

// gramSchmidt orthonormalizes the n columns (each m long, stored one after
// the other) of a in order, twice over for accuracy: the Q of a = QR with
// R's diagonal positive. A column that vanishes (probability zero for a
// Gaussian matrix) is left as it is.
func gramSchmidt(a []float64, m, n int) {
	for j := range n {
		c := a[j*m : (j+1)*m]
		for range 2 {
			for k := range j {
				q := a[k*m : (k+1)*m]
				var d float64
				for i := range c {
					d += c[i] * q[i]
				}
				for i := range c {
					c[i] -= d * q[i]
				}
			}
		}
		var norm float64
		for _, v := range c {
			norm += v * v
		}
		if norm = math.Sqrt(norm); norm > 0 {
			for i := range c {
				c[i] /= norm
			}
		}
	}
}
