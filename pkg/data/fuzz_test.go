package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// The fuzz targets feed the readers of user files arbitrary bytes: they
// must never panic, every error must be a data error (exit code 2), and
// what they accept must be consistent. `make fuzz-smoke` runs each for a
// few seconds; `go test` runs the seeds.

func wantDataErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrBadData) && !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("error %q is not a data error", err)
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n",
		"\xef\xbb\xbfa,b,y\r\n1,NA,0\r\n3,4,1\r\n",
		"x,c,y\n1,red,a\n2,blue,b\n,green,a\n3,red,\n",
		"a,b,y\n1,2\n",
		"\"a\",\"b\"\"\",y\n1,\"2\",1\n",
		"y\n1\n",
		"",
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, header bool) {
		opt := csvOptions{header: header, targets: []string{"-1"}, cats: nil}
		fr, err := readCSV("fuzz.csv", bytes.NewReader(b), opt)
		wantDataErr(t, err)
		if err != nil {
			return
		}
		n := fr.rows()
		if len(fr.x) != n*fr.width || len(fr.y) != n*len(fr.targets) || len(fr.cx) != n*len(fr.cats) || len(fr.yCols) != len(fr.y) {
			t.Fatalf("inconsistent frame: %d rows, %d x, %d y", n, len(fr.x), len(fr.y))
		}
		// The rest of the pipeline takes whatever the reader accepts.
		exp := config.Default()
		exp.Data.Source = "csv:fuzz.csv"
		exp.Data.Clean.Missing = "mean"
		exp.Data.Clean.Duplicates = "drop"
		_, err = buildTable(&exp, fr, nil, &Report{})
		wantDataErr(t, err)
	})
}

// FuzzTimeSplit reads the first column as a time (numbers or ISO 8601
// dates of one form, parseTimes) and splits in time order: a cell of
// another form is an error, never a panic or a switch to text order.
func FuzzTimeSplit(f *testing.F) {
	for _, s := range []string{
		"t,a,y\n1,1,0\n2,2,1\n3,3,0\n10,4,1\n4,5,0\n",
		"t,a,y\n2024-01-02,1,0\n2024-01-01,2,1\n,3,0\n2024-01-03,4,1\n2024-01-04,4,0\n",
		"t,a,y\n1,1,0\nx,2,1\n3,3,0\n",
		"t,a,y\n2024-01-02T10:00:00Z,1,0\n2024-01-02T09:00:00+01:00,2,1\n2024-01-03,3,0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := readCSV("fuzz.csv", bytes.NewReader(b), csvOptions{header: true, targets: []string{"-1"}, key: "0"})
		wantDataErr(t, err)
		if err != nil {
			return
		}
		if len(fr.keyCols) != len(fr.keys) {
			t.Fatalf("%d key columns for %d keys", len(fr.keyCols), len(fr.keys))
		}
		exp := config.Default()
		exp.Data.Source = "csv:fuzz.csv"
		exp.Data.Clean.Missing = "drop"
		exp.Data.Split.Method = "time"
		exp.Data.Split.Column = "0"
		_, err = buildTable(&exp, fr, nil, &Report{})
		wantDataErr(t, err)
	})
}

func FuzzReadIDX(f *testing.F) {
	im, lb := digitsIDX(3)
	f.Add(im)
	f.Add(lb)
	f.Add(gz(im))
	f.Add([]byte{0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0})
	f.Add([]byte{0, 0, 0x08, 3, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		dims, vals, err := readIDX("fuzz.idx", b)
		wantDataErr(t, err)
		if err == nil && len(vals) != prod(dims) {
			t.Fatalf("dims %v but %d values", dims, len(vals))
		}
	})
}

func FuzzReadNpy(f *testing.F) {
	var buf bytes.Buffer
	writeNpy(&buf, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(buf.Bytes())
	f.Add(npyBytes(">i8", true, "(2, 2)", make([]byte, 32)))
	f.Add(npyBytes("|b1", false, "()", []byte{1}))
	f.Add(npyBytes("<f8", false, "(3,)", make([]byte, 24)))
	f.Fuzz(func(t *testing.T, b []byte) {
		shape, vals, err := readNpy("fuzz.npy", b)
		wantDataErr(t, err)
		if err != nil {
			return
		}
		if len(vals) != prod(shape) {
			t.Fatalf("shape %v but %d values", shape, len(vals))
		}
		// What was read writes and reads back the same.
		var out bytes.Buffer
		if err := writeNpy(&out, shape, vals); err != nil {
			t.Fatal(err)
		}
		s2, v2, err := readNpy("again.npy", out.Bytes())
		if err != nil || !sameBits(v2, vals) || len(s2) != len(shape) {
			t.Fatalf("round trip: %v %v", s2, err)
		}
	})
}

// FuzzDecodeImage: an image file of any content decodes or is refused
// with a data error; one whose header claims more than maxImagePixels is
// always refused. Headers claiming between 2^20 pixels and the limit are
// skipped: decoding them would allocate up to a gigabyte per input.
func FuzzDecodeImage(f *testing.F) {
	f.Add(pngBytes(3, 2, 7), true)
	f.Add(jpegBytes(8, 8, color.RGBA{R: 200, A: 255}), false)
	f.Add([]byte("\x89PNG\r\n\x1a\nnot really"), true)
	huge := pngBytes(1, 1, 0) // claiming 200000×200000: IHDR patched, checksum recomputed
	binary.BigEndian.PutUint32(huge[16:], 200000)
	binary.BigEndian.PutUint32(huge[20:], 200000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	f.Add(huge, true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, isPNG bool) {
		ext, config := ".jpg", jpeg.DecodeConfig
		if isPNG {
			ext, config = ".png", png.DecodeConfig
		}
		cfg, cerr := config(bytes.NewReader(b))
		px := int64(cfg.Width) * int64(cfg.Height)
		if cerr == nil && px > 1<<20 && px <= maxImagePixels {
			t.Skip()
		}
		path := filepath.Join(dir, "fuzz"+ext)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := decodeImage(path)
		wantDataErr(t, err)
		if cerr == nil && px > maxImagePixels && err == nil {
			t.Fatalf("an image claiming %d×%d was decoded", cfg.Width, cfg.Height)
		}
		if err == nil && (img.Bounds().Dx() == 0 || img.Bounds().Dy() == 0) {
			t.Fatalf("an empty image was accepted")
		}
	})
}
