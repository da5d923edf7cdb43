package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestParamStoreDtypes: a store makes its parameters in its dtype, with
// the initializer's values (rounded once in float32), and refuses any
// dtype but float32 and float64 with an error naming the parameter.
func TestParamStoreDtypes(t *testing.T) {
	normal := initializers["normal"]
	want := make([]float64, 6)
	normal(rand.New(rand.NewPCG(1, 2)), want, 2, 3)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			s := NewParamStore(dt)
			p, err := s.Add("d/W", Weight, []int{2, 3}, normal, 2, 3, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if p.Value.Dtype() != dt || !p.Value.Shape().Eq(tensor.Shape{2, 3}) {
				t.Fatalf("got a %v %v tensor, want %v [2 3]", p.Value.Dtype(), p.Value.Shape(), dt)
			}
			for i, got := range Float64s(p.Value) {
				w := want[i]
				if dt == tensor.Float32 {
					w = float64(float32(w))
				}
				if got != w {
					t.Errorf("value %d = %v, want %v", i, got, w)
				}
			}
			if s.FirstNonFinite() != "" {
				t.Error("finite parameters reported non-finite")
			}
		})
	}
	_, err := NewParamStore(tensor.Int).Add("d/W", Weight, []int{2}, normal, 1, 1, rand.New(rand.NewPCG(1, 2)))
	if err == nil || !strings.Contains(err.Error(), `parameter "d/W": int tensors are not supported`) {
		t.Errorf("an int store: %v, want an error naming the parameter and the dtype", err)
	}
}
