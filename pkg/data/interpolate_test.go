package data

import (
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestInterpolateFillsGaps: gaps are filled on the straight line between
// the nearest known steps of their column, in time (uneven steps weigh
// as far apart as they are), ends take the nearest known value, and the
// report names the lines.
func TestInterpolateFillsGaps(t *testing.T) {
	csv := "t,a,b\n" +
		"1,,5\n" + // leading gap in a: the first known a (20)
		"2,20,\n" + // b between 5 (t=1) and 11 (t=4): 5 + 6·(1/3) = 7
		"4,40,11\n" +
		"5,,12\n" + // a between 40 (t=4) and 100 (t=10): 40 + 60·(1/6) = 50
		"10,100,13\n" +
		"11,110,\n" + // trailing gap in b: the last known b (13)
		"12,120,\n"
	cfg := strings.Replace(seriesConfig, "lookback: 3, horizon: 2", "lookback: 2, horizon: 1", 1) +
		"  clean: {missing: interpolate}\n"
	cfg = strings.Replace(cfg, "split: {train: 0.6, val: 0.2, test: 0.2}", "split: {train: 1, val: 0, test: 0}", 1)
	ds, rep := mustLoad(t, cfg, map[string]string{"s.csv": csv})
	// Windows of 2 steps of (a, b), target b one step later: the first
	// window reads t=1, 2 and predicts b at t=4.
	want := []float32{20, 5, 20, 7}
	if got := ds.Train.X[:4]; !slices.Equal(got, want) {
		t.Errorf("first window %v, want %v", got, want)
	}
	wantY := []float32{11, 12, 13, 13, 13}
	if !slices.Equal(ds.Train.Y, wantY) {
		t.Errorf("targets %v, want %v", ds.Train.Y, wantY)
	}
	if x := ds.Train.X[2*4 : 2*4+4]; !slices.Equal(x, []float32{40, 11, 50, 12}) {
		t.Errorf("third window %v, want [40 11 50 12]", x)
	}
	notes := strings.Join(rep.Notes, "\n")
	if !strings.Contains(notes, "filled 5 missing cells (lines 2, 3, 5, 7, 8) by linear interpolation in time") {
		t.Errorf("notes %q", notes)
	}
	// The gap at t=2 read b at t=4, after the first window's last input
	// step (t=2): that window saw its own target. The gap at t=5 read
	// t=10, the target of the third window (inputs t=4, 5).
	if !strings.Contains(notes, "into the inputs of 2 train, 0 val and 0 test windows") {
		t.Errorf("notes %q do not count the windows that saw their future", notes)
	}
}

// TestInterpolateDates: with a date column, time is measured in seconds,
// so a gap between a step a day away and one three days away lies a
// quarter of the way.
func TestInterpolateDates(t *testing.T) {
	csv := "t,a,b\n2024-01-01,0,0\n2024-01-02,,1\n2024-01-05,40,2\n2024-01-06,50,3\n2024-01-07,60,4\n"
	cfg := strings.Replace(seriesConfig, "lookback: 3, horizon: 2", "lookback: 2, horizon: 1", 1) + "  clean: {missing: interpolate}\n"
	cfg = strings.Replace(cfg, "split: {train: 0.6, val: 0.2, test: 0.2}", "split: {train: 1, val: 0, test: 0}", 1)
	ds, _ := mustLoad(t, cfg, map[string]string{"s.csv": csv})
	if got := ds.Train.X[2]; got != 10 {
		t.Errorf("a on 2024-01-02 = %v, want 10 (a quarter of the way from 0 to 40)", got)
	}
}

// TestInterpolateRefusals: a column with no known value is an error
// naming it, and a source whose rows are not steps in time refuses
// interpolate with exit 2, naming the key.
func TestInterpolateRefusals(t *testing.T) {
	csv := "t,a,b\n1,,1\n2,,2\n3,,3\n4,,4\n5,,5\n6,,6\n7,,7\n8,,8\n9,,9\n10,,10\n"
	_, _, err := load(t, seriesConfig+"  clean: {missing: interpolate}\n", map[string]string{"s.csv": csv})
	wantBadData(t, err, `column "a"`, "no known value to interpolate from")
	_, _, err = load(t, "name: t\ndata:\n  source: builtin:iris\n  clean: {missing: interpolate}\n", nil)
	wantBadData(t, err, "data.clean.missing", "applies to a series", "use error, drop, mean, median or constant")
}

// TestInterpolateSunspotsGaps punches gaps into the real sunspots series
// and checks each fill against the straight line between the known
// years around it (the file's own values).
func TestInterpolateSunspotsGaps(t *testing.T) {
	raw, err := os.ReadFile(repoFile("testdata", "series", "sunspots.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	value := func(year int) float64 { // the file's value of a year
		_, v, _ := strings.Cut(lines[year-1700+1], ",")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	gaps := map[int]bool{1750: true, 1751: true, 1752: true, 1900: true, 1990: true}
	holed := slices.Clone(lines)
	for y := range gaps {
		k, _, _ := strings.Cut(holed[y-1700+1], ",")
		holed[y-1700+1] = k + ","
	}
	cfg := "name: t\ndata:\n  source: series:s.csv\n  task: forecasting\n  targets: [SUNACTIVITY]\n" +
		"  series: {time: YEAR, lookback: 1, horizon: 1}\n  preprocess: {scale: none}\n  clean: {missing: interpolate}\n" +
		"  split: {train: 0.7, val: 0.15, test: 0.15}\n"
	ds, _ := mustLoad(t, cfg, map[string]string{"s.csv": strings.Join(holed, "\n") + "\n"})
	got := map[int]float32{} // year -> its input value, from the windows (lookback 1: input = the year before the target)
	for _, s := range ds.Splits() {
		for i := range s.N {
			got[s.Lines[i]-2+1700-1] = s.X[i]
		}
	}
	for y := range gaps {
		lo, hi := y-1, y+1
		for gaps[lo] {
			lo--
		}
		for gaps[hi] {
			hi++
		}
		want := value(lo) + (value(hi)-value(lo))*float64(y-lo)/float64(hi-lo)
		if math.Abs(float64(got[y])-want) > 1e-4 {
			t.Errorf("%d: filled with %v, want %.4f (between %d and %d)", y, got[y], want, lo, hi)
		}
	}
}

// TestInterpolateCO2: the Mauna Loa weekly CO2 record has 59 missing
// weeks; interpolate fills them all, so that windows cover the whole
// series, and a fill lies between its neighbours.
func TestInterpolateCO2(t *testing.T) {
	raw, err := os.ReadFile(repoFile("testdata", "series", "co2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := "name: t\ndata:\n  source: series:co2.csv\n  task: forecasting\n  targets: [co2]\n" +
		"  series: {time: date, lookback: 8, horizon: 1}\n  preprocess: {scale: none}\n  clean: {missing: interpolate}\n"
	ds, rep := mustLoad(t, cfg, map[string]string{"co2.csv": string(raw)})
	if n := ds.Train.N + ds.Val.N + ds.Test.N; n != 2284-8 {
		t.Errorf("%d windows, want %d", n, 2284-8)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "filled 59 missing cells") {
		t.Errorf("notes %q", rep.Notes)
	}
	// 1958-06-07 (line 12) lies in a five-week gap, two weeks after 317.9
	// (05-24) and four before 315.8 (07-05): 317.9 − 2.1·2/6 = 317.2.
	for i := range ds.Train.N {
		if ds.Train.Lines[i] == 13 { // target 1958-06-14: its last input is 06-07
			if v := ds.Train.X[i*8+7]; math.Abs(float64(v)-317.2) > 1e-4 {
				t.Errorf("1958-06-07 filled with %v, want 317.2", v)
			}
			return
		}
	}
	t.Fatal("no window with its target on line 13")
}
