package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convTransposeCase is one transposed convolution: x (batch, C, ...), w
// (C, F, ...), its window and output padding.
type convTransposeCase struct {
	name   string
	x, w   []int
	win    Window
	outPad [2]int
	bias   bool
}

// convTransposeCases covers strides 1 to 3, padding, output padding
// (below the padding, so that it is cropped, and above it, so that rows
// no input reaches appear), output padding allowed by the dilation alone,
// dilation, bias or none, non-square kernels, strides and inputs, 1×1
// kernels and 1-D.
func convTransposeCases() []convTransposeCase {
	return []convTransposeCase{
		{"k3_s1", []int{2, 3, 4, 5}, []int{3, 2, 3, 3}, win2D(3, 1, 1, 0), [2]int{}, true},
		{"k2_s2", []int{2, 2, 3, 3}, []int{2, 3, 2, 2}, win2D(2, 2, 1, 0), [2]int{}, true},
		{"k3_s2_p1_op1", []int{2, 2, 3, 4}, []int{2, 3, 3, 3}, win2D(3, 2, 1, 1), [2]int{1, 1}, true},
		{"k4_s3_p1_op2", []int{1, 2, 3, 3}, []int{2, 2, 4, 4}, win2D(4, 3, 1, 1), [2]int{2, 2}, false},
		{"k3_s3_p2_op1", []int{2, 1, 3, 2}, []int{1, 2, 3, 3}, win2D(3, 3, 1, 2), [2]int{1, 1}, true},
		{"dilation2_p1", []int{2, 2, 3, 3}, []int{2, 2, 3, 3}, win2D(3, 1, 2, 1), [2]int{}, true},
		{"op_below_dilation_only", []int{1, 2, 3, 4}, []int{2, 2, 2, 2}, win2D(2, 1, 3, 0), [2]int{2, 1}, true},
		{"rect_mixed", []int{2, 3, 4, 5}, []int{3, 2, 3, 2},
			Window{KH: 3, KW: 2, SH: 2, SW: 3, DH: 2, DW: 1, PadT: 1, PadB: 1}, [2]int{1, 2}, true},
		{"asymmetric_crop", []int{2, 2, 3, 3}, []int{2, 2, 3, 3},
			Window{KH: 3, KW: 3, SH: 2, SW: 1, DH: 1, DW: 1, PadT: 0, PadB: 2, PadL: 1, PadR: 0}, [2]int{}, false},
		{"1x1_s2", []int{2, 4, 3, 3}, []int{4, 3, 1, 1}, win2D(1, 2, 1, 0), [2]int{1, 0}, true},
		{"1d_s2_p1", []int{2, 2, 6}, []int{2, 3, 4}, win1D(4, 2, 1, 1), [2]int{}, true},
		{"1d_s3_op2_dil2", []int{2, 3, 4}, []int{3, 2, 3}, win1D(3, 3, 2, 0), [2]int{0, 2}, false},
	}
}

// build adds the case's transposed convolution of n[0] by n[1] (and n[2]
// when it has a bias) to the graph.
func (c convTransposeCase) build(n []*G.Node, wrtX bool) (*G.Node, error) {
	var b *G.Node
	if c.bias {
		b = n[2]
	}
	return ConvTranspose(n[0], n[1], b, c.win, c.outPad, wrtX)
}

func (c convTransposeCase) inputs(rng *rand.Rand) ([]*tensor.Dense, []string) {
	in := []*tensor.Dense{randTensor(rng, c.x...), randTensor(rng, c.w...)}
	names := []string{"x", "w"}
	if c.bias {
		in, names = append(in, randTensor(rng, c.w[1])), append(names, "b")
	}
	return in, names
}

func TestConvTransposeGradient(t *testing.T) {
	for _, c := range convTransposeCases() {
		t.Run(c.name, func(t *testing.T) {
			in, names := c.inputs(rand.New(rand.NewPCG(101, 102)))
			checkAll(t, names, in, []bool{true, true, true}[:len(in)], func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				return c.build(n, true)
			})
		})
	}
}

