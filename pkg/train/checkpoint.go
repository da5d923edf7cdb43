package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// ErrBadCheckpoint is wrapped by errors about a checkpoint that cannot be
// used: unreadable, corrupt, of another format, or of another model.
var ErrBadCheckpoint = errors.New("unusable checkpoint")

// CheckpointFormat is the version of the checkpoint file layout: 2 holds
// one optimizer and schedule state per training phase (Phases); 1, which
// still loads, held the one optimizer's (Optimizer, State.Schedule).
const CheckpointFormat = 2

const checkpointMagic = "DLTRAIN-CHECKPOINT\n"

// Checkpoint is everything needed to continue a run exactly, or to
// evaluate it: parameters (buffers included), optimizer state, loop state,
// random streams, the resolved config and the data's fitted preprocessing.
type Checkpoint struct {
	Format int
	Config []byte // resolved experiment YAML
	Meta   []byte // data.Meta as JSON: classes, scaling, source checksum
	Params []TensorRecord
	// Phases holds each training phase's optimizer and schedule state,
	// by phase name.
	Phases []PhaseState
	// Optimizer is the one optimizer's state of a format 1 checkpoint;
	// LoadCheckpoint moves it into Phases, as the state of DefaultPhase.
	Optimizer OptimizerState
	State     State
	RNG       map[string][]byte // random stream states, by purpose
}

// TensorRecord is one parameter as saved.
type TensorRecord struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
}

// CaptureParams copies every parameter of store (buffers included).
func CaptureParams(store *models.ParamStore) []TensorRecord {
	return CaptureParamsInto(nil, store)
}

// CaptureParamsInto is CaptureParams into the memory of recs, an earlier
// capture of the same store (or nil), which it overwrites: the training
// loop keeps the best epoch's weights this way without allocating.
func CaptureParamsInto(recs []TensorRecord, store *models.ParamStore) []TensorRecord {
	all := store.All()
	if len(recs) != len(all) {
		recs = make([]TensorRecord, len(all))
	}
	for i, p := range all {
		r := &recs[i]
		if r.Name != p.Name || !slices.Equal(r.Shape, p.Value.Shape()) {
			*r = TensorRecord{Name: p.Name, Shape: append([]int(nil), p.Value.Shape()...)}
		}
		switch p.Value.Dtype() {
		case tensor.Float32:
			r.F32, r.F64 = append(r.F32[:0], p.Value.Float32s()...), nil
		case tensor.Float64:
			r.F32, r.F64 = nil, append(r.F64[:0], p.Value.Float64s()...)
		}
	}
	return recs
}

// RestoreParams copies saved tensors into store. Every parameter must be
// present with the same shape and dtype; all mismatches are listed.
func RestoreParams(store *models.ParamStore, recs []TensorRecord) error {
	byName := map[string]TensorRecord{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	var problems []string
	for _, p := range store.All() {
		r, ok := byName[p.Name]
		delete(byName, p.Name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %v is missing", p.Name, p.Value.Shape()))
		case !tensor.Shape(r.Shape).Eq(p.Value.Shape()):
			problems = append(problems, fmt.Sprintf("%s has shape %v in the checkpoint, %v in the model", p.Name, r.Shape, p.Value.Shape()))
		case (r.F32 != nil) != (p.Value.Dtype() == tensor.Float32):
			problems = append(problems, fmt.Sprintf("%s has another dtype in the checkpoint than %v", p.Name, p.Value.Dtype()))
		}
	}
	for name := range byName {
		problems = append(problems, fmt.Sprintf("%s is in the checkpoint but not in the model", name))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: it belongs to a different model: %s", ErrBadCheckpoint, strings.Join(problems, "; "))
	}
	for _, p := range store.All() {
		r := findRecord(recs, p.Name)
		switch p.Value.Dtype() {
		case tensor.Float32:
			d := p.Value.Float32s()
			copy(d, r.F32)
		case tensor.Float64:
			d := p.Value.Float64s()
			copy(d, r.F64)
		}
	}
	return nil
}

func findRecord(recs []TensorRecord, name string) TensorRecord {
	for _, r := range recs {
		if r.Name == name {
			return r
		}
	}
	return TensorRecord{}
}

// faultHook, when set by a test, is called at each stage of a checkpoint
// write; returning an error simulates the process dying there.
var faultHook func(stage string) error

func fault(stage string) error {
	if faultHook != nil {
		return faultHook(stage)
	}
	return nil
}

// Save writes the checkpoint to path atomically: to a temporary file in the
// same directory, fsynced, renamed over path, and the directory fsynced. A
// crash at any moment leaves either the previous file or the new one, never
// a mix; the checksum in the header catches anything else.
func (c *Checkpoint) Save(path string) error {
	c.Format = CheckpointFormat
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(c); err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	sum := sha256.Sum256(body.Bytes())
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	write := func() error {
		if _, err := tmp.WriteString(checkpointMagic); err != nil {
			return err
		}
		if _, err := tmp.Write(sum[:]); err != nil {
			return err
		}
		half := body.Len() / 2
		if _, err := tmp.Write(body.Bytes()[:half]); err != nil {
			return err
		}
		if err := fault("write"); err != nil {
			return err
		}
		if _, err := tmp.Write(body.Bytes()[half:]); err != nil {
			return err
		}
		if err := fault("sync"); err != nil {
			return err
		}
		return tmp.Sync()
	}
	if err := write(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := fault("rename"); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadCheckpoint reads and verifies a checkpoint file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	if !bytes.HasPrefix(b, []byte(checkpointMagic)) {
		return nil, fmt.Errorf("%w: %s is not a dltrain checkpoint", ErrBadCheckpoint, path)
	}
	b = b[len(checkpointMagic):]
	if len(b) < sha256.Size {
		return nil, fmt.Errorf("%w: %s is truncated", ErrBadCheckpoint, path)
	}
	want, body := b[:sha256.Size], b[sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], want) {
		return nil, fmt.Errorf("%w: %s is corrupt or truncated (checksum mismatch)", ErrBadCheckpoint, path)
	}
	var c Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadCheckpoint, path, err)
	}
	switch c.Format {
	case 1: // one optimizer: the one phase of a loop that lists none
		c.Phases = []PhaseState{{Name: DefaultPhase, Optimizer: c.Optimizer, Schedule: c.State.Schedule}}
		c.Optimizer = OptimizerState{}
	case CheckpointFormat:
	default:
		return nil, fmt.Errorf("%w: %s has format %d; this dltrain reads formats 1 and %d", ErrBadCheckpoint, path, c.Format, CheckpointFormat)
	}
	return &c, nil
}
