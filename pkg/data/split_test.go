package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// tableCSV is n rows: x1, x2 numeric, color categorical, g a group id,
// when a time, y a class; rows appear in a shuffled time order.
func tableCSV(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("x1,x2,color,g,when,y\n")
	perm := rng.Perm(n)
	for i := 0; i < n; i++ {
		k := perm[i]
		fmt.Fprintf(&b, "%.3f,%d,%s,g%d,%d,%d\n", rng.NormFloat64()*5+float64(k%7), k%13, []string{"red", "green", "blue"}[k%3], (k*7)%23, 1000+k, k%3)
	}
	return b.String()
}

const tableConfig = `
name: t
data:
  source: csv:d.csv
  label: y
  features: [x1, x2, color]
  categorical: [color]
`

// TestScalingFromTrainOnly (acceptance): changing a test row changes
// nothing fitted (scaling, imputation, encodings) and no training sample.
func TestScalingFromTrainOnly(t *testing.T) {
	text := tableCSV(200, 1)
	for _, extra := range []string{
		"  preprocess: {scale: standard}\n",
		"  preprocess: {scale: minmax, encoding: index}\n  clean: {missing: mean}\n",
		"  preprocess: {scale: standard}\n  clean: {missing: median}\n  split: {method: group, column: g}\n",
	} {
		t.Run(strings.TrimSpace(extra), func(t *testing.T) {
			a, _ := mustLoad(t, tableConfig+extra, map[string]string{"d.csv": text})
			line := a.Test.Lines[0]
			rows := strings.Split(text, "\n")
			cells := strings.Split(rows[line-1], ",")
			cells[0], cells[1], cells[2] = "1e6", "-99999", "purple"
			rows[line-1] = strings.Join(cells, ",")
			b, _ := mustLoad(t, tableConfig+extra, map[string]string{"d.csv": strings.Join(rows, "\n")})
			if fmt.Sprint(a.Scaling, a.Imputation, a.Encodings) != fmt.Sprint(b.Scaling, b.Imputation, b.Encodings) {
				t.Errorf("fitted preprocessing changed with a test row:\n%v %v %v\n%v %v %v", a.Scaling, a.Imputation, a.Encodings, b.Scaling, b.Imputation, b.Encodings)
			}
			if !sameBits(a.Train.X, b.Train.X) || !sameBits(a.Val.X, b.Val.X) || sameBits(a.Test.X, b.Test.X) {
				t.Error("train or val samples changed, or the test change did not show")
			}
		})
	}
}

// groupsBySplit maps each group id to the splits its rows landed in.
func groupsBySplit(ds *Dataset, text string) map[string]map[string]bool {
	rows := strings.Split(text, "\n")
	out := map[string]map[string]bool{}
	for _, s := range ds.Splits() {
		for _, line := range s.Lines {
			g := strings.Split(rows[line-1], ",")[3]
			if out[g] == nil {
				out[g] = map[string]bool{}
			}
			out[g][s.Name] = true
		}
	}
	return out
}

// TestGroupSplitPromise: no group has rows in two splits, for many seeds
// and fractions, and the fractions are roughly kept.
func TestGroupSplitPromise(t *testing.T) {
	text := tableCSV(300, 2)
	for seed := 1; seed <= 8; seed++ {
		for _, fr := range []string{"{train: 0.7, val: 0.15, test: 0.15", "{train: 0.5, val: 0.25, test: 0.25", "{train: 0.8, val: 0, test: 0.2"} {
			cfg := fmt.Sprintf("%s  split: %s, method: group, column: g}\nseed: %d\n", tableConfig, fr, seed)
			ds, _ := mustLoad(t, cfg, map[string]string{"d.csv": text})
			for g, in := range groupsBySplit(ds, text) {
				if len(in) > 1 {
					t.Fatalf("seed %d %s: group %s is in %v", seed, fr, g, in)
				}
			}
			if ds.Train.N < 100 || (strings.Contains(fr, "test: 0.2") && ds.Test.N == 0) {
				t.Errorf("seed %d %s: sizes %d/%d/%d", seed, fr, ds.Train.N, ds.Val.N, ds.Test.N)
			}
		}
	}
}

