package data

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// splitTime gives the earliest rows to train, the next to val and the
// latest to test, so that nothing trained on lies in the future of what is
// evaluated. Rows are ordered by the time column when one is named (all
// numbers, or all ISO 8601 dates of one form: parseTimes), by file order
// otherwise.
// Rows of one time stay in one split: each boundary sits at a change of
// time (cutAtTimes), and the report says which rows moved.
func splitTime(a assignment, rows []int, f *frame, cfg config.Split, rep *Report) error {
	ordered := slices.Clone(rows)
	nTest, nVal := counts(len(ordered), cfg)
	endTrain, endVal := len(ordered)-nTest-nVal, len(ordered)-nTest
	var moved []string
	if f.keys != nil {
		t, err := parseTimes(f, rows)
		if err != nil {
			return err
		}
		slices.SortStableFunc(ordered, t.cmp)
		edges := timeEdges(ordered, t.cmp)
		b1, b2, err := cutAtTimes(edges, endTrain, endVal, cfg)
		if err != nil {
			return badf(f.file, 0, 0, f.keyName, "%s", tooFewTimes(err.Error(), edges, ordered, f.keys))
		}
		moved = movedRows(ordered, f.keys, t.cmp, [2]int{endTrain, endVal}, [2]int{b1, b2})
		endTrain, endVal = b1, b2
	}
	for i, r := range ordered {
		switch {
		case i < endTrain:
			a.of[r] = splitTrain
		case i < endVal:
			a.of[r] = splitVal
		default:
			a.of[r] = splitTest
		}
	}
	what := "file order"
	if f.keys != nil {
		what = fmt.Sprintf("column %q", f.keyName)
		if endTrain > 0 && endTrain < len(ordered) {
			what += fmt.Sprintf(": train up to %s, the rest from %s on", f.keys[ordered[endTrain-1]], f.keys[ordered[endTrain]])
		}
	}
	ties := ""
	if len(moved) > 0 {
		ties = "; rows of one time kept in one split: " + strings.Join(moved, ", ")
	}
	rep.add("split in time order (%s): train %d, val %d, test %d rows; no training row is later than a val or test row%s",
		what, endTrain, endVal-endTrain, len(ordered)-endVal, ties)
	return nil
}

// timeEdges lists the positions in ordered (sorted by time) where the
// time changes, with 0 and len(ordered) at the ends: the only places a
// boundary between two splits may sit. There is one more edge than
// distinct times.
func timeEdges(ordered []int, cmp func(p, q int) int) []int {
	edges := []int{0}
	for i := 1; i < len(ordered); i++ {
		if cmp(ordered[i-1], ordered[i]) != 0 {
			edges = append(edges, i)
		}
	}
	return append(edges, len(ordered))
}

// cutAtTimes chooses the train/val and val/test boundaries among the
// edges, closest to the wanted ones (endTrain, endVal): the least sum of
// squared differences between each split's rows and the rows wanted, a
// tie going to the later edge (the earlier split keeps the whole tie).
// Train and every split with a fraction > 0 get at least one time; when
// there are fewer distinct times than such splits the error says how many
// are needed.
func cutAtTimes(edges []int, endTrain, endVal int, cfg config.Split) (b1, b2 int, err error) {
	m := len(edges) - 1 // distinct times
	needVal, needTest := cfg.Val > 0, cfg.Test > 0
	need := []string{"train"}
	if needVal {
		need = append(need, "val")
	}
	if needTest {
		need = append(need, "test")
	}
	if m < len(need) {
		return 0, 0, fmt.Errorf("fewer than the %d splits with a fraction > 0 (%s)", len(need), strings.Join(need, ", "))
	}
	cost := func(b1, b2 int) int {
		d1, d2, dv := b1-endTrain, b2-endVal, (b2-b1)-(endVal-endTrain)
		return d1*d1 + d2*d2 + dv*dv
	}
	best := -1
	hi := m - len(need) + 1 // the last edge train may end at
	for i1 := 1; i1 <= hi; i1++ {
		var cands []int // edge indices for the val/test boundary
		switch {
		case !needVal && needTest:
			cands = []int{i1}
		case !needTest:
			cands = []int{m}
		default:
			// For a fixed b1 the cost is least at b2 = endVal + (b1 − endTrain)/2.
			want := endVal*2 + edges[i1] - endTrain
			k := sort.Search(len(edges), func(i int) bool { return 2*edges[i] >= want })
			for _, c := range []int{k - 1, k} {
				cands = append(cands, min(max(c, i1+1), m-1))
			}
		}
		for _, i2 := range cands {
			if c := cost(edges[i1], edges[i2]); best < 0 || c <= best {
				best, b1, b2 = c, edges[i1], edges[i2]
			}
		}
	}
	return b1, b2, nil
}

// tooFewTimes completes cutAtTimes' error with the distinct times and
// their rows.
func tooFewTimes(msg string, edges, ordered []int, keys []string) string {
	var ts []string
	for i := 0; i+1 < len(edges); i++ {
		ts = append(ts, fmt.Sprintf("%s: %s", keys[ordered[edges[i]]], nouns(edges[i+1]-edges[i], "row")))
	}
	return fmt.Sprintf("has %s (%s), %s: rows of one time stay in one split; add rows of other times or set a fraction to 0",
		nouns(len(ts), "distinct time"), strings.Join(ts, ", "), msg)
}

// movedRows describes the rows whose split differs from the one the
// wanted boundaries gave, as runs of one change: "2 rows of time 2004 to
// train", "5 rows of times 2003 to 2010 to test".
func movedRows(ordered []int, keys []string, cmp func(p, q int) int, want, got [2]int) []string {
	splitAt := func(i int, b [2]int) int8 {
		switch {
		case i < b[0]:
			return splitTrain
		case i < b[1]:
			return splitVal
		}
		return splitTest
	}
	var out []string
	lo, hi := min(want[0], got[0]), max(want[1], got[1])
	for i := lo; i < hi; {
		to := splitAt(i, got)
		if splitAt(i, want) == to {
			i++
			continue
		}
		j := i + 1
		for j < hi && splitAt(j, want) == splitAt(i, want) && splitAt(j, got) == to {
			j++
		}
		when := "time " + keys[ordered[i]]
		if cmp(ordered[i], ordered[j-1]) != 0 {
			when = fmt.Sprintf("times %s to %s", keys[ordered[i]], keys[ordered[j-1]])
		}
		out = append(out, fmt.Sprintf("%s of %s to %s", nouns(j-i, "row"), when, splitNames[to]))
		i = j
	}
	return out
}
