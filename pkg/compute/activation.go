package compute

// Sigmoid writes the logistic function 1/(1+e^−x) of each x into out (the
// two may be the same slice). Float32 runs a vectorized kernel on amd64
// that matches sigmoid32 bit for bit (within 3 ulp of the exact value);
// float64 uses the math package.
func Sigmoid[T Float](out, x []T) {
	out = out[:len(x)]
	if x32, ok := any(x).([]float32); ok {
		o32 := any(out).([]float32)
		done := sigmoidVec(o32, x32)
		for i := done; i < len(x32); i++ {
			o32[i] = sigmoid32(x32[i])
		}
		return
	}
	for i, v := range x {
		out[i] = T(sigmoid64(float64(v)))
	}
}

// SigmoidGrad writes dx = dy·y·(1−y) from the sigmoid's output y.
func SigmoidGrad[T Float](dx, y, dy []T) {
	y, dy = y[:len(dx)], dy[:len(dx)]
	if dx32, ok := any(dx).([]float32); ok {
		done := sigmoidGradVec(dx32, any(y).([]float32), any(dy).([]float32))
		dx, y, dy = dx[done:], y[done:], dy[done:]
	}
	for i, v := range y {
		dx[i] = dy[i] * T(v*(1-v))
	}
}

// Add adds src to dst element by element.
func Add[T Float](dst, src []T) {
	src = src[:len(dst)]
	if d32, ok := any(dst).([]float32); ok {
		done := addVec(d32, any(src).([]float32))
		dst, src = dst[done:], src[done:]
	}
	for i, v := range src {
		dst[i] += v
	}
}

// Relu writes max(x, 0) into out (a NaN stays NaN, −0 becomes +0),
// vectorized for float32 on amd64.
func Relu[T Float](out, x []T) {
	out = out[:len(x)]
	if x32, ok := any(x).([]float32); ok && useAVX512 {
		if n := len(x32) &^ 15; n > 0 {
			reluAVX512(&any(out).([]float32)[0], &x32[0], n)
			out, x = out[n:], x[n:]
		}
	}
	for i, v := range x {
		out[i] = max(v, 0)
	}
}

// ReluGrad writes dx = dy where x > 0, else 0 (vectorized for float32
// on amd64).
func ReluGrad[T Float](dx, x, dy []T) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	if dx32, ok := any(dx).([]float32); ok {
		done := reluGradVec(dx32, any(x).([]float32), any(dy).([]float32))
		dx, x, dy = dx[done:], x[done:], dy[done:]
	}
	for i, v := range x {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// Tanh writes tanh(x) into out; float32 uses tanh32, vectorized on amd64
// with the same operations (the same bits).
func Tanh[T Float](out, x []T) {
	out = out[:len(x)]
	if x32, ok := any(x).([]float32); ok {
		o32 := any(out).([]float32)
		done := tanhVec(o32, x32)
		for i := done; i < len(x32); i++ {
			o32[i] = tanh32(x32[i])
		}
		return
	}
	for i, v := range x {
		out[i] = T(tanh64(float64(v)))
	}
}

// TanhGrad writes dx = dy·(1−y²) from tanh's output y.
func TanhGrad[T Float](dx, y, dy []T) {
	y, dy = y[:len(dx)], dy[:len(dx)]
	for i, v := range y {
		dx[i] = dy[i] * T(1-T(v*v))
	}
}

// AddConst writes src + c into dst (vectorized for float32 on amd64).
func AddConst[T Float](dst, src []T, c T) {
	src = src[:len(dst)]
	if d32, ok := any(dst).([]float32); ok && useAVX512 {
		if n := len(d32) &^ 15; n > 0 {
			addConstAVX512(&d32[0], &any(src).([]float32)[0], n, float32(c))
			dst, src = dst[n:], src[n:]
		}
	}
	for i, v := range src {
		dst[i] = v + c
	}
}
