package gradcheck

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/dltrain/dltrain/pkg/models"
)

// WriteText prints one line per parameter and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "parameter\tshape\tchecked\tmax |grad|\tabs error\trel error\t")
	for _, x := range r.Results {
		verdict := "ok"
		switch {
		case !(x.RelErr <= r.Tolerance):
			verdict = "FAIL"
		case x.Zero:
			verdict = "ok (zero gradient)"
		}
		fmt.Fprintf(tw, "%s\t%v\t%d/%d\t%.3g\t%.3g\t%.3g\t%s\n", x.Param, models.Shape(x.Shape), x.Checked, x.Size,
			x.MaxGrad, x.AbsErr, x.RelErr, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	worst := r.Worst()
	verdict := "passed"
	if r.Err() != nil {
		verdict = "FAILED"
	}
	_, err := fmt.Fprintf(w, "loss %.6g on %d samples, ε %.3g; worst relative error %.3g (%s), tolerance %g: %s\n",
		r.Loss, r.Samples, r.Eps, worst.RelErr, worst.Param, r.Tolerance, verdict)
	return err
}