// TestTimeSplitTable: with a time column, every training row is earlier
// than every val row, which is earlier than every test row, whatever the
// file order.
func TestTimeSplitTable(t *testing.T) {
	text := tableCSV(100, 3)
	ds, rep := mustLoad(t, tableConfig+"  split: {method: time, column: when}\n", map[string]string{"d.csv": text})
	rows := strings.Split(text, "\n")
	when := func(s *Split) (lo, hi string) {
		var ts []string
		for _, l := range s.Lines {
			ts = append(ts, strings.Split(rows[l-1], ",")[4])
		}
		return slices.Min(ts), slices.Max(ts)
	}
	_, trHi := when(ds.Train)
	vaLo, vaHi := when(ds.Val)
	teLo, _ := when(ds.Test)
	if !(trHi < vaLo && vaHi < teLo) || ds.Train.N != 70 || ds.Test.N != 15 {
		t.Errorf("train up to %s, val %s..%s, test from %s; sizes %d/%d/%d", trHi, vaLo, vaHi, teLo, ds.Train.N, ds.Val.N, ds.Test.N)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), `split in time order (column "when": train up to 1069, the rest from 1070 on)`) {
		t.Errorf("notes %q", rep.Notes)
	}
}

// TestColumnSplit: the split column decides; a bad value names its line.
func TestColumnSplit(t *testing.T) {
	text := "a,y,part\n1,0,train\n2,1,TRAIN\n3,0,validation\n4,1,test\n5,0,train\n"
	cfg := "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  preprocess: {scale: none}\n  split: {method: column, column: part}\n"
	ds, _ := mustLoad(t, cfg, map[string]string{"d.csv": text})
	if !slices.Equal(ds.Train.Lines, []int{2, 3, 6}) || !slices.Equal(ds.Val.Lines, []int{4}) || !slices.Equal(ds.Test.Lines, []int{5}) {
		t.Errorf("lines %v %v %v", ds.Train.Lines, ds.Val.Lines, ds.Test.Lines)
	}
	if !slices.Equal(ds.Features, []string{"a"}) {
		t.Errorf("the split column must not be a feature: %v", ds.Features)
	}
	_, _, err := load(t, cfg, map[string]string{"d.csv": strings.Replace(text, "test", "holdout", 1)})
	wantBadData(t, err, "d.csv:5:5", `split "holdout" is not one of train, val (validation) or test`)
	_, _, err = load(t, strings.Replace(cfg, "column, column: part}", "column, column: part, train: 0.5, val: 0.5, test: 0}", 1), nil)
	wantBadData(t, err, "data.split.train", "remove the fractions")
}

// TestKFold: the folds partition the non-test rows, are balanced (and
// stratified), keep groups whole, leave the test split unchanged, and each
// fold in turn is the validation split.
func TestKFold(t *testing.T) {
	text := tableCSV(230, 4)
	base := tableConfig + "  split: {train: 0.8, val: 0, test: 0.2, folds: 5, fold: %d%s}\n"
	var test []int
	seen := map[int]int{}
	for k := 0; k < 5; k++ {
		ds, _ := mustLoad(t, fmt.Sprintf(base, k, ""), map[string]string{"d.csv": text})
		if k == 0 {
			test = ds.Test.Lines
			size := map[int]int{}
			perClass := map[[2]int]int{}
			for _, s := range []*Split{ds.Train, ds.Val} {
				for i, f := range s.Folds {
					size[f]++
					perClass[[2]int{f, int(s.Y[i])}]++
				}
			}
			for f := 0; f < 5; f++ {
				if size[f] < 36 || size[f] > 38 {
					t.Errorf("fold %d has %d rows of 184", f, size[f])
				}
				for c := 0; c < 3; c++ {
					if n := perClass[[2]int{f, c}]; n < 11 || n > 14 {
						t.Errorf("fold %d class %d: %d rows (not stratified)", f, c, n)
					}
				}
			}
		}
		if !slices.Equal(ds.Test.Lines, test) {
			t.Fatal("the test split changed with the fold")
		}
		for i, l := range ds.Val.Lines {
			if ds.Val.Folds[i] != k {
				t.Fatalf("fold %d: a val row of fold %d", k, ds.Val.Folds[i])
			}
			seen[l]++
		}
	}
	if len(seen) != 230-len(test) {
		t.Errorf("%d rows were validation once; want every non-test row (%d)", len(seen), 230-len(test))
	}
	for l, n := range seen {
		if n != 1 {
			t.Errorf("line %d was in %d validation folds", l, n)
		}
	}
	ds, _ := mustLoad(t, fmt.Sprintf(base, 2, ", method: group, column: g"), map[string]string{"d.csv": text})
	rows := strings.Split(text, "\n")
	foldOf := map[string]int{}
	for _, s := range []*Split{ds.Train, ds.Val} {
		for i, l := range s.Lines {
			g := strings.Split(rows[l-1], ",")[3]
			if f, ok := foldOf[g]; ok && f != s.Folds[i] {
				t.Fatalf("group %s is in folds %d and %d", g, f, s.Folds[i])
			}
			foldOf[g] = s.Folds[i]
		}
	}
	_, _, err := load(t, strings.Replace(fmt.Sprintf(base, 0, ""), "train: 0.8, val: 0,", "train: 0.7, val: 0.1,", 1), nil)
	wantBadData(t, err, "data.split.val", "must be 0 with data.split.folds")
}

