package augment

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// blocks parses an experiment whose augment list is list (YAML flow
// syntax) and returns the list.
func blocks(t *testing.T, list string) []config.Block {
	t.Helper()
	yaml := "name: t\ndata: {source: builtin:digits}\naugment: " + list +
		"\nmodel: {layers: [{type: dense, units: 10}]}\n"
	exp, err := config.Parse("test.yaml", []byte(yaml), nil, nil, Validate)
	if err != nil {
		t.Fatal(err)
	}
	return exp.Augment
}

// pipeline builds the pipeline of list for samples of shape.
func pipeline(t *testing.T, list string, shape []int, seed uint64) *Pipeline {
	t.Helper()
	p, ps := New(blocks(t, list), Input{Shape: shape}, seed)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return p
}

// ramp returns n samples of size values: sample i holds 100i+1, 100i+2, ...
func ramp(n, size int) []float32 {
	x := make([]float32, n*size)
	for i := range n {
		for j := range size {
			x[i*size+j] = float32(100*i + j + 1)
		}
	}
	return x
}

func TestFlipMirrors(t *testing.T) {
	// One sample of 2 channels, 2×3 pixels.
	in := []float32{
		1, 2, 3,
		4, 5, 6,

		7, 8, 9,
		10, 11, 12,
	}
	cases := []struct {
		name, list string
		want       []float32
	}{
		{"horizontal", "[{kind: flip, p: 1}]", []float32{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}},
		{"vertical", "[{kind: flip, p: 1, vertical: true}]", []float32{4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9}},
		{"never", "[{kind: flip, p: 0}]", in},
		{"twice", "[{kind: flip, p: 1}, {kind: flip, p: 1}]", in},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := slices.Clone(in)
			pipeline(t, c.list, []int{2, 2, 3}, 1).Apply32(x, 1, 0, 0, NewSource())
			if !slices.Equal(x, c.want) {
				t.Errorf("got %v, want %v", x, c.want)
			}
		})
	}
}

// TestFlipChoosesPerSample: with p = 0.5 each sample is either unchanged
// or mirrored, about half of them mirrored.
func TestFlipChoosesPerSample(t *testing.T) {
	const n, w = 2000, 4
	x := ramp(n, w)
	orig := slices.Clone(x)
	pipeline(t, "[flip]", []int{1, 1, w}, 7).Apply32(x, n, 3, 5, NewSource())
	flipped := 0
	for i := range n {
		got, o := x[i*w:(i+1)*w], orig[i*w:(i+1)*w]
		mirror := slices.Clone(o)
		slices.Reverse(mirror)
		switch {
		case slices.Equal(got, o):
		case slices.Equal(got, mirror):
			flipped++
		default:
			t.Fatalf("sample %d: %v is neither %v nor its mirror", i, got, o)
		}
	}
	if f := float64(flipped) / n; math.Abs(f-0.5) > 0.05 {
		t.Errorf("%.3f of the samples flipped, want about 0.5", f)
	}
}

func TestTranslateMovesAndZeroFills(t *testing.T) {
	in := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	cases := []struct {
		dy, dx int
		want   []float32
	}{
		{0, 0, in},
		{1, 0, []float32{0, 0, 0, 1, 2, 3, 4, 5, 6}},
		{-1, 0, []float32{4, 5, 6, 7, 8, 9, 0, 0, 0}},
		{0, 1, []float32{0, 1, 2, 0, 4, 5, 0, 7, 8}},
		{0, -1, []float32{2, 3, 0, 5, 6, 0, 8, 9, 0}},
		{1, 1, []float32{0, 0, 0, 0, 1, 2, 0, 4, 5}},
		{-2, -1, []float32{8, 9, 0, 0, 0, 0, 0, 0, 0}},
		{2, -2, []float32{0, 0, 0, 0, 0, 0, 3, 0, 0}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("dy=%d,dx=%d", c.dy, c.dx), func(t *testing.T) {
			x := slices.Clone(in)
			translate(x, 3, 3, c.dy, c.dx)
			if !slices.Equal(x, c.want) {
				t.Errorf("got %v, want %v", x, c.want)
			}
		})
	}
}

