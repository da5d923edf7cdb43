package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// concatCases: label maps next to images (2-D planes), to sequences
// (1-D) and label vectors next to flat features (a dense network's input).
var concatCases = []struct {
	name string
	x, e []int
}{
	{"maps_2d", []int{2, 3, 4, 5}, []int{2, 2}},
	{"maps_1d", []int{3, 2, 6}, []int{3, 3}},
	{"flat", []int{4, 7}, []int{4, 5}},
	{"one_sample", []int{1, 1, 2, 2}, []int{1, 1}},
}

func TestConcatChannelsGradient(t *testing.T) {
	for _, c := range concatCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(97, 98))
			checkAll(t, []string{"x", "e"}, []*tensor.Dense{randTensor(rng, c.x...), randTensor(rng, c.e...)}, []bool{true, true},
				func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return ConcatChannels(n[0], n[1]) })
		})
	}
}

func TestConcatChannelsMatchesPyTorch(t *testing.T) {
	cases := loadTorchCases(t)
	tests := []struct {
		name string
		x, e *tensor.Dense
	}{
		{"concat_channels_maps_2x3x4x5_l2", seqTensor([]int{2, 3, 4, 5}, 2.6, 0.31, 1), seqTensor([]int{2, 2}, 2.7, 0.9, 1)},
		{"concat_channels_flat_3x5_l4", seqTensor([]int{3, 5}, 2.8, 0.23, 1), seqTensor([]int{3, 4}, 2.9, 0.61, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := cases[tc.name]
			if !ok {
				t.Fatalf("no case %s in testdata/torch_ref.json", tc.name)
			}
			out, grads := runWithGrads(t, []*tensor.Dense{tc.x, tc.e}, func(n []*G.Node) (*G.Node, error) {
				return ConcatChannels(n[0], n[1])
			})
			near(t, "out", out, want.Out)
			near(t, "grad x", grads[0], want.Grads[0])
			near(t, "grad e", grads[1], want.Grads[1])
			t.Logf("max |error| vs PyTorch: out %.3g, grad x %.3g, grad e %.3g", maxAbsDiff(out, want.Out),
				maxAbsDiff(grads[0], want.Grads[0]), maxAbsDiff(grads[1], want.Grads[1]))
		})
	}
}

func TestConcatChannelsShapeErrors(t *testing.T) {
	tests := []struct {
		name string
		x, e []int
		want string
	}{
		{"x without channels", []int{4}, []int{4, 2}, "want x (batch, channels, ...)"},
		{"e of another batch", []int{4, 3}, []int{5, 2}, "with x's batch 4"},
		{"e not a matrix", []int{4, 3}, []int{4}, "want e (batch, features)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float64, len(tc.x), G.WithShape(tc.x...), G.WithName("x"))
			e := G.NewTensor(g, tensor.Float64, len(tc.e), G.WithShape(tc.e...), G.WithName("e"))
			_, err := ConcatChannels(x, e)
			if err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestConcatChannelsDoesNotAllocate: a warm forward and backward step
// allocates nothing, in both dtypes.
func TestConcatChannelsDoesNotAllocate(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			m := benchGraph(t, dt, []int{8, 4, 16, 16}, func(x *G.Node) (*G.Node, error) {
				e := G.NewTensor(x.Graph(), dt, 2, G.WithShape(8, 3), G.WithName("e"), G.WithInit(G.Ones()))
				return ConcatChannels(x, e)
			})
			must(t, m.RunAll())
			if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}

// TestRandomClasses: the classes are integers in [0, k), every class
// drawn; a reseeded state draws the same classes at every run, and a
// training state new ones, without allocating once warm.
func TestRandomClasses(t *testing.T) {
	g := G.NewGraph()
	like := G.NewTensor(g, tensor.Float32, 2, G.WithShape(200, 3), G.WithName("x"), G.WithInit(G.Zeroes()))
	src := rand.NewPCG(5, 6)
	fixed := &NoiseState{RNG: rand.New(src), Reseed: func() { src.Seed(5, 6) }}
	free := &NoiseState{RNG: rand.New(rand.NewPCG(7, 8))}
	a, err := RandomClasses(like, 4, fixed)
	must(t, err)
	b, err := RandomClasses(like, 4, free)
	must(t, err)
	m, err := NewMachineFor(g, a, b)
	must(t, err)
	runOnce := func() (fa, fb []float32) {
		must(t, m.RunAll())
		defer m.Reset()
		return append([]float32(nil), a.Value().Data().([]float32)...), append([]float32(nil), b.Value().Data().([]float32)...)
	}
	a1, b1 := runOnce()
	a2, b2 := runOnce()
	seen := map[float32]int{}
	for i, v := range a1 {
		if v != float32(int(v)) || v < 0 || v >= 4 {
			t.Fatalf("class %v at %d", v, i)
		}
		seen[v]++
		if a2[i] != v {
			t.Fatalf("a reseeded draw changed at %d: %v then %v", i, v, a2[i])
		}
	}
	if len(seen) != 4 {
		t.Errorf("classes drawn: %v, want all 4", seen)
	}
	same := 0
	for i := range b1 {
		if b1[i] == b2[i] {
			same++
		}
	}
	if same > 120 {
		t.Errorf("the training stream drew the same classes twice (%d of 200 equal)", same)
	}
	if n := testing.AllocsPerRun(20, func() { _ = m.RunAll(); m.Reset() }); n > 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
	if _, err := RandomClasses(like, 0, free); err == nil {
		t.Error("0 classes: no error")
	}
}
