package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/run"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Row is one trial in the sweep's table.
type Row struct {
	Trial     int // 1-based, as printed
	Values    map[string]any
	Value     float64 // best metric over the epochs it trained; NaN when none
	BestEpoch int
	Epochs    int
	Status    string // completed, pruned, failed, paused, running or interrupted
	Dir       string
}

// Summary is a sweep's table and its winner.
type Summary struct {
	Spec     *Spec
	Dir      string
	Rows     []Row
	Best     int  // index in Rows of the winner; -1 when there is none
	Finished bool // no work is left
}

// Summarize reads a sweep directory's journal into its table. The winner
// is the best metric among completed trials (trained all their epochs),
// or among all trials when none completed.
func Summarize(dir string) (*Summary, error) {
	recs, err := readJournal(dir)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: %s has no sweep journal (%s)", config.ErrInvalid, dir, JournalFile)
	}
	st, err := replay(recs)
	if err != nil {
		return nil, err
	}
	s := &Summary{Spec: st.spec, Dir: dir, Best: -1, Finished: st.finished()}
	for _, t := range st.trials {
		row := Row{Trial: t.ID + 1, Values: t.Values, Value: math.NaN(), Dir: TrialDir(dir, t.ID)}
		if r := t.last(); r != nil {
			row.Value, row.BestEpoch, row.Epochs, row.Status = value(r.Value), r.BestEpoch, r.Epochs, r.Status
			if r.Status == "paused" && s.Finished {
				row.Status = "pruned" // ASHA did not promote it
			}
		}
		if t.Pending != nil {
			row.Status = "interrupted"
			if lk, ok, err := lockTrial(dir, t.ID); err == nil && !ok {
				row.Status = "running"
			} else {
				lk.Close()
			}
		}
		s.Rows = append(s.Rows, row)
	}
	s.Best = s.best("completed")
	if s.Best < 0 {
		s.Best = s.best("")
	}
	return s, nil
}

func (s *Summary) best(status string) int {
	best := -1
	for i, r := range s.Rows {
		if math.IsNaN(r.Value) || (status != "" && r.Status != status) {
			continue
		}
		if best < 0 || (s.Spec.Max && r.Value > s.Rows[best].Value) || (!s.Spec.Max && r.Value < s.Rows[best].Value) {
			best = i
		}
	}
	return best
}

// WriteTable prints the table: trial, values, metric, its epoch, epochs
// trained and status; the winner is marked with *.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "trial\t")
	for _, p := range s.Spec.Space {
		fmt.Fprintf(tw, "%s\t", shortName(p.Path))
	}
	fmt.Fprintf(tw, "%s\tbest epoch\tepochs\tstatus\t\n", s.Spec.Metric)
	for i, r := range s.Rows {
		mark := " "
		if i == s.Best {
			mark = "*"
		}
		fmt.Fprintf(tw, "%d%s\t", r.Trial, mark)
		for _, p := range s.Spec.Space {
			fmt.Fprintf(tw, "%s\t", show(p, r.Values[p.Path]))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", metricText(r.Value), r.BestEpoch, r.Epochs, r.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Best >= 0 {
		b := s.Rows[s.Best]
		_, err := fmt.Fprintf(w, "best: trial %d, %s %s at epoch %d (%s)\n", b.Trial, s.Spec.Metric, metricText(b.Value), b.BestEpoch, b.Dir)
		return err
	}
	return nil
}

func metricText(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', 4, 64) // 4 significant digits: 0.9814, 0.0004123
}

// TotalEpochs is the epochs trained over every trial.
func (s *Summary) TotalEpochs() int {
	n := 0
	for _, r := range s.Rows {
		n += r.Epochs
	}
	return n
}

