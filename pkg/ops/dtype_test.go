package ops

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	"gorgonia.org/tensor"
)

// TestTypedRefusesOtherDtypes checks that a kernel handed a tensor that is
// neither float32 nor float64 reports it instead of leaving its output
// unwritten.
func TestTypedRefusesOtherDtypes(t *testing.T) {
	ints := func() *tensor.Dense { return tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2})) }
	err := add{}.Forward(ints(), []*tensor.Dense{ints(), ints()})
	if err == nil || !strings.Contains(err.Error(), "int tensors are not supported") {
		t.Fatalf("error %v, want one naming the int dtype", err)
	}
}

// TestJobOf checks that jobOf picks the job of the asked instantiation.
func TestJobOf(t *testing.T) {
	var j32 bmmJob[float32]
	var j64 bmmJob[float64]
	if jobOf[bmmJob[float32]](&j32, &j64) != &j32 || jobOf[bmmJob[float64]](&j32, &j64) != &j64 {
		t.Fatal("jobOf picked the wrong job")
	}
}

// sumArg and sumOf are a DispatchValue body as callers write one: a value
// argument and a function generic over the element type.
type sumArg struct{ t *tensor.Dense }

func sumOf[T compute.Float](a sumArg) float64 {
	var s float64
	for _, v := range Floats[T](a.t) {
		s += float64(v)
	}
	return s
}

func scaleBy2[T compute.Float](t *tensor.Dense) error {
	for i := range Floats[T](t) {
		Floats[T](t)[i] *= 2
	}
	return nil
}

// TestDispatch checks that Dispatch and DispatchValue run the body of the
// tensor's element type on the tensor's own memory, refuse any other
// dtype with an error naming it, and allocate nothing.
func TestDispatch(t *testing.T) {
	cases := []struct {
		name string
		t    *tensor.Dense
		read func(*tensor.Dense) []float64
	}{
		{"float32", tensor.New(tensor.WithBacking([]float32{1, 2, 3.5})), func(t *tensor.Dense) []float64 {
			var out []float64
			for _, v := range t.Float32s() {
				out = append(out, float64(v))
			}
			return out
		}},
		{"float64", tensor.New(tensor.WithBacking([]float64{1, 2, 3.5})), func(t *tensor.Dense) []float64 { return t.Float64s() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sum, err := DispatchValue(c.t.Dtype(), sumArg{c.t}, sumOf[float32], sumOf[float64])
			if err != nil || sum != 6.5 {
				t.Fatalf("sum %v, %v; want 6.5", sum, err)
			}
			if err := Dispatch(c.t.Dtype(), c.t, scaleBy2[float32], scaleBy2[float64]); err != nil {
				t.Fatal(err)
			}
			if got := c.read(c.t); got[0] != 2 || got[1] != 4 || got[2] != 7 {
				t.Fatalf("after scaling by 2 in place: %v", got)
			}
			if n := testing.AllocsPerRun(10, func() {
				_, _ = DispatchValue(c.t.Dtype(), sumArg{c.t}, sumOf[float32], sumOf[float64])
				_ = Dispatch(c.t.Dtype(), c.t, scaleBy2[float32], scaleBy2[float64])
			}); n != 0 {
				t.Errorf("%v allocations per dispatch, want 0", n)
			}
		})
	}
	ints := tensor.New(tensor.WithBacking([]int{1, 2}))
	if _, err := DispatchValue(ints.Dtype(), sumArg{ints}, sumOf[float32], sumOf[float64]); err == nil || !strings.Contains(err.Error(), "int tensors are not supported") {
		t.Errorf("DispatchValue on ints: %v, want an error naming the int dtype", err)
	}
	if err := Dispatch(ints.Dtype(), ints, scaleBy2[float32], scaleBy2[float64]); err == nil || !strings.Contains(err.Error(), "int tensors are not supported") {
		t.Errorf("Dispatch on ints: %v, want an error naming the int dtype", err)
	}
}

// TestDispatchReturnsTheBodysError checks that Dispatch passes on what
// the body returns.
func TestDispatchReturnsTheBodysError(t *testing.T) {
	want := errors.New("body failed")
	fail := func(error) error { return want }
	if err := Dispatch(tensor.Float32, error(nil), fail, nil); err != want {
		t.Errorf("float32: %v, want the body's error", err)
	}
	if err := Dispatch(tensor.Float64, error(nil), nil, fail); err != want {
		t.Errorf("float64: %v, want the body's error", err)
	}
}

// TestFloatsSharesMemory checks that Floats reads a tensor without
// copying and refuses the wrong element type.
func TestFloatsSharesMemory(t *testing.T) {
	x := tensor.New(tensor.WithBacking([]float32{1, 2}))
	Floats[float32](x)[1] = 5
	if x.Float32s()[1] != 5 {
		t.Error("a write through Floats did not reach the tensor")
	}
	defer func() {
		if recover() == nil {
			t.Error("reading a float32 tensor as float64 did not panic")
		}
	}()
	Floats[float64](x)
}

// TestPick checks that Pick returns the value of the asked instantiation.
func TestPick(t *testing.T) {
	var a32 []float32
	var a64 []float64
	if Pick[[]float32](&a32, &a64) != &a32 || Pick[[]float64](&a32, &a64) != &a64 {
		t.Fatal("Pick picked the wrong value")
	}
}

// TestMust checks that Must and MustValue pass a result through and panic
// on an unsupported dtype.
func TestMust(t *testing.T) {
	x := tensor.New(tensor.WithBacking([]float64{1, 2}))
	if got := MustValue(DispatchValue(x.Dtype(), sumArg{x}, sumOf[float32], sumOf[float64])); got != 3 {
		t.Errorf("MustValue gave %v, want 3", got)
	}
	Must(Dispatch(x.Dtype(), x, scaleBy2[float32], scaleBy2[float64]))
	ints := tensor.New(tensor.WithBacking([]int{1, 2}))
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "internal: int tensors are not supported") {
			t.Errorf("recovered %v, want a panic naming the int dtype", r)
		}
	}()
	MustValue(DispatchValue(ints.Dtype(), sumArg{ints}, sumOf[float32], sumOf[float64]))
}
