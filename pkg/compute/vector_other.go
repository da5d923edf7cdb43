//go:build !amd64 || purego

package compute

// Portable stand-ins for the amd64 vector kernels: they handle no prefix,
// so the plain loops do everything.

func sigmoidVec(out, x []float32) int { return 0 }

func reluGradVec(dx, x, dy []float32) int { return 0 }

func addVec(dst, src []float32) int { return 0 }

func sigmoidGradVec(dx, y, dy []float32) int { return 0 }

func finiteVec(x []float32) (int, bool) { return 0, true }

func maxVec(x []float32) (int, float32) { return 0, float32(negInf) }

func expShiftVec(out, x []float32, m float32) int { return 0 }

func divConstVec(x []float32, s float32) int { return 0 }

func tanhVec(out, x []float32) int { return 0 }