// WriteFiles writes trials.csv, best.yaml (the winning experiment, ready
// for dltrain train) and the plots (plots/PARAM.png: the metric against
// each parameter; plots/running-best.png) into the sweep directory, and
// returns the files written.
func (s *Summary) WriteFiles() ([]string, error) {
	var files []string
	path := filepath.Join(s.Dir, "trials.csv")
	if err := s.writeCSV(path); err != nil {
		return nil, err
	}
	files = append(files, path)
	if s.Best >= 0 {
		path = filepath.Join(s.Dir, "best.yaml")
		if err := s.writeBest(path); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	plots, err := s.plot(filepath.Join(s.Dir, "plots"))
	return append(files, plots...), err
}

func (s *Summary) writeCSV(path string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"trial"}
	for _, p := range s.Spec.Space {
		head = append(head, p.Path)
	}
	w.Write(append(head, s.Spec.Metric, "best_epoch", "epochs", "status", "dir"))
	for _, r := range s.Rows {
		rec := []string{strconv.Itoa(r.Trial)}
		for _, p := range s.Spec.Space {
			v, _ := formatValue(p, r.Values[p.Path])
			rec = append(rec, v)
		}
		val := ""
		if !math.IsNaN(r.Value) {
			val = strconv.FormatFloat(r.Value, 'g', -1, 64)
		}
		w.Write(append(rec, val, strconv.Itoa(r.BestEpoch), strconv.Itoa(r.Epochs), r.Status, r.Dir))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func (s *Summary) writeBest(path string) error {
	b := s.Rows[s.Best]
	base, err := run.Load(s.Spec.Experiment, nil)
	if err != nil {
		return err
	}
	sets, err := overrides(base, s.Spec.Space, b.Values, nil)
	if err != nil {
		return err
	}
	exp, err := run.Load(s.Spec.Experiment, sets)
	if err != nil {
		return err
	}
	text, err := exp.YAML()
	if err != nil {
		return err
	}
	head := fmt.Sprintf("# The best trial of the sweep %s: trial %d, %s %s at epoch %d (run %s).\n"+
		"# Train it with: dltrain train --config %s\n", s.Spec.File, b.Trial, s.Spec.Metric, metricText(b.Value), b.BestEpoch, b.Dir, path)
	return os.WriteFile(path, append([]byte(head), text...), 0o644)
}

// plot draws the metric against each parameter, and each trial's metric
// with the running best against the trial number.
func (s *Summary) plot(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, p := range s.Spec.Space {
		fig := plot.New()
		fig.Title.Text = fmt.Sprintf("%s against %s", s.Spec.Metric, p.Path)
		fig.X.Label.Text, fig.Y.Label.Text = p.Path, s.Spec.Metric
		fig.Add(plotter.NewGrid())
		var pts plotter.XYs
		for _, r := range s.Rows {
			if math.IsNaN(r.Value) {
				continue
			}
			x, ok := r.Values[p.Path].(float64)
			if p.Kind == "choice" {
				x, ok = float64(p.choiceIndex(r.Values[p.Path])), true
			}
			if ok {
				pts = append(pts, plotter.XY{X: x, Y: r.Value})
			}
		}
		switch p.Kind {
		case "log_uniform":
			fig.X.Scale, fig.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		case "choice":
			var ticks []plot.Tick
			for i, c := range p.Choices {
				ticks = append(ticks, plot.Tick{Value: float64(i), Label: show(p, c)})
			}
			fig.X.Tick.Marker = plot.ConstantTicks(ticks)
			fig.X.Min, fig.X.Max = -0.5, float64(len(p.Choices))-0.5
		}
		if len(pts) > 0 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			fig.Add(sc)
		}
		path := filepath.Join(dir, fileName(p.Path)+".png")
		if err := fig.Save(run.PlotSize.W, run.PlotSize.H, path); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	path, err := s.plotRunningBest(dir)
	return append(files, path), err
}

func (s *Summary) plotRunningBest(dir string) (string, error) {
	fig := plot.New()
	fig.Title.Text = "trials and the running best"
	fig.X.Label.Text, fig.Y.Label.Text = "trial", s.Spec.Metric
	fig.Add(plotter.NewGrid())
	var pts, best plotter.XYs
	b := math.NaN()
	for _, r := range s.Rows {
		if math.IsNaN(r.Value) {
			continue
		}
		pts = append(pts, plotter.XY{X: float64(r.Trial), Y: r.Value})
		if math.IsNaN(b) || (s.Spec.Max && r.Value > b) || (!s.Spec.Max && r.Value < b) {
			b = r.Value
		}
		best = append(best, plotter.XY{X: float64(r.Trial), Y: b})
	}
	if len(pts) > 0 {
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return "", err
		}
		line, err := plotter.NewLine(best)
		if err != nil {
			return "", err
		}
		line.Width = vg.Points(1.5)
		fig.Add(sc, line)
		fig.Legend.Add("trial", sc)
		fig.Legend.Add("running best", line)
	}
	path := filepath.Join(dir, "running-best.png")
	return path, fig.Save(run.PlotSize.W, run.PlotSize.H, path)
}

// fileName makes a parameter path a file name.
func fileName(path string) string {
	out := []byte(path)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			out[i] = '_'
		}
	}
	return string(out)
}