// Without the input gradient the weight gradient unrolls the patches
// itself rather than reusing the input gradient's; it is as right.
func TestConvTransposeWeightGradientAlone(t *testing.T) {
	for _, c := range convTransposeCases()[2:4] {
		t.Run(c.name, func(t *testing.T) {
			in, names := c.inputs(rand.New(rand.NewPCG(103, 104)))
			checkAll(t, names, in, []bool{false, true, true}[:len(in)], func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				return c.build(n, false)
			})
		})
	}
}

// naiveConvTranspose is the definition: every input element, times each
// kernel tap, is added at output (i·SH − PadT + ki·DH, j·SW − PadL +
// kj·DW) when that lies in the output.
func naiveConvTranspose(x, w, b []float64, c convTransposeCase) ([]float64, []int) {
	xs, ws, win := c.x, c.w, c.win
	n, ch, h, wd := xs[0], xs[1], 1, xs[len(xs)-1]
	if len(xs) == 4 {
		h = xs[2]
	}
	f := ws[1]
	oh, ow := transposed{win: win, outPad: c.outPad}.OutSize(h, wd)
	out := make([]float64, n*f*oh*ow)
	for s := range n {
		for o := range f {
			for i := range oh * ow {
				if b != nil {
					out[(s*f+o)*oh*ow+i] = b[o]
				}
			}
			for ci := range ch {
				for i := range h {
					for j := range wd {
						for ki := range win.KH {
							for kj := range win.KW {
								y, z := i*win.SH-win.PadT+ki*win.DH, j*win.SW-win.PadL+kj*win.DW
								if y >= 0 && y < oh && z >= 0 && z < ow {
									out[((s*f+o)*oh+y)*ow+z] += x[((s*ch+ci)*h+i)*wd+j] * w[((ci*f+o)*win.KH+ki)*win.KW+kj]
								}
							}
						}
					}
				}
			}
		}
	}
	shape := []int{n, f, oh, ow}
	if len(xs) == 3 {
		shape = []int{n, f, ow}
	}
	return out, shape
}

// TestConvTransposeMatchesDefinition checks the values in float64 and
// float32 at 1 and 3 threads and with the batch unrolled one sample at a
// time (the weight gradient then unrolls the patches again), and that the
// gradients of every run agree with those of the first.
func TestConvTransposeMatchesDefinition(t *testing.T) {
	defer compute.SetThreads(compute.Threads())
	for _, c := range convTransposeCases() {
		var first []float64
		for _, run := range []struct {
			dt      tensor.Dtype
			threads int
			chunks  bool
		}{{tensor.Float64, 1, false}, {tensor.Float32, 1, false}, {tensor.Float32, 3, false}, {tensor.Float64, 3, true}, {tensor.Float32, 1, true}} {
			t.Run(fmt.Sprintf("%s/%v/threads%d/chunks=%v", c.name, run.dt, run.threads, run.chunks), func(t *testing.T) {
				compute.SetThreads(run.threads)
				if run.chunks {
					defer func(b int) { colBudget = b }(colBudget)
					colBudget = 1 // one sample at a time
				}
				in, _ := c.inputs(rand.New(rand.NewPCG(105, 106)))
				var bv []float64
				if c.bias {
					bv = in[2].Data().([]float64)
				}
				want, shape := naiveConvTranspose(in[0].Data().([]float64), in[1].Data().([]float64), bv, c)
				got := runStack(t, run.dt, in, 0, func(n []*G.Node) (*G.Node, error) {
					y, err := c.build(n, true)
					if err == nil && !y.Shape().Eq(tensor.Shape(shape)) {
						err = fmt.Errorf("shape %v, want %v", y.Shape(), shape)
					}
					return y, err
				})
				tol := 1e-12
				if run.dt == tensor.Float32 {
					tol = 1e-5
				}
				for i, v := range want {
					if math.Abs(got[1+i]-v) > tol*max(1, math.Abs(v)) {
						t.Fatalf("out[%d] = %v, want %v", i, got[1+i], v)
					}
				}
				if first == nil {
					first = got
				}
				for i, v := range first {
					if math.Abs(got[i]-v) > tol*max(1, math.Abs(v)) {
						t.Fatalf("value %d (cost, output, gradients) = %v, %v in the first run", i, got[i], v)
					}
				}
			})
		}
	}
}

