package sweep

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dltrain/dltrain/pkg/train"
)

// TestHyperbandBrackets: R = 81, η = 3 gives the table of Li et al. 2018
// (section 3.3): five brackets, n_i trials at r_i epochs per rung.
func TestHyperbandBrackets(t *testing.T) {
	want := [][]hbRung{
		{{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}},
		{{34, 3}, {11, 9}, {3, 27}, {1, 81}},
		{{15, 9}, {5, 27}, {1, 81}},
		{{8, 27}, {2, 81}},
		{{5, 81}},
	}
	bs := brackets(81, 1, 3)
	if len(bs) != len(want) {
		t.Fatalf("%d brackets, want %d", len(bs), len(want))
	}
	first := 0
	for i, b := range bs {
		if b.S != 4-i || b.First != first || !reflect.DeepEqual(b.Rungs, want[i]) {
			t.Errorf("bracket %d: s %d, first %d, rungs %v; want s %d, first %d, rungs %v", i, b.S, b.First, b.Rungs, 4-i, first, want[i])
		}
		first += want[i][0].Trials
	}
	if n := hyperbandTrials(bs); n != 143 {
		t.Errorf("%d trials, want 143", n)
	}
	if b := bracketOf(bs, 80); b.S != 4 {
		t.Errorf("trial 80 in bracket %d, want 4", b.S)
	}
	if b := bracketOf(bs, 81); b.S != 3 {
		t.Errorf("trial 81 in bracket %d, want 3", b.S)
	}
	if b := bracketOf(bs, 142); b.S != 0 {
		t.Errorf("trial 142 in bracket %d, want 0", b.S)
	}
}

// hbSweep is a hyperband sweep over the 9-epoch iris experiment: η = 3
// from 1 epoch gives brackets (9×1, 3×3, 1×9), (5×3, 1×9), (3×9).
func hbSweep(t *testing.T) *Spec {
	spec := tinySweep(t, "method: random\nseed: 5\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: hyperband, min_epochs: 1, reduction: 3}\n")
	if spec.Trials != 17 || spec.EarlyStop.MaxEpochs != 9 {
		t.Fatalf("trials %d, max_epochs %d; want 17 and 9", spec.Trials, spec.EarlyStop.MaxEpochs)
	}
	return spec
}

// checkBrackets: every rung of every bracket got exactly its n_i results,
// each trained to r_i epochs, and every claim names its trial's bracket.
func checkBrackets(t *testing.T, dir string, spec *Spec) {
	t.Helper()
	recs, err := readJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	bs := spec.hbBrackets()
	got := map[string]int{}
	for _, r := range recs {
		b := bracketOf(bs, r.Trial)
		switch r.Event {
		case "claim":
			if r.Bracket == nil || *r.Bracket != b.S {
				t.Errorf("trial %d's claim names bracket %v, want %d", r.Trial+1, r.Bracket, b.S)
			}
		case "result":
			got[fmt.Sprint(b.S, "/", r.Rung)]++
			if r.Epochs != b.Rungs[r.Rung].Epochs {
				t.Errorf("trial %d rung %d: %d epochs, want %d", r.Trial+1, r.Rung, r.Epochs, b.Rungs[r.Rung].Epochs)
			}
		}
	}
	for _, b := range bs {
		for i, rg := range b.Rungs {
			if n := got[fmt.Sprint(b.S, "/", i)]; n != rg.Trials {
				t.Errorf("bracket %d rung %d: %d results, want %d", b.S, i, n, rg.Trials)
			}
		}
	}
}

// TestHyperbandSweep: a real hyperband sweep runs every bracket's rungs,
// promotions resume checkpoints (one metrics row per epoch), and it trains
// fewer epochs than the same trials without early stopping.
func TestHyperbandSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 17 iris trials")
	}
	spec := hbSweep(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	s, err := Run(context.Background(), spec, RunOptions{Dir: dir, Worker: "test"})
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, dir, 17)
	checkBrackets(t, dir, spec)
	// 9 + 3×2 + 6, 5×3 + 6, 3×9: promotions continue from the checkpoint.
	if total := s.TotalEpochs(); total != 69 {
		t.Errorf("%d epochs trained, want 69 of %d without early stopping", total, 17*9)
	}
	if best := s.Rows[s.Best]; best.Status != "completed" || best.Epochs != 9 {
		t.Errorf("winner: %+v, want a whole run", best)
	}
}

// TestHyperbandResumesMidBracket: a sweep stopped mid-bracket (after a few
// results) continues to the same table when run again: no rung twice,
// none lost.
func TestHyperbandResumesMidBracket(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 17 iris trials")
	}
	spec := hbSweep(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	if err := Start(dir, spec); err != nil {
		t.Fatal(err)
	}
	for _, stopAfter := range []int{4, 7} { // inside bracket 2's rung 0, then rung 1
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		stop := progressFunc(func() {
			if n++; n == stopAfter {
				cancel()
			}
		})
		if err := Work(ctx, WorkOptions{Dir: dir, Worker: "w", Progress: stop}); !errors.Is(err, train.ErrInterrupted) {
			t.Fatalf("stopped after %d results: %v, want interrupted", stopAfter, err)
		}
		cancel()
	}
	if err := Work(context.Background(), WorkOptions{Dir: dir, Worker: "last"}); err != nil {
		t.Fatal(err)
	}
	checkJournal(t, dir, 17)
	checkBrackets(t, dir, spec)
}
