//go:build openblas

package openblas

import (
	"strings"
	"testing"
)

func TestControls(t *testing.T) {
	before := Threads()
	defer SetThreads(before)
	for _, n := range []int{1, 2} {
		SetThreads(n)
		if got := Threads(); got != n {
			t.Errorf("SetThreads(%d): OpenBLAS runs %d threads", n, got)
		}
	}
	if !strings.HasPrefix(Config(), "OpenBLAS") || Core() == "" {
		t.Errorf("config %q, core %q", Config(), Core())
	}
}
