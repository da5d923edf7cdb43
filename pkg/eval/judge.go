package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Defaults of the judge's two thresholds (issue 14): a sample is
// confident when the classifier's top probability is above 0.9, and a
// class is covered when at least 5% of the samples are put in it.
const (
	DefaultConfidence = 0.9
	DefaultMinShare   = 0.05
)

// JudgeScore is what a judge classifier makes of a set of samples: how
// many it is confident about, and how they spread over its classes. A
// sample belongs to the class of its top probability, confident or not.
type JudgeScore struct {
	// Source names the samples scored: a .npy file, a GAN run, or the
	// judge's own test split.
	Source string `json:"source"`
	N      int    `json:"n"`
	// Confident counts the samples whose top probability is above the
	// report's Confidence; ConfidentShare is Confident / N.
	Confident      int     `json:"confident"`
	ConfidentShare float64 `json:"confident_share"`
	// MeanTop is the mean of the top probability over the samples.
	MeanTop float64 `json:"mean_top_probability"`
	// Coverage counts the classes holding at least the report's MinShare
	// of the samples; Covered names them, in the classifier's order.
	Coverage int      `json:"coverage"`
	Covered  []string `json:"covered"`
	// Classes is the per-class histogram, one entry per class of the
	// classifier, in its order.
	Classes []JudgedClass `json:"classes"`
}

// JudgedClass is one class's bar of the histogram.
type JudgedClass struct {
	Class string  `json:"class"`
	Count int     `json:"count"` // samples whose top class it is
	Share float64 `json:"share"` // Count / N
	// Confident counts those of them whose top probability is above the
	// confidence threshold.
	Confident int `json:"confident"`
}

// JudgeReport holds a judge's scores of generated samples next to its
// scores of real samples (its own test split), with the thresholds used.
type JudgeReport struct {
	Judge      string     `json:"judge"`      // the classifier's run directory
	Checkpoint string     `json:"checkpoint"` // the classifier's checkpoint
	Confidence float64    `json:"confidence"` // a sample is confident above it
	MinShare   float64    `json:"min_share"`  // a class is covered at or above it
	Samples    JudgeScore `json:"samples"`
	Real       JudgeScore `json:"real"`
	// ClassAccuracy scores a conditional GAN's samples against the
	// classes they were drawn for; nil for other samples.
	ClassAccuracy *ClassAccuracy `json:"class_accuracy,omitempty"`
}

// ClassAccuracy is how often a judge puts a conditional GAN's samples in
// the class they were drawn for (their top class).
type ClassAccuracy struct {
	N        int     `json:"n"`
	Correct  int     `json:"correct"`  // samples whose top class is the one drawn
	Accuracy float64 `json:"accuracy"` // Correct / N
	// ConfidentCorrect counts the correct samples whose top probability
	// is above the confidence threshold.
	ConfidentCorrect int `json:"confident_correct"`
	// PerClass has one entry per class drawn, in the GAN's order.
	PerClass []DrawnClass `json:"per_class"`
}

// DrawnClass is one class a conditional GAN drew samples of.
type DrawnClass struct {
	Class     string  `json:"class"`
	Drawn     int     `json:"drawn"`     // samples drawn for it
	Correct   int     `json:"correct"`   // of them, put in it by the judge
	Accuracy  float64 `json:"accuracy"`  // Correct / Drawn
	Confident int     `json:"confident"` // of the correct ones, above the confidence threshold
	// ConfidentShare is Confident / Drawn: the share of the class's
	// samples the judge confidently recognises as that class.
	ConfidentShare float64 `json:"confident_share"`
}