// TestConvTransposeIsTheAdjointOfConv: ⟨convᵀ(x), y⟩ = ⟨x, conv(y)⟩ for
// the convolution with the same window and kernels (F = the transposed
// op's input channels), the identity that makes each the other's
// input gradient.
func TestConvTransposeIsTheAdjointOfConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(107, 108))
	win := win2D(3, 2, 1, 1)
	x, w := randTensor(rng, 2, 3, 4, 4), randTensor(rng, 3, 2, 3, 3)
	up, _ := runWithGrads(t, []*tensor.Dense{x, w}, func(n []*G.Node) (*G.Node, error) {
		return ConvTranspose(n[0], n[1], nil, win, [2]int{1, 1}, true)
	})
	y := randTensor(rng, 2, 2, 8, 8)
	down, _ := runWithGrads(t, []*tensor.Dense{y, w}, func(n []*G.Node) (*G.Node, error) {
		return Conv(n[0], n[1], nil, win, true)
	})
	var a, b float64
	for i, v := range y.Data().([]float64) {
		a += up[i] * v
	}
	for i, v := range x.Data().([]float64) {
		b += down[i] * v
	}
	if math.Abs(a-b) > 1e-12*max(1, math.Abs(a)) {
		t.Fatalf("⟨convᵀ(x), y⟩ = %v, ⟨x, conv(y)⟩ = %v", a, b)
	}
}

func TestConvTransposeActGradient(t *testing.T) {
	c := convTransposeCases()[2]
	for _, name := range []string{"relu", "sigmoid", "tanh", "elu"} {
		t.Run(name, func(t *testing.T) {
			in, names := c.inputs(rand.New(rand.NewPCG(109, 110)))
			checkAll(t, names, in, []bool{true, true, true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				return ConvTransposeAct(n[0], n[1], n[2], c.win, c.outPad, name, 0, true)
			})
		})
	}
}

// The fused activation computes the same float32 values and gradients as
// the transposed convolution followed by Activate.
func TestConvTransposeFusedMatchesUnfused(t *testing.T) {
	c := convTransposeCases()[7]
	for _, name := range []string{"relu", "sigmoid", "tanh"} {
		t.Run(name, func(t *testing.T) {
			in, _ := c.inputs(rand.New(rand.NewPCG(111, 112)))
			fused := runStack(t, tensor.Float32, in, 0, func(n []*G.Node) (*G.Node, error) {
				return ConvTransposeAct(n[0], n[1], n[2], c.win, c.outPad, name, 0, true)
			})
			plain := runStack(t, tensor.Float32, in, 0, func(n []*G.Node) (*G.Node, error) {
				y, err := ConvTranspose(n[0], n[1], n[2], c.win, c.outPad, true)
				if err != nil {
					return nil, err
				}
				return Activate(y, name, 0)
			})
			for i := range plain {
				if fused[i] != plain[i] {
					t.Fatalf("value %d: fused %v, unfused %v", i, fused[i], plain[i])
				}
			}
		})
	}
}

func TestConvTransposeMatchesPyTorch(t *testing.T) {
	cases := loadTorchCases(t)
	tests := []struct {
		name   string
		inputs []*tensor.Dense
		win    Window
		outPad [2]int
	}{
		{"conv_transpose2d_stride2x3_pad1x0_outpad1x2_dil2x1",
			[]*tensor.Dense{seqTensor([]int{2, 3, 4, 5}, 1.8, 0.33, 1), seqTensor([]int{3, 2, 3, 2}, 1.9, 0.27, 0.5), seqTensor([]int{2}, 2.0, 1.3, 1)},
			Window{KH: 3, KW: 2, SH: 2, SW: 3, DH: 2, DW: 1, PadT: 1, PadB: 1}, [2]int{1, 2}},
		{"conv_transpose2d_k3_nobias",
			[]*tensor.Dense{seqTensor([]int{1, 2, 3, 4}, 2.1, 0.39, 1), seqTensor([]int{2, 3, 3, 3}, 2.2, 0.21, 0.5)},
			win2D(3, 1, 1, 0), [2]int{}},
		{"conv_transpose1d_stride2_pad1",
			[]*tensor.Dense{seqTensor([]int{2, 2, 6}, 2.3, 0.43, 1), seqTensor([]int{2, 3, 4}, 2.4, 0.17, 0.5), seqTensor([]int{3}, 2.5, 0.7, 1)},
			win1D(4, 2, 1, 1), [2]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := cases[tc.name]
			if !ok {
				t.Fatalf("no case %s in testdata/torch_ref.json", tc.name)
			}
			out, grads := runWithGrads(t, tc.inputs, func(n []*G.Node) (*G.Node, error) {
				var b *G.Node
				if len(n) == 3 {
					b = n[2]
				}
				y, err := ConvTranspose(n[0], n[1], b, tc.win, tc.outPad, true)
				if err == nil && fmt.Sprint([]int(y.Shape())) != fmt.Sprint(want.OutShape) {
					err = fmt.Errorf("shape %v, PyTorch %v", y.Shape(), want.OutShape)
				}
				return y, err
			})
			near(t, "out", out, want.Out)
			msg := fmt.Sprintf("max |error| vs PyTorch: out %.3g", maxAbsDiff(out, want.Out))
			for i, g := range grads {
				near(t, []string{"grad x", "grad w", "grad b"}[i], g, want.Grads[i])
				msg += fmt.Sprintf(", %s %.3g", []string{"grad x", "grad w", "grad b"}[i], maxAbsDiff(g, want.Grads[i]))
			}
			t.Log(msg)
		})
	}
}