// TestSplitDeterminism: the assignment is a function of the seed.
func TestSplitDeterminism(t *testing.T) {
	text := tableCSV(120, 5)
	a, _ := mustLoad(t, tableConfig, map[string]string{"d.csv": text})
	b, _ := mustLoad(t, tableConfig, map[string]string{"d.csv": text})
	c, _ := mustLoad(t, tableConfig+"seed: 9\n", map[string]string{"d.csv": text})
	if !slices.Equal(a.Test.Lines, b.Test.Lines) || slices.Equal(a.Test.Lines, c.Test.Lines) {
		t.Error("the split is not a function of the seed")
	}
	counts := map[float32]int{}
	for _, y := range a.Test.Y {
		counts[y]++
	}
	if counts[0] != 6 || counts[1] != 6 || counts[2] != 6 {
		t.Errorf("stratified test classes %v; want 6 each", counts)
	}
}

// TestLeakReport: rows of val or test identical to a training row are
// reported with their lines.
func TestLeakReport(t *testing.T) {
	text := "a,b,y\n" + strings.Repeat("1,1,0\n", 10) + "2,3,1\n4,5,0\n6,7,1\n8,9,0\n"
	_, rep := mustLoad(t, "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  split: {stratify: false}\n", map[string]string{"d.csv": text})
	notes := strings.Join(rep.Notes, "\n")
	if !strings.Contains(notes, "with the same features as a training sample (a possible leak)") || !strings.Contains(notes, "9 rows identical to an earlier row") {
		t.Errorf("notes %q", notes)
	}
}

// TestGroupSplitMissingGroup: an empty group cell is not a group of its
// own: an error naming its line and column under every missing policy but
// drop, which drops the row and says so.
func TestGroupSplitMissingGroup(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,g,y\n")
	for i := 0; i < 40; i++ {
		g := fmt.Sprintf("g%d", i/2)
		switch i {
		case 5:
			g = ""
		case 17:
			g = "NA"
		}
		fmt.Fprintf(&b, "%d,%s,%d\n", i, g, i%2)
	}
	cfg := "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  split: {method: group, column: g}\n  clean: {missing: %s}\n"
	for _, policy := range []string{"error", "mean", "median", "constant"} {
		t.Run(policy, func(t *testing.T) {
			_, _, err := load(t, fmt.Sprintf(cfg, policy), map[string]string{"d.csv": b.String()})
			wantBadData(t, err, "d.csv:7:3", `column "g"`, `the group id is missing: "" (2 such rows in all)`, "data.clean.missing: drop")
		})
	}
	t.Run("drop", func(t *testing.T) {
		ds, rep := mustLoad(t, fmt.Sprintf(cfg, "drop"), map[string]string{"d.csv": b.String()})
		if n := ds.Train.N + ds.Val.N + ds.Test.N; n != 38 {
			t.Errorf("%d rows kept, want 38", n)
		}
		if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, `dropped 2 rows without a group id (column "g"): lines 7, 19`) {
			t.Errorf("notes %q", notes)
		}
		for _, s := range ds.Splits() {
			if slices.Contains(s.Lines, 7) || slices.Contains(s.Lines, 19) {
				t.Errorf("the %s split holds a row without a group", s.Name)
			}
		}
	})
}

