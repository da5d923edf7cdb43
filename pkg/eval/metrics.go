package eval

import (
	"encoding/json"
	"math"
	"strconv"
)

// ClassReport is the per-class part of a classification report.
type ClassReport struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // true samples of the class
}

// Classification is the evaluation of class predictions.
type Classification struct {
	N        int           `json:"n"`
	Accuracy float64       `json:"accuracy"`
	MacroF1  float64       `json:"macro_f1"`
	Classes  []ClassReport `json:"per_class"`
	// Confusion[i][j] counts samples of true class i predicted as j.
	Confusion [][]int `json:"confusion_matrix"`
}

// Classify scores predicted classes against true ones. Precision of a class
// never predicted, and recall of a class absent from the targets, are 0, as
// scikit-learn's zero_division=0; macro-F1 averages over every class.
func Classify(classes []string, truth, pred []int) Classification {
	k := len(classes)
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	correct := 0
	for i, t := range truth {
		conf[t][pred[i]]++
		if t == pred[i] {
			correct++
		}
	}
	c := Classification{N: len(truth), Confusion: conf}
	if c.N > 0 {
		c.Accuracy = float64(correct) / float64(c.N)
	}
	for j, name := range classes {
		tp, predicted, actual := conf[j][j], 0, 0
		for i := 0; i < k; i++ {
			predicted += conf[i][j]
			actual += conf[j][i]
		}
		r := ClassReport{Class: name, Support: actual}
		if predicted > 0 {
			r.Precision = float64(tp) / float64(predicted)
		}
		if actual > 0 {
			r.Recall = float64(tp) / float64(actual)
		}
		if r.Precision+r.Recall > 0 {
			r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
		}
		c.MacroF1 += r.F1
		c.Classes = append(c.Classes, r)
	}
	if k > 0 {
		c.MacroF1 /= float64(k)
	}
	return c
}

// Argmax returns the index of the largest value of each row of width k.
func Argmax(scores []float64, k int) []int {
	out := make([]int, len(scores)/k)
	for i := range out {
		row := scores[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// Regression is the evaluation of real-valued predictions.
type Regression struct {
	N   int     `json:"n"`   // samples
	MSE float64 `json:"mse"` // over every target value
	MAE float64 `json:"mae"`
	// R2 is the mean over targets of each target's 1 − SS_res/SS_tot
	// (scikit-learn's r2_score, uniform average), over the targets that
	// are not constant; NaN when all are.
	R2 float64 `json:"r2"`
	// Targets scores each target on its own, when there are several.
	Targets []TargetScore `json:"targets,omitempty"`
	// Baselines are a forecasting run's naive forecasts (persistence,
	// seasonal naive) scored on the same windows; BaselinesSkipped says
	// why one was not computed.
	Baselines        []Baseline `json:"baselines,omitempty"`
	BaselinesSkipped string     `json:"baselines_skipped,omitempty"`
}

// TargetScore is one target's regression scores.
type TargetScore struct {
	Name string  `json:"name"`
	MSE  float64 `json:"mse"`
	MAE  float64 `json:"mae"`
	R2   float64 `json:"r2"` // NaN (null) when the target is constant
}

// Regress scores predictions against targets, both samples × width
// values (width targets per sample, named by names when it has width
// entries).
func Regress(truth, pred []float64, width int, names []string) Regression {
	width = max(width, 1)
	n := len(truth) / width
	r := Regression{N: n}
	if n == 0 {
		return r
	}
	var sqSum, absSum, r2Sum float64
	defined := 0
	scores := make([]TargetScore, width)
	for j := range width {
		var mean float64
		for i := range n {
			mean += truth[i*width+j]
		}
		mean /= float64(n)
		var ssRes, ssTot, abs float64
		for i := range n {
			t := truth[i*width+j]
			d := pred[i*width+j] - t
			ssRes += d * d
			abs += math.Abs(d)
			ssTot += (t - mean) * (t - mean)
		}
		sqSum += ssRes
		absSum += abs
		sc := TargetScore{Name: "y" + strconv.Itoa(j), MSE: ssRes / float64(n), MAE: abs / float64(n), R2: math.NaN()}
		if len(names) == width {
			sc.Name = names[j]
		}
		if ssTot > 0 {
			sc.R2 = 1 - ssRes/ssTot
			r2Sum += sc.R2
			defined++
		}
		scores[j] = sc
	}
	r.MSE = sqSum / float64(n*width)
	r.MAE = absSum / float64(n*width)
	r.R2 = math.NaN()
	if defined > 0 {
		r.R2 = r2Sum / float64(defined)
	}
	if width > 1 {
		r.Targets = scores
	}
	return r
}

// MarshalJSON writes an undefined R² (NaN) as null, which JSON can carry.
func (t TargetScore) MarshalJSON() ([]byte, error) {
	type plain TargetScore
	var r2 *float64
	if !math.IsNaN(t.R2) {
		r2 = &t.R2
	}
	return json.Marshal(struct {
		plain
		R2 *float64 `json:"r2"`
	}{plain(t), r2})
}

// UnmarshalJSON reads null R² back as NaN.
func (t *TargetScore) UnmarshalJSON(b []byte) error {
	type plain TargetScore
	var v struct {
		plain
		R2 *float64 `json:"r2"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = TargetScore(v.plain)
	t.R2 = math.NaN()
	if v.R2 != nil {
		t.R2 = *v.R2
	}
	return nil
}

// MarshalJSON writes an undefined R² (NaN) as null, which JSON can carry.
func (r Regression) MarshalJSON() ([]byte, error) {
	type plain Regression
	var r2 *float64
	if !math.IsNaN(r.R2) {
		r2 = &r.R2
	}
	return json.Marshal(struct {
		plain
		R2 *float64 `json:"r2"`
	}{plain(r), r2})
}

// UnmarshalJSON reads null R² back as NaN.
func (r *Regression) UnmarshalJSON(b []byte) error {
	type plain Regression
	var v struct {
		plain
		R2 *float64 `json:"r2"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Regression(v.plain)
	r.R2 = math.NaN()
	if v.R2 != nil {
		r.R2 = *v.R2
	}
	return nil
}