func TestConvTransposeShapeErrors(t *testing.T) {
	tests := []struct {
		name   string
		x, w   []int
		win    Window
		outPad [2]int
		want   string
	}{
		{"output padding at the stride", []int{1, 1, 3, 3}, []int{1, 2, 3, 3}, win2D(3, 2, 1, 0), [2]int{2, 0},
			"output padding 2 must be >= 0 and smaller than the stride 2 or the dilation 1"},
		{"channels differ", []int{1, 2, 3, 3}, []int{3, 2, 3, 3}, win2D(3, 1, 1, 0), [2]int{}, "take 3 channels"},
		{"empty output", []int{1, 1, 1, 1}, []int{1, 1, 1, 1}, win2D(1, 1, 1, 1), [2]int{}, "the output of (1, 1, 1, 1) would be -1×-1"},
		{"window differs", []int{1, 1, 3, 3}, []int{1, 1, 2, 2}, win2D(3, 1, 1, 0), [2]int{}, "do not match the window 3×3"},
		{"1-D with height padding", []int{1, 1, 5}, []int{1, 1, 3}, win1D(3, 1, 1, 0), [2]int{1, 0}, "a 1-D input (1, 1, 5) needs a 1-D window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float64, len(tc.x), G.WithShape(tc.x...), G.WithName("x"))
			w := G.NewTensor(g, tensor.Float64, len(tc.w), G.WithShape(tc.w...), G.WithName("w"))
			_, err := ConvTranspose(x, w, nil, tc.win, tc.outPad, true)
			if err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// convTransposeModel is the decoder step of a convolutional autoencoder
// in float32: 2×2 kernels with stride 2 from 16 to 8 channels, 7×7 to
// 14×14 on a batch of 64, relu fused, and its three gradients.
func convTransposeModel(tb testing.TB) *Machine {
	rng := rand.New(rand.NewPCG(3, 4))
	g := G.NewGraph()
	node := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(randF32(rng, shape...)))
	}
	x, w, b := node("x", 64, 16, 7, 7), node("w", 16, 8, 2, 2), node("b", 8)
	y, err := ConvTransposeAct(x, w, b, win2D(2, 2, 1, 0), [2]int{}, "relu", 0, true)
	if err != nil {
		tb.Fatal(err)
	}
	r := node("r", y.Shape()...)
	cost, err := WeightedSum(y, r)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := G.Grad(cost, x, w, b); err != nil {
		tb.Fatal(err)
	}
	m, err := NewMachine(g)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestConvTransposeDoesNotAllocate(t *testing.T) {
	m := convTransposeModel(t)
	must(t, m.RunAll())
	if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// BenchmarkConvTranspose times convTransposeModel's step: forward, and
// the gradients of input, kernels and bias.
func BenchmarkConvTranspose(b *testing.B) {
	m := convTransposeModel(b)
	if err := m.RunAll(); err != nil { // warm: buffers allocated
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
}
