package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// maxMatrixClasses is the most classes whose confusion matrix the text
// report prints; a language model's vocabulary makes an unreadable one.
const maxMatrixClasses = 20

// Report is the evaluation of one checkpoint on one split.
type Report struct {
	Run        string  `json:"run,omitempty"`
	Checkpoint string  `json:"checkpoint"`
	Split      string  `json:"split"`
	Task       string  `json:"task"`
	Loss       float64 `json:"loss"`
	// Perplexity is exp(loss) for a language model: the effective number
	// of equally likely next tokens.
	Perplexity     float64         `json:"perplexity,omitempty"`
	Classification *Classification `json:"classification,omitempty"`
	Regression     *Regression     `json:"regression,omitempty"`
	Reconstruction *Reconstruction `json:"reconstruction,omitempty"`
	Seq2Seq        *Seq2Seq        `json:"seq2seq,omitempty"`
}

// Metrics flattens the headline numbers: loss, accuracy, macro_f1 or mse,
// mae, r2.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"loss": r.Loss}
	if c := r.Classification; c != nil {
		m["accuracy"], m["macro_f1"] = c.Accuracy, c.MacroF1
	}
	if r.Perplexity > 0 {
		m["perplexity"] = r.Perplexity
	}
	if q := r.Seq2Seq; q != nil {
		m["accuracy"] = q.TokenAccuracy
		if d := q.Greedy; d != nil {
			m["exact_match"], m["bleu"] = d.ExactMatch, d.BLEU.Score
		}
		if d := q.Beam; d != nil {
			m["beam_exact_match"], m["beam_bleu"] = d.ExactMatch, d.BLEU.Score
		}
	}
	if g := r.Regression; g != nil {
		m["mse"], m["mae"], m["r2"] = g.MSE, g.MAE, g.R2
	}
	if g := r.Reconstruction; g != nil {
		m["mse"], m["mae"] = g.MSE, g.MAE
		if g.PCA != nil {
			m["pca_mse"] = g.PCA.MSE
		}
	}
	return m
}

// JSON renders the report, indented.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// WriteText renders the report as a readable table.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s split, %s checkpoint", r.Split, r.Checkpoint)
	if r.Run != "" {
		fmt.Fprintf(&b, " of %s", r.Run)
	}
	b.WriteString("\n")
	if c := r.Classification; c != nil {
		fmt.Fprintf(&b, "samples %d  loss %.4f  accuracy %.4f  macro-F1 %.4f", c.N, r.Loss, c.Accuracy, c.MacroF1)
		if r.Perplexity > 0 {
			fmt.Fprintf(&b, "  perplexity %.3f", r.Perplexity)
		}
		b.WriteString("\n\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "class\tprecision\trecall\tF1\tsupport\t")
		for _, k := range c.Classes {
			fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", k.Class, k.Precision, k.Recall, k.F1, k.Support)
		}
		tw.Flush()
		if len(c.Classes) > maxMatrixClasses {
			fmt.Fprintf(&b, "\n(the %d×%d confusion matrix is in the JSON report)\n", len(c.Classes), len(c.Classes))
			_, err := io.WriteString(w, b.String())
			return err
		}
		b.WriteString("\nconfusion matrix (rows: true class, columns: predicted)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, k := range c.Classes {
			fmt.Fprintf(tw, "%s\t", k.Class)
		}
		fmt.Fprintln(tw)
		for i, row := range c.Confusion {
			fmt.Fprintf(tw, "%s\t", c.Classes[i].Class)
			for _, v := range row {
				fmt.Fprintf(tw, "%d\t", v)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	if g := r.Regression; g != nil {
		fmt.Fprintf(&b, "samples %d  loss %.6g  MSE %.6g  MAE %.6g  R² %.4f\n", g.N, r.Loss, g.MSE, g.MAE, g.R2)
		if len(g.Targets) > 1 && len(g.Targets) <= 20 {
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "\ntarget\tMSE\tMAE\tR²\t")
			for _, t := range g.Targets {
				fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.4f\t\n", t.Name, t.MSE, t.MAE, t.R2)
			}
			tw.Flush()
		}
		g.writeBaselines(&b, r.Split)
	}
	if g := r.Reconstruction; g != nil {
		fmt.Fprintf(&b, "samples %d  loss %.6g  MSE %.6g  MAE %.6g\n", g.N, r.Loss, g.MSE, g.MAE)
		if p := g.PCA; p != nil {
			plural := "s"
			if p.Components == 1 {
				plural = ""
			}
			fmt.Fprintf(&b, "PCA baseline, %d component%s fitted on the %d training samples (%.1f%% of their variance): MSE %.6g  MAE %.6g\n",
				p.Components, plural, p.TrainSamples, 100*p.Explained, p.MSE, p.MAE)
			verdict := "beats"
			if !(g.MSE < p.MSE) {
				verdict = "does not beat"
			}
			fmt.Fprintf(&b, "the model %s PCA: its MSE is %.1f%% of PCA's\n", verdict, 100*g.MSE/p.MSE)
		}
		if g.PCASkipped != "" {
			fmt.Fprintf(&b, "PCA baseline %s\n", g.PCASkipped)
		}
	}
	if q := r.Seq2Seq; q != nil {
		fmt.Fprintf(&b, "samples %d  loss %.4f  token accuracy %.4f (teacher-forced, %d tokens)\n", q.N, r.Loss, q.TokenAccuracy, q.Tokens)
		for _, d := range []*Decoding{q.Greedy, q.Beam} {
			if d == nil {
				continue
			}
			name := "greedy"
			if d.Beam > 1 {
				name = fmt.Sprintf("beam %d (length penalty %g)", d.Beam, d.LengthPenalty)
			}
			fmt.Fprintf(&b, "%s decoding: exact match %.4f  BLEU-4 %.4f (brevity penalty %.4f, precisions %.4f %.4f %.4f %.4f)\n",
				name, d.ExactMatch, d.BLEU.Score, d.BLEU.BrevityPenalty, d.BLEU.Precisions[0], d.BLEU.Precisions[1], d.BLEU.Precisions[2], d.BLEU.Precisions[3])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
