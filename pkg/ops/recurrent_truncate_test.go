package ops

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torch_ref_tbptt.py's sizes.
const tbB, tbT, tbF, tbH = 2, 5, 3, 4

// buildTruncated applies Recurrent with every direction truncated to k
// steps (0: full BPTT), and RecurrentLast when last.
func buildTruncated(cell Cell, reverse []bool, k int, last bool) func(n []*G.Node) (*G.Node, error) {
	return func(n []*G.Node) (*G.Node, error) {
		dirs := make([]RecurrentWeights, len(reverse))
		for i, r := range reverse {
			w := n[1+4*i:]
			dirs[i] = RecurrentWeights{IH: w[0], HH: w[1], BiasIH: w[2], BiasHH: w[3], Reverse: r, Truncate: k}
		}
		h, err := Recurrent(n[0], cell, true, dirs...)
		if err != nil || !last {
			return h, err
		}
		return RecurrentLast(h, reverse...)
	}
}

// tbInputs are torch_ref_tbptt.py's x and weights: direction i's with
// phase i.
func tbInputs(cell Cell, dirs int) []*tensor.Dense {
	g := cell.Gates()
	in := []*tensor.Dense{seqTensor([]int{tbB, tbT, tbF}, 0.2, 0.41, 1.5)}
	for i := range dirs {
		p := float64(i)
		in = append(in,
			seqTensor([]int{g * tbH, tbF}, p+0.1, 0.37, 0.6),
			seqTensor([]int{g * tbH, tbH}, p+0.2, 0.53, 0.5),
			seqTensor([]int{g * tbH}, p+0.3, 0.71, 0.4),
			seqTensor([]int{g * tbH}, p+0.4, 0.29, 0.4))
	}
	return in
}

func allTrue(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}

// TestRecurrentTruncatedMatchesTorch compares truncated BPTT with PyTorch
// 1.13's detach-every-K-steps loop (torch_ref_tbptt.py) for the tanh RNN,
// LSTM and GRU, forward, reverse, bidirectional and last states, K = 1, 2
// and 3 over T = 5 (3 leaves a short last chunk): outputs and the
// gradients of x and every weight, float64 to 1e-12, float32 to 2e-5.
func TestRecurrentTruncatedMatchesTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_ref_tbptt.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) != 36 {
		t.Fatalf("%d cases in torch_ref_tbptt.json, want 36", len(f.Cases))
	}
	for _, c := range f.Cases {
		name, ks, _ := strings.Cut(c.Name, "_k")
		k, _ := strconv.Atoi(ks)
		name, last := strings.CutSuffix(name, "_last")
		reverse := []bool{false}
		if base, ok := strings.CutSuffix(name, "_reverse"); ok {
			name, reverse = base, []bool{true}
		} else if base, ok := strings.CutSuffix(name, "_bidirectional"); ok {
			name, reverse = base, []bool{false, true}
		}
		cell := rnnCells[name]
		in := tbInputs(cell, len(reverse))
		for _, tc := range []struct {
			dt  tensor.Dtype
			tol float64
		}{{tensor.Float64, 1e-12}, {tensor.Float32, 2e-5}} {
			t.Run(c.Name+"/"+tc.dt.String(), func(t *testing.T) {
				out, grads := runWithGradsOf(t, tc.dt, in, allTrue(len(in)), buildTruncated(cell, reverse, k, last))
				worst := maxDiff(out, c.Out)
				if worst > tc.tol {
					t.Errorf("output differs from PyTorch by %.3g", worst)
				}
				for i, g := range grads {
					d := maxDiff(g, c.Grads[i])
					if d > tc.tol {
						t.Errorf("gradient of input %d differs from PyTorch by %.3g", i, d)
					}
					worst = max(worst, d)
				}
				t.Logf("largest difference from PyTorch: %.3g", worst)
			})
		}
	}
}

