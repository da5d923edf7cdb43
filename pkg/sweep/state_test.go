package sweep

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// results builds a journal: the sweep, then for each trial a claim and
// a result per rung with the given values (nil: still pending).
func ashaState(t *testing.T, trials int, values [][]float64) *state {
	t.Helper()
	spec := &Spec{Metric: "val_accuracy", Max: true, Trials: trials, Epochs: 9, EarlyStop: Stop{Kind: "asha", MinEpochs: 1, Reduction: 3}}
	recs := []Record{{Event: "sweep", Spec: spec}}
	for id, vs := range values {
		for k, v := range vs {
			recs = append(recs, Record{Event: "claim", Trial: id, Rung: k, Budget: spec.rungBudget(k)})
			status := "paused"
			if spec.rungBudget(k) == 0 {
				status = "completed"
			}
			recs = append(recs, Record{Event: "result", Trial: id, Rung: k, Status: status, Value: float(v)})
		}
	}
	st, err := replay(recs)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRungBudgets(t *testing.T) {
	s := &Spec{Epochs: 30, EarlyStop: Stop{MinEpochs: 1, Reduction: 3}}
	var got []int
	for k := range 6 {
		got = append(got, s.rungBudget(k))
	}
	if want := []int{1, 3, 9, 27, 0, 0}; !equalInts(got, want) {
		t.Fatalf("budgets %v, want %v (0: all epochs)", got, want)
	}
}

func equalInts(a, b []int) bool {
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

// TestASHAPromotion: the top third of a rung goes up, highest rung first;
// none while a rung has fewer than reduction results; the sweep ends by
// promoting its best to the end when no trial is complete.
func TestASHAPromotion(t *testing.T) {
	cases := []struct {
		name     string
		trials   int
		values   [][]float64
		trial    int // -1: none
		rung     int
		finished bool
	}{
		{"two results: none yet", 6, [][]float64{{0.5}, {0.9}}, -1, 0, false},
		{"three results: the best", 6, [][]float64{{0.5}, {0.9}, {0.7}}, 1, 1, false},
		{"promoted once only", 6, [][]float64{{0.5}, {0.9, 0.91}, {0.7}}, -1, 0, false},
		{"six: the second best too", 6, [][]float64{{0.5}, {0.9, 0.91}, {0.7}, {0.8}, {0.1}, {0.2}}, 3, 1, false},
		{"higher rung first", 9, [][]float64{{0.5, 0.6}, {0.9, 0.91}, {0.7}, {0.8, 0.95}, {0.1}, {0.2}, {0.3}, {0.4}, {0.45}}, 3, 2, false},
		{"finishing: best of the highest rung", 3, [][]float64{{0.5}, {0.9, 0.91}, {0.7}}, 1, 2, false},
		{"finished when one is complete", 3, [][]float64{{0.5}, {0.9, 0.91, 0.92}, {0.7}}, -1, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := ashaState(t, c.trials, c.values)
			tr, rung, ok := st.promotion()
			switch {
			case c.trial < 0 && ok:
				t.Fatalf("promoted trial %d to rung %d, want none", tr.ID, rung)
			case c.trial >= 0 && (!ok || tr.ID != c.trial || rung != c.rung):
				t.Fatalf("promotion %v (ok %v), want trial %d to rung %d", tr, ok, c.trial, c.rung)
			}
			if st.finished() != c.finished {
				t.Errorf("finished = %v, want %v", st.finished(), c.finished)
			}
		})
	}
}

// TestMedianRule: a trial stops when its best is worse than the median of
// the others' best at the same epoch, only with enough others and after
// min_epochs.
func TestMedianRule(t *testing.T) {
	spec := &Spec{Metric: "val_loss", Max: false, Trials: 10, EarlyStop: Stop{Kind: "median", MinEpochs: 2}}
	recs := []Record{{Event: "sweep", Spec: spec}}
	curves := [][]float64{{1.0, 0.8, 0.6}, {0.9, 0.7, 0.5}, {1.2, 1.1, 1.0}}
	for id, c := range curves {
		var cv []*float64
		for _, v := range c {
			cv = append(cv, float(v))
		}
		recs = append(recs, Record{Event: "claim", Trial: id}, Record{Event: "result", Trial: id, Status: "completed", Value: float(c[len(c)-1]), Curve: cv})
	}
	st, err := replay(recs)
	if err != nil {
		t.Fatal(err)
	}
	prune := st.medianPrune(3)
	for _, c := range []struct {
		epoch int
		best  float64
		want  bool
	}{
		{1, 5, false},    // before min_epochs
		{2, 0.79, false}, // median of 0.8, 0.7, 1.1 is 0.8
		{2, 0.81, true},
		{3, 0.61, true},
		{4, 9, false}, // nobody reached epoch 4
		{2, math.NaN(), false},
	} {
		if got := prune(c.epoch, c.best); got != c.want {
			t.Errorf("epoch %d best %v: prune %v, want %v", c.epoch, c.best, got, c.want)
		}
	}
	if st.medianPrune(0)(2, 5) {
		t.Error("pruned with only two other trials")
	}
}

// TestJournalSurvivesATornLine: a last line cut short by a crash is
// skipped, and the next append replaces it.
func TestJournalSurvivesATornLine(t *testing.T) {
	dir := t.TempDir()
	spec := &Spec{Metric: "val_loss", Trials: 2}
	if err := appendJournal(dir, Record{Event: "sweep", Spec: spec}, Record{Event: "claim", Trial: 0}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"event":"result","tri`)
	f.Close()
	recs, err := readJournal(dir)
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v; want 2", len(recs), err)
	}
	if err := appendJournal(dir, Record{Event: "result", Trial: 0, Status: "completed"}); err != nil {
		t.Fatal(err)
	}
	recs, err = readJournal(dir)
	if err != nil || len(recs) != 3 || recs[2].Status != "completed" {
		t.Fatalf("%d records, %v; want 3, the last the result", len(recs), err)
	}
	if _, err := replay(recs); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	if strings.Contains(string(b), `"tri\n`) || strings.Count(string(b), "\n") != 3 {
		t.Errorf("journal:\n%s", b)
	}
}
