package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	"gorgonia.org/tensor"
)

// ErrBadCheckpoint is wrapped by errors about a checkpoint that cannot be
// used: unreadable, corrupt, of another format, or of another model.
var ErrBadCheckpoint = errors.New("unusable checkpoint")

// CheckpointFormat is the version of the checkpoint file layout: 3 writes
// its maps in key order (SortedMap), so that identical runs write
// identical files; 2 held one optimizer and schedule state per training
// phase (Phases) in plain maps; 1 held the one optimizer's (Optimizer,
// State.Schedule). Formats 1 and 2 still load.
const CheckpointFormat = 3

const checkpointMagic = "DLTRAIN-CHECKPOINT\n"

// Checkpoint is everything needed to continue a run exactly, or to
// evaluate it: parameters (buffers included), optimizer state, loop state,
// random streams, the resolved config and the data's fitted preprocessing.
//
// Two runs of one experiment write byte-identical checkpoints: maps are
// written in key order and no wall-clock time is written (State.Elapsed
// is saved as 0).
type Checkpoint struct {
	Format int
	Config []byte // resolved experiment YAML
	Meta   []byte // data.Meta as JSON: classes, scaling, source checksum
	Params []TensorRecord
	// Phases holds each training phase's optimizer and schedule state,
	// by phase name.
	Phases []PhaseState
	State  State
	RNG    SortedMap[[]byte] // random stream states, by purpose
}

// SortedMap is a map that checkpoints write in key order. gob writes a
// plain map in Go's random iteration order, so equal states would give
// different bytes.
type SortedMap[V any] map[string]V

// sortedEntries is a SortedMap as written: keys ascending, values in the
// same order.
type sortedEntries[V any] struct {
	Keys   []string
	Values []V
}

// GobEncode implements gob.GobEncoder: the entries in key order.
func (m SortedMap[V]) GobEncode() ([]byte, error) {
	e := sortedEntries[V]{Keys: slices.Sorted(maps.Keys(m))}
	e.Values = make([]V, len(e.Keys))
	for i, k := range e.Keys {
		e.Values[i] = m[k]
	}
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(e)
	return b.Bytes(), err
}

// GobDecode implements gob.GobDecoder.
func (m *SortedMap[V]) GobDecode(b []byte) error {
	var e sortedEntries[V]
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&e); err != nil {
		return err
	}
	if len(e.Keys) != len(e.Values) {
		return fmt.Errorf("%d keys but %d values", len(e.Keys), len(e.Values))
	}
	*m = make(SortedMap[V], len(e.Keys))
	for i, k := range e.Keys {
		(*m)[k] = e.Values[i]
	}
	return nil
}

// checkpointV2 is the layout of formats 1 and 2, whose maps were plain
// maps (gob matches fields by name: format 1 has no Phases, format 2 no
// Optimizer).
type checkpointV2 struct {
	Format int
	Config []byte
	Meta   []byte
	Params []TensorRecord
	Phases []struct {
		Name      string
		Optimizer plainOptimizerState
		Schedule  ScheduleState
	}
	Optimizer plainOptimizerState
	State     State
	RNG       map[string][]byte
}

// plainOptimizerState is OptimizerState as formats 1 and 2 wrote it.
type plainOptimizerState struct {
	Steps   int64
	Buffers map[string][]float64
}

func (o plainOptimizerState) state() OptimizerState {
	return OptimizerState{Steps: o.Steps, Buffers: o.Buffers}
}

// upgrade returns the checkpoint in the current layout: format 1's one
// optimizer becomes the one phase of a loop that lists none.
func (v *checkpointV2) upgrade() *Checkpoint {
	c := &Checkpoint{Format: v.Format, Config: v.Config, Meta: v.Meta, Params: v.Params, State: v.State, RNG: v.RNG}
	if v.Format == 1 {
		c.Phases = []PhaseState{{Name: DefaultPhase, Optimizer: v.Optimizer.state(), Schedule: v.State.Schedule}}
		return c
	}
	for _, p := range v.Phases {
		c.Phases = append(c.Phases, PhaseState{Name: p.Name, Optimizer: p.Optimizer.state(), Schedule: p.Schedule})
	}
	return c
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
		ops.Must(ops.Dispatch(p.Value.Dtype(), recording{r, p.Value}, record[float32], record[float64]))
	}
	return recs
}

// recording is a record r and the tensor whose values it takes.
type recording struct {
	r *TensorRecord
	t *tensor.Dense
}

// valuesOf returns the record's values of element type T (F32 or F64).
func valuesOf[T compute.Float](r *TensorRecord) *[]T { return ops.Pick[[]T](&r.F32, &r.F64) }

// record copies the tensor's values into the record's values of its
// element type, reusing their memory, and clears the other type's.
func record[T compute.Float](a recording) error {
	keep := (*valuesOf[T](a.r))[:0]
	a.r.F32, a.r.F64 = nil, nil
	*valuesOf[T](a.r) = append(keep, ops.Floats[T](a.t)...)
	return nil
}

// restore copies the record's values into the tensor.
func restore[T compute.Float](a recording) error {
	copy(ops.Floats[T](a.t), *valuesOf[T](a.r))
	return nil
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
		if err := ops.Dispatch(p.Value.Dtype(), recording{findRecord(recs, p.Name), p.Value}, restore[float32], restore[float64]); err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
	}
	return nil
}

// findRecord returns the record called name; it is there (RestoreParams
// checked).
func findRecord(recs []TensorRecord, name string) *TensorRecord {
	for i := range recs {
		if recs[i].Name == name {
			return &recs[i]
		}
	}
	return nil
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
	saved := *c
	saved.State.Elapsed = 0 // wall-clock time would make identical runs differ
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(&saved); err != nil {
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

// LoadCheckpoint reads and verifies a checkpoint file: its checksum, then
// its content (see check).
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
	c, err := decodeCheckpoint(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadCheckpoint, path, err)
	}
	if c.Format < 1 || c.Format > CheckpointFormat {
		return nil, fmt.Errorf("%w: %s has format %d; this dltrain reads formats 1 to %d", ErrBadCheckpoint, path, c.Format, CheckpointFormat)
	}
	if ps := c.check(); len(ps) > 0 {
		return nil, fmt.Errorf("%w: %s: the checksum matches but the content is invalid: %s", ErrBadCheckpoint, path, strings.Join(ps, "; "))
	}
	return c, nil
}

// decodeCheckpoint decodes a checkpoint's body in its format: the format
// is read first, since formats 1 and 2 hold plain maps where format 3
// holds SortedMaps. A format this dltrain does not know comes back with
// nothing else decoded.
func decodeCheckpoint(body []byte) (*Checkpoint, error) {
	var head struct{ Format int }
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&head); err != nil {
		return nil, err
	}
	switch head.Format {
	case 1, 2:
		var v checkpointV2
		if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&v); err != nil {
			return nil, err
		}
		return v.upgrade(), nil
	case CheckpointFormat:
		var c Checkpoint
		if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&c); err != nil {
			return nil, err
		}
		return &c, nil
	}
	return &Checkpoint{Format: head.Format}, nil
}
