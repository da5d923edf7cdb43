package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// machineGraph builds a small network whose weight w is used three times,
// so that Grad inserts Gorgonia's own additions where its gradients meet,
// next to dltrain's ops, a scalar loss and a scalar constant.
func machineGraph(t *testing.T, dt tensor.Dtype) (*G.ExprGraph, *G.Node, G.Nodes) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	val := func(shape ...int) *tensor.Dense {
		v := randTensor(rng, shape...)
		if dt == tensor.Float32 {
			return to32(v)
		}
		return v
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, dt, G.WithShape(4, 3), G.WithName("x"), G.WithValue(val(4, 3)))
	w := G.NewMatrix(g, dt, G.WithShape(3, 3), G.WithName("w"), G.WithValue(val(3, 3)))
	b := G.NewVector(g, dt, G.WithShape(3), G.WithName("b"), G.WithValue(val(3)))
	ys := labels(rng, 4, 3)
	if dt == tensor.Float32 {
		ys = to32(ys)
	}
	y := G.NewVector(g, dt, G.WithShape(4), G.WithName("y"), G.WithValue(ys))
	h, err := Linear(x, w, b, false)
	must(t, err)
	h, err = Activate(h, "tanh", 0)
	must(t, err)
	h, err = MatMul(h, w, false, true)
	must(t, err)
	h, err = Linear(h, w, b, true)
	must(t, err)
	loss, err := SoftmaxCrossEntropy(h, y)
	must(t, err)
	grads, err := G.Grad(loss, w, b)
	must(t, err)
	return g, loss, grads
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func snapshot(loss *G.Node, grads G.Nodes) []float64 {
	out := []float64{scalarValue(loss.Value())}
	for _, n := range grads {
		switch d := n.Value().(*tensor.Dense); d.Dtype() {
		case tensor.Float32:
			for _, v := range data[float32](d) {
				out = append(out, float64(v))
			}
		default:
			out = append(out, data[float64](d)...)
		}
	}
	return out
}

// TestMachineMatchesTapeMachine runs the same graph on Gorgonia's tape
// machine and on Machine, several times, and wants identical values.
func TestMachineMatchesTapeMachine(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			g, loss, grads := machineGraph(t, dt)
			tape := G.NewTapeMachine(g)
			defer tape.Close()
			must(t, tape.RunAll())
			want := snapshot(loss, grads)
			tape.Reset()
			m, err := NewMachine(g)
			must(t, err)
			for run := range 3 {
				must(t, m.RunAll())
				m.Reset()
				got := snapshot(loss, grads)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("run %d, value %d: machine %v, tape machine %v", run, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestMachineDoesNotAllocate checks that a step of a graph made of
// dltrain's ops allocates nothing once warm.
func TestMachineDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(8, 5), G.WithName("x"), G.WithValue(to32(randTensor(rng, 8, 5))))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(5, 4), G.WithName("w"), G.WithValue(to32(randTensor(rng, 5, 4))))
	b := G.NewVector(g, tensor.Float32, G.WithShape(4), G.WithName("b"), G.WithValue(to32(randTensor(rng, 4))))
	y := G.NewVector(g, tensor.Float32, G.WithShape(8), G.WithName("y"), G.WithValue(to32(labels(rng, 8, 4))))
	h, err := Linear(x, w, b, false)
	must(t, err)
	h, err = Activate(h, "relu", 0)
	must(t, err)
	loss, err := SoftmaxCrossEntropy(h, y)
	must(t, err)
	_, err = G.Grad(loss, w, b)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// TestGorgoniaOpsShareTheBLAS checks that Gorgonia's own matrix product
// runs on compute's BLAS: its result equals compute.Gemm's bit for bit.
func TestGorgoniaOpsShareTheBLAS(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	xv, wv := to32(randTensor(rng, 33, 70)), to32(randTensor(rng, 70, 40))
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(33, 70), G.WithName("x"), G.WithValue(xv))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(70, 40), G.WithName("w"), G.WithValue(wv))
	y, err := G.Mul(x, w)
	must(t, err)
	m := G.NewTapeMachine(g)
	defer m.Close()
	must(t, m.RunAll())
	want := make([]float32, 33*40)
	compute.Gemm(false, false, 33, 40, 70, 1, data[float32](xv), 70, data[float32](wv), 40, 0, want, 40)
	for i, v := range data[float32](y.Value().(*tensor.Dense)) {
		if v != want[i] {
			t.Fatalf("element %d: gorgonia %v, compute.Gemm %v", i, v, want[i])
		}
	}
}

// TestMachineForRunsOnlyWhatTheRootsNeed: with the loss as its only root a
// machine skips the gradients (and a branch nothing reads), leaving them
// without a value, and computes the loss as the full machine does.
func TestMachineForRunsOnlyWhatTheRootsNeed(t *testing.T) {
	g, loss, grads := machineGraph(t, tensor.Float64)
	dead, err := Activate(grads[1], "relu", 0) // a branch nothing depends on
	must(t, err)
	full, err := NewMachine(g)
	must(t, err)
	must(t, full.RunAll())
	want := loss.Value().Data().(float64)

	g2, loss2, grads2 := machineGraph(t, tensor.Float64)
	dead2, err := Activate(grads2[1], "relu", 0)
	must(t, err)
	m, err := NewMachineFor(g2, loss2)
	must(t, err)
	if m.Len() >= full.Len() {
		t.Fatalf("the pruned machine runs %d nodes, the full one %d", m.Len(), full.Len())
	}
	must(t, m.RunAll())
	if got := loss2.Value().Data().(float64); got != want {
		t.Errorf("loss %v, want %v", got, want)
	}
	if grads2[0].Value() != nil || dead2.Value() != nil {
		t.Error("the pruned machine computed a gradient the loss does not need")
	}
	if dead.Value() == nil {
		t.Error("the full machine skipped a node")
	}

	g3, loss3, grads3 := machineGraph(t, tensor.Float64)
	m3, err := NewMachineFor(g3, append(G.Nodes{loss3}, grads3...)...)
	must(t, err)
	if m3.Len() != full.Len()-1 {
		t.Errorf("loss and gradients as roots: %d nodes, want every node but the dead branch, %d", m3.Len(), full.Len()-1)
	}
}