// TestShiftDrawsEveryOffset: each sample (both channels alike) is its
// original translated by some (dy, dx) within max_pixels, and every such
// offset occurs.
func TestShiftDrawsEveryOffset(t *testing.T) {
	const n, c, h, w, m = 500, 2, 4, 5, 1
	size := c * h * w
	x := ramp(n, size)
	orig := slices.Clone(x)
	pipeline(t, "[{kind: shift, max_pixels: 1}]", []int{c, h, w}, 11).Apply32(x, n, 0, 2, NewSource())
	seen := map[[2]int]int{}
	for i := range n {
		got := x[i*size : (i+1)*size]
		found := false
		for dy := -m; dy <= m && !found; dy++ {
			for dx := -m; dx <= m && !found; dx++ {
				want := slices.Clone(orig[i*size : (i+1)*size])
				for ch := range c {
					translate(want[ch*h*w:(ch+1)*h*w], h, w, dy, dx)
				}
				if slices.Equal(got, want) {
					found = true
					seen[[2]int{dy, dx}]++
				}
			}
		}
		if !found {
			t.Fatalf("sample %d is no shift of its original within %d pixels: %v", i, m, got)
		}
	}
	if len(seen) != 9 {
		t.Errorf("offsets drawn: %v, want all 9", seen)
	}
}

// TestNoiseMoments: the noise added has mean 0 and the configured
// standard deviation (within 4 standard errors over 200,000 values).
func TestNoiseMoments(t *testing.T) {
	const n, size, std = 2000, 100, 0.3
	x := make([]float64, n*size)
	pipeline(t, "[{kind: noise, std: 0.3}]", []int{size}, 5).Apply64(x, n, 1, 0, NewSource())
	var sum, sq float64
	for _, v := range x {
		sum += v
		sq += v * v
	}
	N := float64(len(x))
	mean := sum / N
	sd := math.Sqrt(sq/N - mean*mean)
	if math.Abs(mean) > 4*std/math.Sqrt(N) {
		t.Errorf("mean %v, want 0 ± %v", mean, 4*std/math.Sqrt(N))
	}
	if se := std / math.Sqrt(2*N); math.Abs(sd-std) > 4*se {
		t.Errorf("std %v, want %v ± %v", sd, std, 4*se)
	}
}

// TestSameBatchSameDraws: a mini-batch's augmentation depends only on
// (seed, epoch, index): the same in any order and with any source, in
// float32 and float64 alike; another place or seed draws otherwise.
func TestSameBatchSameDraws(t *testing.T) {
	const list = "[flip, {kind: shift, max_pixels: 2}, {kind: noise, std: 0.1}]"
	shape := []int{1, 6, 6}
	run := func(seed uint64, epoch, index int) []float32 {
		x := ramp(8, 36)
		pipeline(t, list, shape, seed).Apply32(x, 8, epoch, index, NewSource())
		return x
	}
	a := run(1, 2, 3)
	src := NewSource()
	p := pipeline(t, list, shape, 1)
	p.Apply32(ramp(8, 36), 8, 0, 0, src) // the source's earlier use does not matter
	b := ramp(8, 36)
	p.Apply32(b, 8, 2, 3, src)
	if !slices.Equal(a, b) {
		t.Error("the same mini-batch was augmented differently")
	}
	x64 := make([]float64, 8*36)
	for i, v := range ramp(8, 36) {
		x64[i] = float64(v)
	}
	p.Apply64(x64, 8, 2, 3, NewSource())
	for i := range x64 {
		if math.Abs(x64[i]-float64(a[i])) > 1e-4 {
			t.Fatalf("value %d: %v in float64, %v in float32", i, x64[i], a[i])
		}
	}
	for name, other := range map[string][]float32{"epoch": run(1, 3, 3), "index": run(1, 2, 4), "seed": run(2, 2, 3)} {
		if slices.Equal(a, other) {
			t.Errorf("another %s drew the same augmentation", name)
		}
	}
}

