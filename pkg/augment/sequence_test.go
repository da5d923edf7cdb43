package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// seqPipeline builds list for samples described by in.
func seqPipeline(t *testing.T, list string, in Input, seed uint64) *Pipeline {
	t.Helper()
	p, ps := New(blocks(t, list), in, seed)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return p
}

// ids returns n sequences of T token ids in [1, v).
func ids(n, steps, v int) []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*steps)
	for i := range x {
		x[i] = float32(1 + rng.IntN(v-1))
	}
	return x
}

// TestTokenDropoutAndReplace: about p of the tokens change; dropout sets
// them to its id (0, <unk>, by default), replacement to ids drawn
// uniformly from 1..V−1; one-hot samples stay one-hot.
func TestTokenDropoutAndReplace(t *testing.T) {
	const n, steps, v, p = 400, 25, 11, 0.2
	in := Input{Shape: []int{steps}, Tokens: true, Vocab: v}
	for _, c := range []struct {
		list string
		to   func(float32) bool // what a changed token may become
	}{
		{"[{kind: token_dropout, p: 0.2}]", func(x float32) bool { return x == 0 }},
		{"[{kind: token_dropout, p: 0.2, id: 7}]", func(x float32) bool { return x == 7 }},
		{"[{kind: token_replace, p: 0.2}]", func(x float32) bool { return x >= 1 && x < v && x == float32(int(x)) }},
	} {
		t.Run(c.list, func(t *testing.T) {
			orig := ids(n, steps, v)
			x := slices.Clone(orig)
			seqPipeline(t, c.list, in, 5).Apply32(x, n, 1, 2, NewSource())
			changed, seen := 0, map[float32]bool{}
			for i := range x {
				if x[i] != orig[i] {
					changed++
					if !c.to(x[i]) {
						t.Fatalf("token %d became %v", i, x[i])
					}
					seen[x[i]] = true
				}
			}
			// A replacement may draw the token's own id, and a token may
			// already be the dropout id 7 (1 in 10 of each here): then
			// it does not show as changed.
			want := p * n * steps
			if c.list != "[{kind: token_dropout, p: 0.2}]" { // the default id 0 is never an input here
				want *= 1 - 1.0/(v-1)
			}
			if strings.Contains(c.list, "replace") {
				if len(seen) != v-1 {
					t.Errorf("replacements drew %d distinct ids, want all %d of 1..%d", len(seen), v-1, v-1)
				}
			}
			if math.Abs(float64(changed)-want) > 4*math.Sqrt(want) {
				t.Errorf("%d tokens changed, want about %.0f", changed, want)
			}
		})
	}
	t.Run("one-hot", func(t *testing.T) {
		x := make([]float32, 50*steps*v)
		for i := range 50 * steps {
			x[i*v+1+i%(v-1)] = 1
		}
		seqPipeline(t, "[{kind: token_replace, p: 0.5}]", Input{Shape: []int{steps, v}, Tokens: true}, 5).Apply32(x, 50, 0, 0, NewSource())
		for i := range 50 * steps {
			row := x[i*v : (i+1)*v]
			var sum float32
			for _, y := range row {
				sum += y
			}
			if sum != 1 || slices.Max(row) != 1 || row[0] != 0 {
				t.Fatalf("row %d is %v, not a one-hot token other than <unk>", i, row)
			}
		}
	})
}

// TestScalingAndJitterMoments: scaling multiplies each window by one
// factor of mean 1 and standard deviation std; jitter is noise, value by
// value, with the same draws as noise.
func TestScalingAndJitterMoments(t *testing.T) {
	const n, steps, f = 4000, 6, 2
	in := Input{Shape: []int{steps, f}}
	x := make([]float32, n*steps*f)
	for i := range x {
		x[i] = float32(1 + i%(steps*f))
	}
	orig := slices.Clone(x)
	seqPipeline(t, "[{kind: scaling, std: 0.1}]", in, 9).Apply32(x, n, 0, 0, NewSource())
	var sum, sq float64
	for i := range n {
		k := float64(x[i*steps*f] / orig[i*steps*f])
		for j := range steps * f {
			if d := float64(x[i*steps*f+j]) - k*float64(orig[i*steps*f+j]); math.Abs(d) > 1e-4*math.Abs(float64(x[i*steps*f+j]))+1e-6 {
				t.Fatalf("window %d: value %d not scaled by the window's factor %v", i, j, k)
			}
		}
		sum += k
		sq += (k - 1) * (k - 1)
	}
	if m, s := sum/n, math.Sqrt(sq/n); math.Abs(m-1) > 0.01 || math.Abs(s-0.1) > 0.01 {
		t.Errorf("factors: mean %.4f, standard deviation %.4f; want 1 and 0.1", m, s)
	}
	a, b := slices.Clone(orig), slices.Clone(orig)
	seqPipeline(t, "[{kind: jitter, std: 0.3}]", in, 9).Apply32(a, n, 1, 1, NewSource())
	seqPipeline(t, "[{kind: noise, std: 0.3}]", in, 9).Apply32(b, n, 1, 1, NewSource())
	if !slices.Equal(a, b) {
		t.Error("jitter differs from noise with the same seed")
	}
}

