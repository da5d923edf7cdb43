package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dltrain/dltrain/pkg/config"
)

// DefaultDir is where a sweep goes without --out: sweeps/NAME, NAME being
// the sweep file's name without its extension.
func DefaultDir(file string) string {
	return filepath.Join("sweeps", strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
}

// Start makes dir the sweep's directory: a new one gets a journal whose
// first record is the sweep; an existing one must hold the same sweep
// (its workers continue it).
func Start(dir string, spec *Spec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: cannot create the sweep directory %s: %v", config.ErrInvalid, dir, err)
	}
	lk, err := lockSweep(dir)
	if err != nil {
		return err
	}
	defer lk.Close()
	recs, err := readJournal(dir)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return appendJournal(dir, Record{Event: "sweep", Spec: spec})
	}
	if recs[0].Spec == nil {
		return fmt.Errorf("%w: %s: the first record is not the sweep's", ErrBadJournal, filepath.Join(dir, JournalFile))
	}
	if !sameSweep(recs[0].Spec, spec) {
		return fmt.Errorf("%w: %s holds another sweep (started from %s, or that file changed since); give another --out, or the file it was started from",
			config.ErrInvalid, dir, recs[0].Spec.File)
	}
	return nil
}

// sameSweep compares two specs but for their parallelism, which may change
// between runs.
func sameSweep(a, b *Spec) bool {
	x, y := *a, *b
	x.Parallel, y.Parallel = 0, 0
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// RunOptions are the inputs of Run.
type RunOptions struct {
	Dir    string
	Worker string // the in-process worker's name
	// Spawn runs worker i (0-based) of spec.Parallel as its own process,
	// until the sweep has no work left; nil runs them as goroutines of
	// this process (which then share its GOMAXPROCS: each trial sets it to
	// its train.threads, cores / parallel).
	Spawn    func(ctx context.Context, worker, threads int) error
	Progress io.Writer // a line per finished trial
}

// Run runs a sweep to its end in opt.Dir (continuing it when the
// directory holds it already), with spec.Parallel workers, then writes
// its files and returns its table.
func Run(ctx context.Context, spec *Spec, opt RunOptions) (*Summary, error) {
	if err := Start(opt.Dir, spec); err != nil {
		return nil, err
	}
	var err error
	switch {
	case spec.Parallel <= 1:
		err = Work(ctx, WorkOptions{Dir: opt.Dir, Worker: opt.Worker, Progress: opt.Progress})
	default:
		errs := make([]error, spec.Parallel)
		var wg sync.WaitGroup
		var mu sync.Mutex
		progress := lockedWriter{w: opt.Progress, mu: &mu}
		for i := range spec.Parallel {
			wg.Go(func() {
				if opt.Spawn != nil {
					errs[i] = opt.Spawn(ctx, i, spec.threads())
					return
				}
				errs[i] = Work(ctx, WorkOptions{Dir: opt.Dir, Worker: fmt.Sprintf("%s.%d", opt.Worker, i), Progress: progress, Threads: spec.threads()})
			})
		}
		wg.Wait()
		for _, e := range errs {
			if e != nil {
				err = e
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	s, err := Summarize(opt.Dir)
	if err != nil {
		return nil, err
	}
	_, err = s.WriteFiles()
	return s, err
}

// lockedWriter serializes the lines of in-process workers.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	if l.w == nil {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