// TestTimeSplitTies: rows sharing a time stay in one split, the boundary
// moving to the nearer end of the tie (TestTimeSplitTieEdges has more).
func TestTimeSplitTies(t *testing.T) {
	cfg := "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  features: [x]\n  split: {method: time, column: when, stratify: false}\n"
	rows := func(times []int) string {
		var b strings.Builder
		b.WriteString("x,when,y\n")
		for i, k := range rand.New(rand.NewPCG(5, 1)).Perm(len(times)) {
			fmt.Fprintf(&b, "%d,%d,%d\n", i, times[k], i%2)
		}
		return b.String()
	}
	times := make([]int, 20)
	for i := range times {
		times[i] = 2000 + i/3 // ties of three; the 70/15/15 cuts (14, 17) fall inside ties
	}
	text := rows(times)
	ds, rep := mustLoad(t, cfg, map[string]string{"d.csv": text})
	lines := strings.Split(text, "\n")
	splitOf := map[string]string{}
	for _, s := range ds.Splits() {
		for _, l := range s.Lines {
			when := strings.Split(lines[l-1], ",")[1]
			if prev, ok := splitOf[when]; ok && prev != s.Name {
				t.Errorf("time %s is in %s and %s", when, prev, s.Name)
			}
			splitOf[when] = s.Name
		}
	}
	if ds.Train.N != 15 || ds.Val.N != 3 || ds.Test.N != 2 {
		t.Errorf("sizes %d/%d/%d, want 15/3/2", ds.Train.N, ds.Val.N, ds.Test.N)
	}
	want := `train up to 2004, the rest from 2005 on): train 15, val 3, test 2 rows; no training row is later than a val or test row; rows of one time kept in one split: 1 row of time 2004 to train, 1 row of time 2005 to val`
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, want) {
		t.Errorf("notes %q", notes)
	}

	_, _, err := load(t, cfg, map[string]string{"d.csv": "x,when,y\n1,2001,0\n2,,1\n3,2003,0\n"})
	wantBadData(t, err, "d.csv:3:3", `column "when": the time is missing: "" (1 such row in all)`, "data.clean.missing: drop")
}

// TestTimeSplitTieEdges: each boundary goes to the edge of its tie
// (before or after) that keeps the splits closest to the fractions while
// no split of a fraction > 0 is empty; only fewer distinct times than
// such splits is refused, naming the times. The audit's cases: 5 dates of
// 100 rows at 0.7/0.15/0.15 and times 1×8, 2, 3 at 0.6/0.2/0.2 were
// refused when boundaries only moved forward over ties.
func TestTimeSplitTieEdges(t *testing.T) {
	cfg := "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  features: [x]\n  split: {method: time, column: when, stratify: false, train: %v, val: %v, test: %v}\n"
	table := func(times ...string) string { // "T*k": k rows of time T
		var b strings.Builder
		b.WriteString("x,when,y\n")
		i := 0
		for _, tk := range times {
			when, k, _ := strings.Cut(tk, "*")
			n, _ := strconv.Atoi(k)
			for range n {
				fmt.Fprintf(&b, "%d,%s,%d\n", i, when, i%2)
				i++
			}
		}
		return b.String()
	}
	for _, c := range []struct {
		name  string
		frac  [3]float64
		times []string
		want  [3]int
		note  string
	}{
		{"five dates", [3]float64{0.7, 0.15, 0.15}, []string{"2024-01-01*100", "2024-01-02*100", "2024-01-03*100", "2024-01-04*100", "2024-01-05*100"},
			[3]int{300, 100, 100}, "50 rows of time 2024-01-04 to val, 25 rows of time 2024-01-05 to test"},
		{"one long tie", [3]float64{0.6, 0.2, 0.2}, []string{"1*8", "2*1", "3*1"}, [3]int{8, 1, 1}, "2 rows of time 1 to train"},
		{"latest rows tied", [3]float64{0.7, 0.15, 0.15}, []string{"2000*3", "2001*3", "2002*3", "2003*3", "2010*8"},
			[3]int{9, 3, 8}, "3 rows of time 2003 to val, 2 rows of time 2010 to test"},
		{"no val", [3]float64{0.8, 0, 0.2}, []string{"1*4", "2*4", "3*2"}, [3]int{8, 0, 2}, ""},
		{"no val, one tie", [3]float64{0.8, 0, 0.2}, []string{"1*9", "2*1"}, [3]int{9, 0, 1}, "1 row of time 1 to train"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds, rep := mustLoad(t, fmt.Sprintf(cfg, c.frac[0], c.frac[1], c.frac[2]), map[string]string{"d.csv": table(c.times...)})
			if got := [3]int{ds.Train.N, ds.Val.N, ds.Test.N}; got != c.want {
				t.Errorf("sizes %v, want %v", got, c.want)
			}
			if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "kept in one split: "+c.note) && c.note != "" {
				t.Errorf("notes %q lack %q", notes, c.note)
			}
		})
	}
	_, _, err := load(t, fmt.Sprintf(cfg, 0.6, 0.2, 0.2), map[string]string{"d.csv": table("1*8", "2*2")})
	wantBadData(t, err, `column "when": has 2 distinct times (1: 8 rows, 2: 2 rows), fewer than the 3 splits with a fraction > 0 (train, val, test): rows of one time stay in one split`)
}

