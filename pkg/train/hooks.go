package train

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// NopHook implements Hook with no-ops, for embedding.
type NopHook struct{}

// BeforeRun implements Hook.
func (NopHook) BeforeRun(*Loop) error { return nil }

// AfterStep implements Hook.
func (NopHook) AfterStep(*Loop, StepStats) error { return nil }

// AfterEpoch implements Hook.
func (NopHook) AfterEpoch(*Loop, EpochStats) error { return nil }

// AtEnd implements Hook.
func (NopHook) AtEnd(*Loop, error) error { return nil }

// MetricsLog appends one row per epoch to metrics.csv and metrics.jsonl.
// A resumed run appends to the files it finds, with their columns.
type MetricsLog struct {
	NopHook
	Dir     string
	columns []string
}

// fixedColumns open every metrics row; the training phases' metrics (a
// GAN's d_fake, d_loss, d_real, g_loss) follow, sorted, then the
// validation metrics, sorted, then elapsed_s (the only column that varies between identical runs).
var fixedColumns = []string{"epoch", "step", "lr", "train_loss", "penalty"}

// AfterEpoch implements Hook.
func (m *MetricsLog) AfterEpoch(_ *Loop, s EpochStats) error {
	row := s.Metrics()
	row["epoch"], row["step"], row["elapsed_s"] = float64(s.Epoch), float64(s.Step), s.Elapsed.Seconds()
	csvPath := filepath.Join(m.Dir, "metrics.csv")
	if m.columns == nil {
		header, err := readHeader(csvPath)
		if err != nil {
			return err
		}
		m.columns = header
		if m.columns == nil {
			var val, phases []string
			for k := range s.Val {
				val = append(val, k)
			}
			for k := range s.Phases {
				phases = append(phases, k)
			}
			sort.Strings(val)
			sort.Strings(phases)
			m.columns = append(append(append(append([]string{}, fixedColumns...), phases...), val...), "elapsed_s")
			// No header means no row that can be read: a file left empty
			// by a process killed between creating and writing it is
			// replaced, not appended to (its empty first line would be
			// read back as the header of a run with no columns).
			if err := os.WriteFile(csvPath, []byte(strings.Join(m.columns, ",")+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	cells := make([]string, len(m.columns))
	obj := map[string]any{}
	for i, c := range m.columns {
		v, ok := row[c]
		switch {
		case !ok || math.IsNaN(v):
			obj[c] = nil
		case math.IsInf(v, 0):
			cells[i] = strconv.FormatFloat(v, 'g', -1, 64)
			obj[c] = nil // JSON has no ±Inf
		case c == "epoch" || c == "step":
			cells[i] = strconv.FormatInt(int64(v), 10)
			obj[c] = int64(v)
		default:
			cells[i] = strconv.FormatFloat(v, 'g', -1, 64)
			obj[c] = v
		}
	}
	if err := appendLine(csvPath, strings.Join(cells, ",")); err != nil {
		return err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return appendLine(filepath.Join(m.Dir, "metrics.jsonl"), string(b))
}

// readHeader returns the columns of an existing metrics.csv, or nil.
func readHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil, sc.Err()
	}
	if strings.TrimSpace(sc.Text()) == "" {
		return nil, nil // created, never written: no header yet
	}
	return strings.Split(sc.Text(), ","), nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, line)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TruncateMetrics drops the rows of metrics.csv and metrics.jsonl after
// epoch (rows a run logged after the checkpoint it resumes from), so the
// resumed run's rows follow on without duplicates. Each file is rewritten
// atomically.
func TruncateMetrics(dir string, epoch int) error {
	csvPath := filepath.Join(dir, "metrics.csv")
	b, err := os.ReadFile(csvPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// Line by line: the last row may be torn (a crash in the middle of a
	// write); it is dropped like the rows after the checkpoint.
	lines := strings.Split(string(b), "\n")
	header := strings.Split(lines[0], ",")
	var out strings.Builder
	out.WriteString(lines[0] + "\n")
	for _, line := range lines[1:] {
		r := strings.Split(line, ",")
		if len(r) != len(header) {
			continue
		}
		if e, err := strconv.Atoi(r[0]); err == nil && e <= epoch {
			out.WriteString(line + "\n")
		}
	}
	if err := writeAtomic(csvPath, []byte(out.String())); err != nil {
		return err
	}
	jsonPath := filepath.Join(dir, "metrics.jsonl")
	b, err = os.ReadFile(jsonPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var kept strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var row struct{ Epoch int }
		if json.Unmarshal([]byte(line), &row) == nil && row.Epoch <= epoch && line != "" {
			kept.WriteString(line + "\n")
		}
	}
	return writeAtomic(jsonPath, []byte(kept.String()))
}

// ElapsedAt returns the training time metrics.csv in dir logged at the end
// of epoch (elapsed_s), 0 when it has no such row: where a run resumed
// after that epoch takes its clock from. A checkpoint written inside a
// later epoch loses that epoch's time so far.
func ElapsedAt(dir string, epoch int) time.Duration {
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil || epoch == 0 {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	col := slices.Index(strings.Split(lines[0], ","), "elapsed_s")
	for _, line := range lines[1:] {
		r := strings.Split(line, ",")
		if col < 0 || len(r) <= col || r[0] != strconv.Itoa(epoch) {
			continue
		}
		if s, err := strconv.ParseFloat(r[col], 64); err == nil && s >= 0 && s < 1e12 {
			return time.Duration(s * float64(time.Second))
		}
	}
	return 0
}

// writeAtomic writes a small file through a temporary name, synced and
// renamed over path.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
