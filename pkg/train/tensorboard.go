package train

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// TensorBoard is the hook that writes a TensorBoard event file in Dir
// (events.out.tfevents.TIME.HOST), so that `tensorboard --logdir runs`
// shows every run: per step the loss ("step/loss") and learning rate
// ("step/lr"), per epoch every logged metric ("epoch/train_loss",
// "epoch/val_accuracy", ...), all against the optimizer step. A resumed
// run adds a new file; TensorBoard reads them together.
//
// The file is TFRecord framing of Event protocol buffers, encoded here by
// hand: no TensorFlow or protobuf dependency.
type TensorBoard struct {
	NopHook
	Dir string
	// Now gives the wall time written with each event (time.Now if nil).
	Now func() time.Time

	f *os.File
	w *bufio.Writer
}

// BeforeRun implements Hook: it creates the file and writes the version
// event TensorBoard expects first.
func (t *TensorBoard) BeforeRun(*Loop) error {
	if t.Now == nil {
		t.Now = time.Now
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	now := t.Now()
	name := filepath.Join(t.Dir, fmt.Sprintf("events.out.tfevents.%d.%s", now.Unix(), host))
	for i := 2; ; i++ { // two sessions in one second get two files
		if _, err := os.Stat(name); os.IsNotExist(err) {
			break
		}
		name = filepath.Join(t.Dir, fmt.Sprintf("events.out.tfevents.%d.%s.%d", now.Unix(), host, i))
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("tensorboard: %w", err)
	}
	t.f, t.w = f, bufio.NewWriter(f)
	return WriteRecord(t.w, versionEvent(now))
}

// AfterStep implements Hook.
func (t *TensorBoard) AfterStep(l *Loop, s StepStats) error {
	return WriteRecord(t.w, ScalarEvent(t.Now(), l.State.Step, map[string]float64{"step/loss": s.Loss, "step/lr": s.LR}))
}

// AfterEpoch implements Hook: every metric of the epoch, then a flush.
func (t *TensorBoard) AfterEpoch(_ *Loop, s EpochStats) error {
	m := map[string]float64{}
	for k, v := range s.Metrics() {
		m["epoch/"+k] = v
	}
	if err := WriteRecord(t.w, ScalarEvent(t.Now(), s.Step, m)); err != nil {
		return err
	}
	return t.w.Flush()
}

// AtEnd implements Hook.
func (t *TensorBoard) AtEnd(*Loop, error) error {
	if t.f == nil {
		return nil
	}
	err := t.w.Flush()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.f = nil
	return err
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC is TFRecord's masked CRC-32C of b.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// WriteRecord frames one record: its length (uint64, little endian), the
// masked CRC of the length, the data, the masked CRC of the data.
func WriteRecord(w *bufio.Writer, data []byte) error {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], MaskedCRC(head[:8]))
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], MaskedCRC(data))
	for _, b := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Protocol buffer wire format, for the few fields of tensorflow.Event
// (wall_time = 1: double, step = 2: int64, file_version = 3: string,
// summary = 5: Summary) and Summary (value = 1: repeated Value; Value:
// tag = 1: string, simple_value = 2: float) that scalars need.
func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendKey(b []byte, field, wire int) []byte { return appendVarint(b, uint64(field<<3|wire)) }

func appendBytes(b []byte, field int, v []byte) []byte {
	b = appendKey(b, field, 2)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func eventHead(t time.Time, step int64) []byte {
	b := appendKey(nil, 1, 1)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(t.UnixNano())/1e9))
	if step != 0 {
		b = appendKey(b, 2, 0)
		b = appendVarint(b, uint64(step))
	}
	return b
}

func versionEvent(t time.Time) []byte {
	return appendBytes(eventHead(t, 0), 3, []byte("brain.Event:2"))
}

// ScalarEvent encodes an Event holding one simple_value per tag, tags in
// sorted order.
func ScalarEvent(t time.Time, step int64, values map[string]float64) []byte {
	tags := make([]string, 0, len(values))
	for k := range values {
		tags = append(tags, k)
	}
	sort.Strings(tags)
	var summary []byte
	for _, tag := range tags {
		v := appendBytes(nil, 1, []byte(tag))
		v = appendKey(v, 2, 5)
		v = binary.LittleEndian.AppendUint32(v, math.Float32bits(float32(values[tag])))
		summary = appendBytes(summary, 1, v)
	}
	return appendBytes(eventHead(t, step), 5, summary)
}