// TestCutAtTimes: over random ties and fractions, the boundaries sit at
// changes of time, no split of a fraction > 0 is empty when there are
// enough distinct times, and no pair of edges is closer to the wanted
// sizes.
func TestCutAtTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	fracs := []config.Split{{Train: 0.7, Val: 0.15, Test: 0.15}, {Train: 0.6, Val: 0.2, Test: 0.2}, {Train: 0.8, Test: 0.2}, {Train: 0.9, Val: 0.1}}
	for c := 0; c < 3000; c++ {
		cfg := fracs[c%len(fracs)]
		edges := []int{0}
		for range 1 + rng.IntN(6) {
			edges = append(edges, edges[len(edges)-1]+1+rng.IntN([]int{2, 10, 100}[rng.IntN(3)]))
		}
		n := edges[len(edges)-1]
		nTest, nVal := counts(n, cfg)
		e1, e2 := n-nTest-nVal, n-nTest
		b1, b2, err := cutAtTimes(edges, e1, e2, cfg)
		need := 1
		for _, f := range []float64{cfg.Val, cfg.Test} {
			if f > 0 {
				need++
			}
		}
		if len(edges)-1 < need {
			if err == nil {
				t.Fatalf("edges %v %+v: no error with too few times", edges, cfg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("edges %v %+v: %v", edges, cfg, err)
		}
		ok := func(b1, b2 int) bool {
			return slices.Contains(edges, b1) && slices.Contains(edges, b2) && b1 > 0 && b1 <= b2 &&
				(cfg.Val == 0) == (b1 == b2) && (cfg.Test == 0) == (b2 == n)
		}
		cost := func(b1, b2 int) int {
			d1, d2, dv := b1-e1, b2-e2, (b2-b1)-(e2-e1)
			return d1*d1 + d2*d2 + dv*dv
		}
		if !ok(b1, b2) {
			t.Fatalf("edges %v %+v: boundaries %d, %d", edges, cfg, b1, b2)
		}
		for _, p := range edges {
			for _, q := range edges {
				if ok(p, q) && cost(p, q) < cost(b1, b2) {
					t.Fatalf("edges %v %+v: boundaries %d, %d; %d, %d are closer to %d, %d", edges, cfg, b1, b2, p, q, e1, e2)
				}
			}
		}
	}
}

// TestTimeSplitNeverComparesText: a time column is all numbers or all
// dates of one form. One stray text cell is an error naming its line and
// column, not a switch of the whole column to text order, where "10"
// sorts before "4" and later rows train; a missing time is dropped and
// reported under missing: drop, an error otherwise.
func TestTimeSplitNeverComparesText(t *testing.T) {
	cfg := "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  features: [x]\n  split: {method: time, column: when, stratify: false}\n  clean: {missing: %s}\n"
	table := func(cells []string) string {
		var b strings.Builder
		b.WriteString("x,when,y\n")
		for i, c := range cells {
			fmt.Fprintf(&b, "%d,%s,%d\n", i, c, i%2)
		}
		return b.String()
	}
	numbers := make([]string, 20)
	for i := range numbers {
		numbers[i] = fmt.Sprint(i + 1) // 1..20: as text, "10" < "4"
	}
	// check: every training time is earlier than every val and test time.
	check := func(t *testing.T, ds *Dataset, cells []string, less func(a, b string) bool) {
		t.Helper()
		for _, tr := range ds.Train.Lines {
			for _, s := range []*Split{ds.Val, ds.Test} {
				for _, l := range s.Lines {
					if !less(cells[tr-2], cells[l-2]) {
						t.Errorf("training row at line %d (time %s) is not earlier than %s row at line %d (time %s)", tr, cells[tr-2], s.Name, l, cells[l-2])
					}
				}
			}
		}
	}
	t.Run("numbers", func(t *testing.T) {
		ds, _ := mustLoad(t, fmt.Sprintf(cfg, "error"), map[string]string{"d.csv": table(numbers)})
		check(t, ds, numbers, func(a, b string) bool { return len(a) < len(b) || (len(a) == len(b) && a < b) })
		if ds.Train.N != 14 {
			t.Errorf("train %d rows, want 14", ds.Train.N)
		}
	})
	t.Run("a text cell", func(t *testing.T) {
		cells := slices.Clone(numbers)
		cells[4] = "x"
		for _, policy := range []string{"error", "drop", "mean"} {
			_, _, err := load(t, fmt.Sprintf(cfg, policy), map[string]string{"d.csv": table(cells)})
			wantBadData(t, err, "d.csv:6:3", `column "when"`, `time "x" is not a number, but the first time (line 2) is "1"`, "never compared as text")
		}
	})
	t.Run("dates", func(t *testing.T) {
		var dates []string
		for i := 0; i < 20; i++ {
			dates = append(dates, fmt.Sprintf("2024-%02d-%02dT%02d:00:00Z", 1+i%12, 1+i, 23-i))
		}
		ds, _ := mustLoad(t, fmt.Sprintf(cfg, "error"), map[string]string{"d.csv": table(dates)})
		check(t, ds, dates, func(a, b string) bool { return a < b }) // these sort as text too
		cells := slices.Clone(dates)
		cells[7] = "2024-08-08"
		_, _, err := load(t, fmt.Sprintf(cfg, "error"), map[string]string{"d.csv": table(cells)})
		wantBadData(t, err, "d.csv:9:3", `time "2024-08-08" is not a date of the form of the first time (line 2)`)
		_, _, err = load(t, fmt.Sprintf(cfg, "error"), map[string]string{"d.csv": table([]string{"1/2/2024", "1/3/2024"})})
		wantBadData(t, err, "d.csv:2:3", `time "1/2/2024" is neither a number nor an ISO 8601 date`)
	})
	t.Run("missing", func(t *testing.T) {
		cells := slices.Clone(numbers)
		cells[3], cells[9] = "", "NA"
		_, _, err := load(t, fmt.Sprintf(cfg, "median"), map[string]string{"d.csv": table(cells)})
		wantBadData(t, err, "d.csv:5:3", `the time is missing: "" (2 such rows in all)`)
		ds, rep := mustLoad(t, fmt.Sprintf(cfg, "drop"), map[string]string{"d.csv": table(cells)})
		if n := ds.Train.N + ds.Val.N + ds.Test.N; n != 18 {
			t.Errorf("%d rows kept, want 18", n)
		}
		if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, `dropped 2 rows without a time (column "when"): lines 5, 11`) {
			t.Errorf("notes %q", notes)
		}
		check(t, ds, cells, func(a, b string) bool { return len(a) < len(b) || (len(a) == len(b) && a < b) })
	})
}