// ScoreClasses scores samples drawn for classes: probs holds N rows of
// probabilities over the judge's classes, drawn[i] is the judge's index
// of the class sample i was drawn for. A sample is correct when its top
// class (as Argmax) is the one drawn. PerClass lists the classes drawn at
// least once, in the judge's order.
func ScoreClasses(probs []float64, classes []string, drawn []int, confidence float64) *ClassAccuracy {
	k := len(classes)
	a := &ClassAccuracy{N: len(drawn)}
	seen := make([]bool, k)
	for _, c := range drawn {
		seen[c] = true
	}
	at := make([]int, k) // each drawn class's place in PerClass
	for c, name := range classes {
		if seen[c] {
			at[c] = len(a.PerClass)
			a.PerClass = append(a.PerClass, DrawnClass{Class: name})
		}
	}
	for i, c := range Argmax(probs, k) {
		d := &a.PerClass[at[drawn[i]]]
		d.Drawn++
		if c == drawn[i] {
			a.Correct++
			d.Correct++
			if probs[i*k+c] > confidence {
				a.ConfidentCorrect++
				d.Confident++
			}
		}
	}
	if a.N > 0 {
		a.Accuracy = float64(a.Correct) / float64(a.N)
	}
	for i := range a.PerClass {
		if d := &a.PerClass[i]; d.Drawn > 0 {
			d.Accuracy = float64(d.Correct) / float64(d.Drawn)
			d.ConfidentShare = float64(d.Confident) / float64(d.Drawn)
		}
	}
	return a
}

// Judge scores samples from their class probabilities: probs holds N rows
// of len(classes) values each. A sample is confident when its top
// probability is above confidence; a class is covered when it holds at
// least minShare of the samples (by top class). Ties go to the first
// class, as Argmax.
func Judge(source string, probs []float64, classes []string, confidence, minShare float64) JudgeScore {
	k := len(classes)
	s := JudgeScore{Source: source, Classes: make([]JudgedClass, k), Covered: []string{}}
	if k == 0 {
		return s
	}
	s.N = len(probs) / k
	for c, name := range classes {
		s.Classes[c].Class = name
	}
	var top float64
	for i, c := range Argmax(probs, k) {
		p := probs[i*k+c]
		top += p
		s.Classes[c].Count++
		if p > confidence {
			s.Confident++
			s.Classes[c].Confident++
		}
	}
	if s.N == 0 {
		return s
	}
	s.ConfidentShare = float64(s.Confident) / float64(s.N)
	s.MeanTop = top / float64(s.N)
	for c := range s.Classes {
		bar := &s.Classes[c]
		bar.Share = float64(bar.Count) / float64(s.N)
		if bar.Share >= minShare {
			s.Coverage++
			s.Covered = append(s.Covered, bar.Class)
		}
	}
	return s
}

// JSON renders the report, indented.
func (r *JudgeReport) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// WriteText renders the report as two small tables: the headline numbers
// of the samples and of the real test samples side by side, then the
// per-class histogram of both.
func (r *JudgeReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "judge: %s checkpoint of %s (%d classes)\n", r.Checkpoint, r.Judge, len(r.Samples.Classes))
	fmt.Fprintf(&b, "confident: top probability > %g; a class is covered when it holds ≥ %g%% of the samples\n\n",
		r.Confidence, 100*r.MinShare)
	scores := []*JudgeScore{&r.Samples, &r.Real}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tN\tconfident\tmean top p\tcoverage\tclasses covered")
	for i, s := range scores {
		name := [...]string{"samples", "real test samples"}[i]
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%d/%d\t%s\n", name, s.N, s.ConfidentShare, s.MeanTop,
			s.Coverage, len(s.Classes), strings.Join(s.Covered, " "))
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nsamples:      %s\nreal samples: %s\n\n", r.Samples.Source, r.Real.Source)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tsamples\tshare\tconfident\treal\tshare\tconfident\t")
	for c := range r.Samples.Classes {
		s := r.Samples.Classes[c]
		var real JudgedClass
		if c < len(r.Real.Classes) {
			real = r.Real.Classes[c]
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%d\t%d\t%.3f\t%d\t\n", s.Class, s.Count, s.Share, s.Confident, real.Count, real.Share, real.Confident)
	}
	tw.Flush()
	if a := r.ClassAccuracy; a != nil {
		fmt.Fprintf(&b, "\nclass accuracy (samples the judge puts in the class they were drawn for): %.4f (%d/%d); confident and right: %.4f\n\n",
			a.Accuracy, a.Correct, a.N, float64(a.ConfidentCorrect)/float64(max(a.N, 1)))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "drawn class	samples	right	accuracy	confident	share	")
		for _, d := range a.PerClass {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%d\t%.3f\t\n", d.Class, d.Drawn, d.Correct, d.Accuracy, d.Confident, d.ConfidentShare)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}
