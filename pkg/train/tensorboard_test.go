package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCRC32C(t *testing.T) {
	// The CRC-32C check value (RFC 3720, "123456789").
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xe3069283 {
		t.Errorf("crc32c = %#x, want 0xe3069283", got)
	}
}

// TestScalarEventBytes compares one framed record with the bytes of an
// independent encoder (a bit-by-bit CRC-32C and hand-written protobuf
// encoding in Python, for wall_time 1700000000.5, step 300 and the two
// scalars below).
func TestScalarEventBytes(t *testing.T) {
	want, _ := hex.DecodeString("3a000000000000001295eae20900002040fc54d94110ac022a2c0a0f0a0865706f63682f6c72156f12833a0a190a1265706f63682f76616c5f6163637572616379158c4a7a3f8b4fcb56")
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	ev := ScalarEvent(time.Unix(1700000000, 5e8), 300, map[string]float64{"epoch/val_accuracy": 0.9777, "epoch/lr": 0.001})
	if err := WriteRecord(w, ev); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("record\n%x\nwant\n%x", b.Bytes(), want)
	}
}

// TestEventFileFraming writes a file through the hook and reads every
// record back, checking both CRCs.
func TestEventFileFraming(t *testing.T) {
	dir := t.TempDir()
	tb := &TensorBoard{Dir: dir}
	l := &Loop{}
	if err := tb.BeforeRun(l); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		l.State.Step = int64(i)
		if err := tb.AfterStep(l, StepStats{Loss: 1 / float64(i), LR: 0.1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.AfterEpoch(l, EpochStats{Epoch: 1, Step: 3, Val: map[string]float64{"val_loss": 0.5}}); err != nil {
		t.Fatal(err)
	}
	if err := tb.AtEnd(l, nil); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("event files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	n := 0
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("truncated record header")
		}
		size := binary.LittleEndian.Uint64(b[:8])
		if MaskedCRC(b[:8]) != binary.LittleEndian.Uint32(b[8:12]) {
			t.Fatalf("record %d: bad length CRC", n)
		}
		data := b[12 : 12+size]
		if MaskedCRC(data) != binary.LittleEndian.Uint32(b[12+size:16+size]) {
			t.Fatalf("record %d: bad data CRC", n)
		}
		if n == 0 && !bytes.Contains(data, []byte("brain.Event:2")) {
			t.Errorf("first record is not the version event")
		}
		b = b[16+size:]
		n++
	}
	if n != 5 {
		t.Errorf("%d records, want 5 (version, 3 steps, 1 epoch)", n)
	}
}