// groupError is dealGroups' measure: the squared distance of each split's
// rows from its share, and how many splits of a share > 0 are empty.
func groupError(sizes []int, share [3]float64, of []int8) (float64, int) {
	var rows [3]int
	n := 0
	for i, m := range sizes {
		rows[of[i]] += m
		n += m
	}
	e, empty := 0.0, 0
	for k, r := range rows {
		d := float64(r) - share[k]*float64(n)
		e += d * d
		if r == 0 && share[k] > 0 {
			empty++
		}
	}
	return e, empty
}

// TestDealGroups: whole groups come as close to the fractions as they
// can. The audit's case (8 groups: six of 5 rows, two of 4; 0.7/0.15/0.15)
// gave train 47% of the rows when groups were dealt to test and val until
// full; the best split is 28/5/5. Small cases are checked against every
// assignment; large ones (dealt greedily) stay within one group of each
// share.
func TestDealGroups(t *testing.T) {
	share := [3]float64{0.7, 0.15, 0.15}
	audit := []int{5, 5, 5, 5, 5, 5, 4, 4}
	var rows [3]int
	for i, s := range dealGroups(audit, share) {
		rows[s] += audit[i]
	}
	if rows != [3]int{28, 5, 5} {
		t.Errorf("the audit's groups give %v rows, want [28 5 5]", rows)
	}
	rng := rand.New(rand.NewPCG(7, 1))
	shares := [][3]float64{{0.7, 0.15, 0.15}, {0.5, 0.25, 0.25}, {0.8, 0, 0.2}, {0.6, 0.4, 0}}
	for c := 0; c < 300; c++ {
		sh := shares[c%len(shares)]
		sizes := make([]int, 1+rng.IntN(8))
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(12)
		}
		slices.SortFunc(sizes, func(a, b int) int { return b - a })
		got, gotEmpty := groupError(sizes, sh, dealGroups(sizes, sh))
		best, bestEmpty := math.Inf(1), 4
		of := make([]int8, len(sizes))
		for code := 0; code < int(math.Pow(3, float64(len(sizes)))); code++ {
			k := code
			for i := range of {
				of[i], k = int8(k%3), k/3
			}
			e, empty := groupError(sizes, sh, of)
			if slices.ContainsFunc(of, func(s int8) bool { return sh[s] == 0 }) {
				continue
			}
			if empty < bestEmpty || (empty == bestEmpty && e < best) {
				best, bestEmpty = e, empty
			}
		}
		if gotEmpty != bestEmpty || got > best+1e-9 {
			t.Fatalf("sizes %v shares %v: error %v (%d empty splits), the best is %v (%d)", sizes, sh, got, gotEmpty, best, bestEmpty)
		}
	}
	for c := 0; c < 50; c++ {
		sh := shares[c%len(shares)]
		sizes := make([]int, 100+rng.IntN(400))
		n, most := 0, 0
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(1+rng.IntN(30))
			n += sizes[i]
			most = max(most, sizes[i])
		}
		slices.SortFunc(sizes, func(a, b int) int { return b - a })
		var rows [3]int
		for i, s := range dealGreedy(sizes, sh, n) {
			rows[s] += sizes[i]
		}
		for k, r := range rows {
			if d := math.Abs(float64(r) - sh[k]*float64(n)); d > float64(most) || (sh[k] == 0 && r > 0) {
				t.Fatalf("%d groups, shares %v: %v rows of %d, off by more than the largest group (%d)", len(sizes), sh, rows, n, most)
			}
		}
	}
}

