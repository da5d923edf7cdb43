package ops

import (
	"strings"
	"testing"

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
