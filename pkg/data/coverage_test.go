package data

import (
	"strconv"
	"strings"
	"testing"
)

// TestClassesWithoutTrainingSamples (issue 16, item 5): a class declared in
// data.classes that no training sample has, or one whose only samples went
// to val or test, is noted (data.clean.labels: warn, the default) or
// refused (data.clean.labels: error), by name.
func TestClassesWithoutTrainingSamples(t *testing.T) {
	var twoClasses strings.Builder // three classes declared, two in the data
	twoClasses.WriteString("a,b,y\n")
	for i := range 20 {
		twoClasses.WriteString(strings.Join([]string{strconv.Itoa(i), strconv.Itoa(i * 2), []string{"cat", "dog"}[i%2]}, ",") + "\n")
	}
	var testOnly strings.Builder // class 2 only on rows the split column puts in test
	testOnly.WriteString("a,b,y,s\n")
	for i := range 20 {
		y, s := strconv.Itoa(i%2), "train"
		switch {
		case i >= 18:
			y, s = "2", "test"
		case i >= 14:
			s = "val"
		}
		testOnly.WriteString(strings.Join([]string{strconv.Itoa(i), strconv.Itoa(i * 2), y, s}, ",") + "\n")
	}
	classes := "  classes: [cat, dog, cow]\n"
	column := "  split: {method: column, column: s}\n"
	for _, tc := range []struct {
		name, extra, text string
		note              string // with the default, warn
	}{
		{"declared, absent", classes, twoClasses.String(), `class "cow" (data.classes) has no training sample`},
		{"only in test", column, testOnly.String(), `class "2" has no training sample (its 2 samples are all in val or test)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(csvConfig, "  split: {train: 0.5, val: 0.25, test: 0.25, stratify: false}\n", tc.extra, 1)
			if tc.extra == classes {
				cfg = strings.Replace(csvConfig, "label: y\n", "label: y\n"+classes, 1)
			}
			_, rep := mustLoad(t, cfg, map[string]string{"data.csv": tc.text})
			if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, tc.note) || !strings.Contains(notes, "data.clean.labels: error") {
				t.Errorf("notes lack %q:\n%s", tc.note, notes)
			}
			_, _, err := load(t, cfg+"  clean: {labels: error}\n", map[string]string{"data.csv": tc.text})
			wantBadData(t, err, "data.csv", strings.TrimSuffix(tc.note, " (its 2 samples are all in val or test)"), "data.clean.labels: error")
		})
	}
	// Every class with training samples: no note, and error accepts it.
	_, rep := mustLoad(t, csvConfig+"  clean: {labels: error}\n", map[string]string{"data.csv": "a,b,y\n1,2,0\n2,3,1\n3,4,0\n4,5,1\n5,6,0\n6,7,1\n7,8,0\n8,9,1\n"})
	if notes := strings.Join(rep.Notes, "\n"); strings.Contains(notes, "training sample") {
		t.Errorf("a note about a class without training samples:\n%s", notes)
	}
	// Gaps in numeric labels keep their own note (are they 1-based?), and
	// error refuses them too.
	_, _, err := load(t, csvConfig+"  clean: {labels: error}\n", map[string]string{"data.csv": "a,b,y\n1,2,1\n2,3,2\n3,4,1\n4,5,2\n5,6,1\n6,7,2\n7,8,1\n8,9,2\n"})
	wantBadData(t, err, `class "0" has no training sample`)
}