// TestEmptyFold: a validation fold left empty says so (too few groups for
// the folds), not "too few for a validation split of 0".
func TestEmptyFold(t *testing.T) {
	cfg := "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  features: [a]\n  split: {method: group, column: g, folds: 3, fold: 2, train: 0.8, val: 0, test: 0.2}\n"
	_, _, err := load(t, cfg, map[string]string{"d.csv": "a,g,y\n1,g1,0\n2,g1,1\n3,g2,0\n4,g2,1\n5,g3,0\n6,g3,1\n"})
	wantBadData(t, err, "fold 2 (the validation split) of 3 folds is empty: 4 non-test rows in 2 groups (a fold holds whole groups) are too few for 3 folds; add data or lower data.split.folds")
	if strings.Contains(err.Error(), "validation split of 0") {
		t.Errorf("error %q", err)
	}
	// Any empty fold is refused, not only the validation one: 5 rows in
	// 8 folds leave folds 5, 6 and 7 empty whichever is validated.
	cfg = "name: t\ndata:\n  source: csv:d.csv\n  label: y\n  features: [a]\n  split: {folds: 8, fold: 0, train: 0.8, val: 0, test: 0.2, stratify: false}\n"
	_, _, err = load(t, cfg, map[string]string{"d.csv": "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n"})
	wantBadData(t, err, "are empty")
}

// TestGroupSplitFractions: the audit's case end to end: 38 rows in 8
// groups with fractions 0.7/0.15/0.15 split 28/5/5 (74/13/13%), for every
// seed; dealing groups to test and val until each was full gave train 18.
func TestGroupSplitFractions(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,g,y\n")
	for g, size := range []int{5, 4, 5, 5, 5, 4, 5, 5} {
		for i := 0; i < size; i++ {
			fmt.Fprintf(&b, "%d.5,g%d,%d\n", 10*g+i, g, i%2)
		}
	}
	for seed := 1; seed <= 5; seed++ {
		cfg := fmt.Sprintf("name: t\nseed: %d\ndata:\n  source: csv:d.csv\n  label: y\n  features: [a]\n  split: {method: group, column: g}\n", seed)
		ds, _ := mustLoad(t, cfg, map[string]string{"d.csv": b.String()})
		if ds.Train.N != 28 || ds.Val.N != 5 || ds.Test.N != 5 {
			t.Errorf("seed %d: train %d, val %d, test %d rows; want 28/5/5", seed, ds.Train.N, ds.Val.N, ds.Test.N)
		}
	}
}