// TestTimeWarp: the first and last steps stay, a straight line stays a
// straight line (time is resampled, values interpolated on it), a
// constant window is unchanged, warps differ per window and the values
// of a rising window keep rising (time never runs back).
func TestTimeWarp(t *testing.T) {
	const n, steps = 300, 20
	in := Input{Shape: []int{steps, 2}}
	x := make([]float32, n*steps*2)
	for i := range n {
		for s := range steps {
			x[(i*steps+s)*2] = float32(s * s) // rising, curved
			x[(i*steps+s)*2+1] = 3            // constant
		}
	}
	seqPipeline(t, "[{kind: time_warp, sigma: 0.3, knots: 3}]", in, 2).Apply32(x, n, 0, 0, NewSource())
	moved := 0
	for i := range n {
		w := x[i*steps*2 : (i+1)*steps*2]
		if w[0] != 0 || w[(steps-1)*2] != float32((steps-1)*(steps-1)) {
			t.Fatalf("window %d: ends moved: %v … %v", i, w[0], w[(steps-1)*2])
		}
		for s := range steps {
			if w[s*2+1] != 3 {
				t.Fatalf("window %d: the constant column became %v", i, w[s*2+1])
			}
			if s > 0 && !(w[s*2] > w[(s-1)*2]) {
				t.Fatalf("window %d: step %d (%v) does not rise from %v", i, s, w[s*2], w[(s-1)*2])
			}
		}
		if w[10*2] != 100 {
			moved++
		}
	}
	if moved < n*9/10 {
		t.Errorf("only %d of %d windows were warped", moved, n)
	}
	pos := make([]float64, 5)
	warpPositions(pos, []float64{1, 1, 1})
	if !slices.Equal(pos, []float64{0, 1, 2, 3, 4}) {
		t.Errorf("a constant speed warped time to %v", pos)
	}
}

// TestSequenceAugmentDeterministic: a mini-batch's draws are a function of
// (seed, epoch, index) for every sequence op, and another seed draws
// others.
func TestSequenceAugmentDeterministic(t *testing.T) {
	series := Input{Shape: []int{12, 3}}
	tokens := Input{Shape: []int{12}, Tokens: true, Vocab: 30}
	for _, c := range []struct {
		list string
		in   Input
	}{
		{"[{kind: scaling, std: 0.2}, {kind: time_warp}, {kind: jitter, std: 0.1}]", series},
		{"[{kind: token_dropout, p: 0.3}, {kind: token_replace, p: 0.3}]", tokens},
	} {
		t.Run(c.list, func(t *testing.T) {
			run := func(seed uint64, src *Source) []float32 {
				size := 1
				for _, d := range c.in.Shape {
					size *= d
				}
				x := ids(16, size, 30)
				seqPipeline(t, c.list, c.in, seed).Apply32(x, 16, 3, 1, src)
				return x
			}
			src := NewSource()
			a := run(1, src)
			if b := run(1, src); !slices.Equal(a, b) {
				t.Error("the same mini-batch was augmented differently")
			}
			if b := run(2, NewSource()); slices.Equal(a, b) {
				t.Error("another seed drew the same augmentation")
			}
		})
	}
}

// TestSequenceShapeProblems: token ops refuse measurements, series ops
// refuse tokens and samples that are not windows, naming the shape.
func TestSequenceShapeProblems(t *testing.T) {
	for _, c := range []struct {
		list string
		in   Input
		msg  string
	}{
		{"[token_dropout]", Input{Shape: []int{12, 1}}, "needs token samples"},
		{"[{kind: token_dropout, id: 40}]", Input{Shape: []int{12}, Tokens: true, Vocab: 30}, "id 40 is not in the vocabulary of 30 tokens"},
		{"[{kind: scaling, std: 0.1}]", Input{Shape: []int{12}, Tokens: true, Vocab: 30}, "needs series windows of shape [time, features]"},
		{"[token_replace]", Input{Shape: []int{12}, Tokens: true, Vocab: 30, Padded: true}, "not built for padded token ids"},
		{"[time_warp]", Input{Shape: []int{4}}, "got [4]"},
		{"[time_warp]", Input{Shape: []int{2, 1}}, "windows of 2 steps"},
	} {
		t.Run(c.list, func(t *testing.T) {
			_, ps := New(blocks(t, c.list), c.in, 1)
			if len(ps) != 1 || !strings.Contains(ps[0].Msg, c.msg) {
				t.Errorf("got %v, want a problem saying %q", ps, c.msg)
			}
		})
	}
}
