package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// JournalFile is the sweep directory's journal: one JSON record a line,
// appended (and fsynced) under the sweep's lock, never rewritten.
const JournalFile = "journal.jsonl"

// ErrBadJournal is wrapped by errors in a journal that cannot be read.
var ErrBadJournal = errors.New("bad sweep journal")

// Record is one line of the journal.
type Record struct {
	Event string    `json:"event"` // "sweep" (the first line), "claim" or "result"
	Time  time.Time `json:"time"`
	Spec  *Spec     `json:"spec,omitempty"` // "sweep": the sweep as it started
	Trial int       `json:"trial"`
	Rung  int       `json:"rung"` // ASHA's or Hyperband's rung; 0 otherwise
	// Bracket is a Hyperband claim's bracket s (the trial's, dealt by
	// its number); absent otherwise.
	Bracket *int `json:"bracket,omitempty"`
	// Budget is the epochs the claim trains the trial to; 0 is all.
	Budget int            `json:"budget,omitempty"`
	Values map[string]any `json:"values,omitempty"` // "claim": the trial's values
	Worker string         `json:"worker,omitempty"`
	// "result": how the claim ended.
	Status    string     `json:"status,omitempty"` // completed, paused, pruned or failed
	Value     *float64   `json:"value,omitempty"`  // best metric over the epochs trained; null: none finite
	BestEpoch int        `json:"best_epoch,omitempty"`
	Epochs    int        `json:"epochs,omitempty"`
	Curve     []*float64 `json:"curve,omitempty"` // the metric at each epoch
	Error     string     `json:"error,omitempty"`
	// FromEpoch and FromStep are where the claim's training started: the
	// epochs and steps of the checkpoint it resumed (a promotion, or a
	// trial whose worker was stopped); absent when it started afresh.
	FromEpoch int     `json:"from_epoch,omitempty"`
	FromStep  int64   `json:"from_step,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`
}

// readJournal reads every record of dir's journal. A last line cut short
// by a crash mid-append is ignored (the append is redone); a bad line
// anywhere else is an error.
func readJournal(dir string) ([]Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Record
	lines := bytes.Split(b, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			if i == len(lines)-1 { // no newline yet: an append cut short
				break
			}
			return nil, fmt.Errorf("%w: %s:%d: %v", ErrBadJournal, filepath.Join(dir, JournalFile), i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// appendJournal appends records and syncs the file. The caller holds the
// sweep's lock. A last line left without its newline by a crash (a
// record cut short, which readJournal skipped) is cut off first, so the
// journal stays whole lines.
func appendJournal(dir string, recs ...Record) error {
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := cutTornLine(f); err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, r := range recs {
		if r.Time.IsZero() {
			r.Time = time.Now().UTC()
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return err
	}
	return f.Sync()
}

// cutTornLine truncates f after its last newline.
func cutTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return err
	}
	if b[len(b)-1] == '\n' {
		return nil
	}
	return f.Truncate(int64(bytes.LastIndexByte(b, '\n') + 1))
}

// lockedFile is a flock held on a file; Close releases it.
type lockedFile struct{ f *os.File }

func (l *lockedFile) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	return l.f.Close()
}

// lockSweep takes the sweep's lock (DIR/journal.lock), waiting for it.
func lockSweep(dir string) (*lockedFile, error) {
	return lockFile(filepath.Join(dir, "journal.lock"), true)
}

// lockTrial takes a trial's lock without waiting: ok is false when a
// worker is running it now. A worker killed mid-trial releases it with
// its process, so another takes the trial over.
func lockTrial(dir string, trial int) (l *lockedFile, ok bool, err error) {
	l, err = lockFile(TrialDir(dir, trial)+".lock", false)
	if errors.Is(err, errLocked) {
		return nil, false, nil
	}
	return l, err == nil, err
}

var errLocked = errors.New("locked by another worker")

func lockFile(path string, wait bool) (*lockedFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f, wait); err != nil {
		f.Close()
		return nil, err
	}
	return &lockedFile{f: f}, nil
}

// float is a metric for the journal: nil when not finite.
func float(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// value reads a journal metric: NaN for nil.
func value(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