// TestGroupSplitFewLargeGroups: the audit's cases: four groups of 1,000
// rows, or 1,000/1,000/200, at 0.7/0.15/0.15 were refused ("too few for a
// test split") because dealing filled train before test's turn and no
// move ever filled the empty split. Every split now gets a group; fewer
// groups than splits is refused as such.
func TestGroupSplitFewLargeGroups(t *testing.T) {
	table := func(sizes ...int) string {
		var b strings.Builder
		b.WriteString("a,g,y\n")
		for g, size := range sizes {
			for i := 0; i < size; i++ {
				fmt.Fprintf(&b, "%d,H%d,%d\n", i, g, i%2)
			}
		}
		return b.String()
	}
	cfg := "name: t\nseed: %d\ndata:\n  source: csv:d.csv\n  label: y\n  features: [a]\n  split: {method: group, column: g, train: 0.7, val: 0.15, test: 0.15}\n"
	for _, c := range []struct {
		sizes []int
		want  [3]int
	}{
		{[]int{1000, 1000, 1000, 1000}, [3]int{2000, 1000, 1000}},
		{[]int{1000, 1000, 200}, [3]int{1000, -1, -1}}, // val and test: 200 and 1,000 either way
		{[]int{5, 5, 5}, [3]int{5, 5, 5}},
	} {
		for seed := 1; seed <= 3; seed++ {
			ds, _, err := load(t, fmt.Sprintf(cfg, seed), map[string]string{"d.csv": table(c.sizes...)})
			if err != nil {
				t.Fatalf("groups %v seed %d: %v", c.sizes, seed, err)
			}
			got := [3]int{ds.Train.N, ds.Val.N, ds.Test.N}
			for k, n := range got {
				if n == 0 || (c.want[k] >= 0 && n != c.want[k]) {
					t.Errorf("groups %v seed %d: sizes %v, want %v (-1: any but 0)", c.sizes, seed, got, c.want)
				}
			}
		}
	}
	_, _, err := load(t, fmt.Sprintf(cfg, 1), map[string]string{"d.csv": table(1000, 1000)})
	wantBadData(t, err, `column "g": has 2 groups, fewer than the 3 splits with a fraction > 0 (train, val, test): each needs a whole group of its own`)
}

// TestDealGroupsNoEmptySplit: with at least as many groups as splits of
// share > 0, neither the exact nor the greedy deal leaves such a split
// empty, whatever the group sizes (few large groups included).
func TestDealGroupsNoEmptySplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	shares := [][3]float64{{0.7, 0.15, 0.15}, {0.8, 0.1, 0.1}, {0.9, 0.05, 0.05}, {0.8, 0, 0.2}, {0.5, 0.25, 0.25}}
	for c := 0; c < 2000; c++ {
		sh := shares[c%len(shares)]
		need := 0
		for _, s := range sh {
			if s > 0 {
				need++
			}
		}
		sizes := make([]int, need+rng.IntN(6))
		n := 0
		for i := range sizes {
			sizes[i] = 1 + rng.IntN([]int{3, 40, 2000}[rng.IntN(3)])
			n += sizes[i]
		}
		slices.SortFunc(sizes, func(a, b int) int { return b - a })
		deals := map[string][]int8{"greedy": dealGreedy(sizes, sh, n)}
		if n <= 400 {
			deals["exact"] = dealExact(sizes, sh, n)
		}
		for name, of := range deals {
			if _, empty := groupError(sizes, sh, of); empty > 0 {
				t.Fatalf("%s: sizes %v shares %v: %d empty splits (%v)", name, sizes, sh, empty, of)
			}
			for i, s := range of {
				if sh[s] == 0 {
					t.Fatalf("%s: sizes %v shares %v: group %d in split %d of share 0", name, sizes, sh, i, s)
				}
			}
		}
	}
}