// TestBadOptionsAreConfigErrors: every problem of an augment list is
// reported by config loading, each at its key.
func TestBadOptionsAreConfigErrors(t *testing.T) {
	cases := []struct{ list, key, msg string }{
		{"[{kind: flip, p: 1.5}]", "augment[0].p", "must be in [0, 1]"},
		{"[{kind: flip, vertcal: true}]", "augment[0].vertcal", `did you mean "vertical"`},
		{"[{kind: flip, vertical: maybe}]", "augment[0].vertical", ""},
		{"[shift]", "augment[0].max_pixels", "required"},
		{"[{kind: shift, max_pixels: 0}]", "augment[0].max_pixels", "must be >= 1"},
		{"[{kind: shift, max_pixels: 1.5}]", "augment[0].max_pixels", ""},
		{"[noise]", "augment[0].std", "required"},
		{"[flip, {kind: noise, std: 0}]", "augment[1].std", "must be > 0"},
		{"[{kind: crop}]", "augment[0].kind", "known: flip, jitter, noise, scaling, shift, time_warp, token_dropout, token_replace"},
		{"[{kind: token_dropout, p: 2}]", "augment[0].p", "must be in [0, 1]"},
		{"[{kind: token_dropout, id: -1}]", "augment[0].id", "must be a token id >= 0"},
		{"[{kind: token_replace, p: -0.1}]", "augment[0].p", "must be in [0, 1]"},
		{"[scaling]", "augment[0].std", "required"},
		{"[{kind: time_warp, sigma: 0}]", "augment[0].sigma", "must be > 0"},
		{"[{kind: time_warp, knots: 0}]", "augment[0].knots", "must be >= 1"},
		{"[{kind: jitter, std: -1}]", "augment[0].std", "must be > 0"},
		{"[{p: 0.3}]", "augment[0].kind", "is required"},
	}
	for _, c := range cases {
		t.Run(c.list, func(t *testing.T) {
			yaml := "name: t\ndata: {source: builtin:digits}\naugment: " + c.list + "\nmodel: {layers: [{type: dense, units: 10}]}\n"
			_, err := config.Parse("test.yaml", []byte(yaml), nil, nil, Validate)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("got %v, want a config error", err)
			}
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != c.key || !strings.Contains(ps[0].Msg, c.msg) {
				t.Errorf("got %v, want one problem at %s saying %q", err, c.key, c.msg)
			}
		})
	}
}

// TestShapeProblems: ops that need images refuse other samples, naming
// their block and the shape.
func TestShapeProblems(t *testing.T) {
	cases := []struct {
		list  string
		in    Input
		key   string
		shape string
	}{
		{"[flip]", Input{Shape: []int{64}}, "augment[0]", "[64]"},
		{"[{kind: noise, std: 1}, {kind: shift, max_pixels: 1}]", Input{Shape: []int{8, 8}}, "augment[1]", "[8, 8]"},
		{"[{kind: shift, max_pixels: 8}]", Input{Shape: []int{1, 8, 8}}, "augment[0]", "8×8"},
		{"[{kind: noise, std: 1}]", Input{Shape: []int{20}, Tokens: true}, "augment[0]", "tokens"},
	}
	for _, c := range cases {
		t.Run(c.list, func(t *testing.T) {
			p, ps := New(blocks(t, c.list), c.in, 1)
			if p != nil || len(ps) != 1 || ps[0].Key != c.key || !strings.Contains(ps[0].Msg, c.shape) {
				t.Errorf("got %v, want one problem at %s naming %s", ps, c.key, c.shape)
			}
			if !errors.Is(ps.Err(), config.ErrInvalid) {
				t.Error("not a config error")
			}
		})
	}
	if p, ps := New(nil, Input{Shape: []int{3}}, 1); p != nil || ps != nil {
		t.Errorf("an empty list gave %v, %v; want no pipeline", p, ps)
	}
}