// TestRecurrentTruncateOfTOrMoreIsFull: truncation to K ≥ T steps cuts
// nothing, so outputs and gradients are bit for bit those of full BPTT;
// for every K the forward pass is unchanged, and K < T changes the
// gradient of weight_hh (else the option would do nothing).
func TestRecurrentTruncateOfTOrMoreIsFull(t *testing.T) {
	for _, name := range []string{"rnn_tanh", "rnn_relu", "lstm", "gru"} {
		cell := rnnCells[name]
		for _, reverse := range [][]bool{{false}, {true}, {false, true}} {
			in := tbInputs(cell, len(reverse))
			wrt := allTrue(len(in))
			t.Run(name+"/"+strconv.Itoa(len(reverse))+strconv.FormatBool(reverse[0]), func(t *testing.T) {
				full, fullG := runWithGradsOf(t, tensor.Float64, in, wrt, buildTruncated(cell, reverse, 0, false))
				for _, k := range []int{1, 2, tbT - 1, tbT, tbT + 3} {
					out, g := runWithGradsOf(t, tensor.Float64, in, wrt, buildTruncated(cell, reverse, k, false))
					if !slices.Equal(out, full) {
						t.Errorf("K=%d: the forward pass changed", k)
					}
					same := slices.Equal(g[2], fullG[2])
					if k >= tbT {
						for i := range g {
							if !slices.Equal(g[i], fullG[i]) {
								t.Errorf("K=%d ≥ T: gradient of input %d differs from full BPTT", k, i)
							}
						}
					} else if same {
						t.Errorf("K=%d < T: weight_hh's gradient is full BPTT's", k)
					}
				}
			})
		}
	}
}

// TestRecurrentTruncatedGradientByHand checks the truncated gradient of a
// tanh RNN (T = 3, K = 2: chunks {0, 1} and {2}) against central finite
// differences of the truncated objective, computed here by a plain loop:
// F(W) = Σ_t r_t·h_t where chunk 2 starts from the state h_1 of the
// unperturbed weights, held fixed (the detached state), while chunk 1 is
// recomputed with the perturbed ones. ∇F at the weights is, by
// definition, the truncated gradient.
func TestRecurrentTruncatedGradientByHand(t *testing.T) {
	const b, steps, f, h, k = 2, 3, 2, 3, 2
	x := seqTensor([]int{b, steps, f}, 0.3, 0.77, 1.2)
	wih := seqTensor([]int{h, f}, 0.1, 0.41, 0.9)
	whh := seqTensor([]int{h, h}, 0.7, 0.93, 0.8)
	bih := seqTensor([]int{h}, 0.2, 0.5, 0.3)
	bhh := seqTensor([]int{h}, 0.9, 0.6, 0.3)
	in := []*tensor.Dense{x, wih, whh, bih, bhh}
	_, grads := runWithGradsOf(t, tensor.Float64, in, allTrue(len(in)), buildTruncated(CellRNNTanh, []bool{false}, k, false))
	r := data[float64](seqTensor([]int{b, steps, h}, 0.5, 0.7, 1)) // runWithGradsOf's weights of Σ out⊙r
	vals := make([][]float64, len(in))
	for i, d := range in {
		vals[i] = data[float64](d)
	}
	// forward runs the RNN; chunk starts (s % k == 0, s > 0) begin from
	// fixed[r] when it is not nil. It returns Σ r⊙h and every state.
	forward := func(fixed [][]float64) (float64, [][]float64) {
		X, Wih, Whh, Bih, Bhh := vals[0], vals[1], vals[2], vals[3], vals[4]
		var loss float64
		states := make([][]float64, b*steps)
		for bi := range b {
			prev := make([]float64, h)
			for s := range steps {
				if s > 0 && s%k == 0 && fixed != nil {
					prev = fixed[bi*steps+s-1]
				}
				cur := make([]float64, h)
				for j := range h {
					a := Bih[j] + Bhh[j]
					for i := range f {
						a += Wih[j*f+i] * X[(bi*steps+s)*f+i]
					}
					for i := range h {
						a += Whh[j*h+i] * prev[i]
					}
					cur[j] = math.Tanh(a)
					loss += r[(bi*steps+s)*h+j] * cur[j]
				}
				states[bi*steps+s] = cur
				prev = cur
			}
		}
		return loss, states
	}
	_, detached := forward(nil)
	const eps = 1e-6
	for i, v := range vals {
		for e := range v {
			old := v[e]
			v[e] = old + eps
			up, _ := forward(detached)
			v[e] = old - eps
			down, _ := forward(detached)
			v[e] = old
			want := (up - down) / (2 * eps)
			if d := math.Abs(grads[i][e] - want); d > 1e-8*max(1, math.Abs(want)) {
				t.Errorf("input %d element %d: truncated gradient %.10g, finite differences of the truncated objective %.10g", i, e, grads[i][e], want)
			}
		}
	}
}
