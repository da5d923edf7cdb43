package data

import "testing"

func TestOrderDependsOnlyOnSeedAndEpoch(t *testing.T) {
	a, b := Order(100, 3, 2), Order(100, 3, 2)
	if !equal(a, b) {
		t.Error("same seed and epoch, different order")
	}
	if equal(a, Order(100, 3, 3)) || equal(a, Order(100, 4, 2)) {
		t.Error("order ignores the epoch or the seed")
	}
	bs := Batches(a, 32)
	if len(bs) != 4 || len(bs[3]) != 4 {
		t.Errorf("batches of 100 by 32: %d batches, last of %d", len(bs), len(bs[len(bs)-1]))
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
