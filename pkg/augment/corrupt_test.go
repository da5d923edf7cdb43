package augment

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// corruption parses model.corrupt (YAML flow syntax) of an autoencoder
// experiment and builds it for samples of shape.
func corruption(t *testing.T, block string, shape []int, seed uint64) *Pipeline {
	t.Helper()
	yaml := "name: t\ndata: {source: builtin:digits, task: reconstruction}\nmodel: {kind: autoencoder, corrupt: " + block + "}\n"
	exp, err := config.Parse("test.yaml", []byte(yaml), nil, nil, Validate)
	if err != nil {
		t.Fatal(err)
	}
	p, ps := Corruption(exp.Model.Corrupt, Input{Shape: shape}, seed)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return p
}

// TestMaskZeroesItsRate: a mask sets about rate of the values to 0 and
// leaves the others as they were.
func TestMaskZeroesItsRate(t *testing.T) {
	const n, size, rate = 1000, 64, 0.2
	x := ramp(n, size)
	corruption(t, "{kind: mask, rate: 0.2}", []int{size}, 3).Apply32(x, n, 0, 0, NewSource())
	orig := ramp(n, size)
	zeros := 0
	for i, v := range x {
		switch v {
		case 0:
			zeros++
		case orig[i]:
		default:
			t.Fatalf("value %d changed from %v to %v", i, orig[i], v)
		}
	}
	N := float64(len(x))
	if got, se := float64(zeros)/N, math.Sqrt(rate*(1-rate)/N); math.Abs(got-rate) > 4*se {
		t.Errorf("%.4f of the values masked, want %v ± %.4f", got, rate, 4*se)
	}
}

// TestGaussianCorruptionMoments: gaussian adds noise of the given std.
func TestGaussianCorruptionMoments(t *testing.T) {
	const n, size, std = 1000, 100, 0.3
	x := make([]float64, n*size)
	corruption(t, "{kind: gaussian, std: 0.3}", []int{size}, 5).Apply64(x, n, 0, 0, NewSource())
	var sq float64
	for _, v := range x {
		sq += v * v
	}
	if sd, se := math.Sqrt(sq/float64(len(x))), std/math.Sqrt(2*float64(len(x))); math.Abs(sd-std) > 4*se {
		t.Errorf("std %v, want %v ± %v", sd, std, 4*se)
	}
}

// TestCorruptionHasItsOwnStream: the corruption of a mini-batch depends
// only on (seed, epoch, index); adding it after an augmentation leaves
// the augmentation's draws as they were, and it draws otherwise than an
// augmentation of the same kind would.
func TestCorruptionHasItsOwnStream(t *testing.T) {
	shape := []int{1, 6, 6}
	c := corruption(t, "{kind: gaussian, std: 0.5}", shape, 7)
	a, b := ramp(4, 36), ramp(4, 36)
	c.Apply32(a, 4, 2, 5, NewSource())
	src := NewSource()
	c.Apply32(ramp(4, 36), 4, 0, 0, src)
	c.Apply32(b, 4, 2, 5, src)
	if !slices.Equal(a, b) {
		t.Error("the same mini-batch was corrupted differently")
	}
	other := ramp(4, 36)
	c.Apply32(other, 4, 3, 5, NewSource())
	if slices.Equal(a, other) {
		t.Error("another epoch drew the same corruption")
	}
	noise := ramp(4, 36)
	pipeline(t, "[{kind: noise, std: 0.5}]", shape, 7).Apply32(noise, 4, 2, 5, NewSource())
	if slices.Equal(a, noise) {
		t.Error("the corruption drew from the augmentation's stream")
	}
	// flip then the corruption: the flip is the flip alone.
	flip := pipeline(t, "[flip]", shape, 7)
	alone, both := ramp(4, 36), ramp(4, 36)
	flip.Apply32(alone, 4, 2, 5, NewSource())
	c.Apply32(alone, 4, 2, 5, NewSource())
	flip.Then(c).Apply32(both, 4, 2, 5, NewSource())
	if !slices.Equal(alone, both) {
		t.Error("chained, the flip or the corruption drew otherwise than alone")
	}
	if flip.Then(nil) != flip || (*Pipeline)(nil).Then(c) != c {
		t.Error("Then with nil is not the other pipeline")
	}
}

// TestCorruptionProblems: an unknown kind lists the known ones; bad
// options name their key; augment is refused in a reconstruction task.
func TestCorruptionProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown kind", "model: {kind: autoencoder, corrupt: {kind: salt}}", []string{`model.corrupt.kind: unknown corruption "salt"; known: gaussian, mask`}},
		{"no kind", "model: {kind: autoencoder, corrupt: {std: 0.1}}", []string{"model.corrupt.kind: is required; known: gaussian, mask"}},
		{"no std", "model: {kind: autoencoder, corrupt: {kind: gaussian}}", []string{"model.corrupt.std: required"}},
		{"rate", "model: {kind: autoencoder, corrupt: {kind: mask, rate: 1.5}}", []string{"model.corrupt.rate: must be in (0, 1), got 1.5"}},
		{"other option", "model: {kind: autoencoder, corrupt: {kind: mask, rate: 0.1, std: 1}}", []string{"model.corrupt.std: unknown option for mask"}},
		{"augment", "augment: [flip]\nmodel: {kind: autoencoder}", []string{"augment: transforms the inputs only", "set model.corrupt instead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "name: t\ndata: {source: builtin:digits, task: reconstruction}\n" + tc.yaml + "\n"
			_, err := config.Parse("test.yaml", []byte(yaml), nil, nil, Validate)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not hold %q", err, w)
				}
			}
		})
	}
	if p, ps := Corruption(config.Block{}, Input{Shape: []int{4}}, 1); p != nil || len(ps) > 0 {
		t.Errorf("no corruption: %v, %v", p, ps)
	}
	if _, ps := Corruption(config.Block{Kind: "mask", Opts: map[string]any{"rate": 0.1}, Path: "model.corrupt"}, Input{Shape: []int{4}, Tokens: true}, 1); len(ps) != 1 ||
		!strings.Contains(ps.Error(), "tokens") {
		t.Errorf("tokens: %v", ps)
	}
}
