package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npyBytes builds a version 1.0 .npy file with the given header fields and
// raw payload, as NumPy writes it.
func npyBytes(descr string, fortran bool, shape string, payload []byte) []byte {
	f := "False"
	if fortran {
		f = "True"
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
	h += strings.Repeat(" ", 63-(10+len(h))%64) + "\n"
	var b bytes.Buffer
	b.Write([]byte("\x93NUMPY\x01\x00"))
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(payload)
	return b.Bytes()
}

func pack(order binary.ByteOrder, vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, order, v)
	}
	return b.Bytes()
}

// TestNpyDtypes: every supported dtype and byte order reads to the same
// values; Fortran order is transposed into C order.
func TestNpyDtypes(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	want := []float32{1, 2, 3, 4, 5, 6} // shape (2, 3), C order
	for _, tc := range []struct {
		name, descr string
		fortran     bool
		payload     []byte
	}{
		{"<f4", "<f4", false, pack(le, []float32{1, 2, 3, 4, 5, 6})},
		{">f4 big-endian", ">f4", false, pack(be, []float32{1, 2, 3, 4, 5, 6})},
		{"<f8", "<f8", false, pack(le, []float64{1, 2, 3, 4, 5, 6})},
		{">f8", ">f8", false, pack(be, []float64{1, 2, 3, 4, 5, 6})},
		{"|u1", "|u1", false, []byte{1, 2, 3, 4, 5, 6}},
		{"|i1", "|i1", false, []byte{1, 2, 3, 4, 5, 6}},
		{"<i2", "<i2", false, pack(le, []int16{1, 2, 3, 4, 5, 6})},
		{">u2", ">u2", false, pack(be, []uint16{1, 2, 3, 4, 5, 6})},
		{"<i4", "<i4", false, pack(le, []int32{1, 2, 3, 4, 5, 6})},
		{"<u4", "<u4", false, pack(le, []uint32{1, 2, 3, 4, 5, 6})},
		{"<i8", "<i8", false, pack(le, []int64{1, 2, 3, 4, 5, 6})},
		{">i8", ">i8", false, pack(be, []int64{1, 2, 3, 4, 5, 6})},
		{"<u8", "<u8", false, pack(le, []uint64{1, 2, 3, 4, 5, 6})},
		{"Fortran <f4", "<f4", true, pack(le, []float32{1, 4, 2, 5, 3, 6})},
		{"Fortran >f8", ">f8", true, pack(be, []float64{1, 4, 2, 5, 3, 6})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shape, vals, err := readNpy("a.npy", npyBytes(tc.descr, tc.fortran, "(2, 3)", tc.payload))
			if err != nil || !slices.Equal(shape, []int{2, 3}) || !slices.Equal(vals, want) {
				t.Errorf("shape %v vals %v err %v", shape, vals, err)
			}
		})
	}
	_, vals, err := readNpy("b.npy", npyBytes("|b1", false, "(3,)", []byte{1, 0, 1}))
	if err != nil || !slices.Equal(vals, []float32{1, 0, 1}) {
		t.Errorf("bool: %v %v", vals, err)
	}
	// A 3-D Fortran array: element (i, j, k) at offset i + 2j + 6k.
	f := make([]float32, 24)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				f[i+2*j+6*k] = float32(100*i + 10*j + k)
			}
		}
	}
	_, vals, err = readNpy("c.npy", npyBytes("<f4", true, "(2, 3, 4)", pack(le, f)))
	if err != nil || vals[1*12+2*4+3] != 123 || vals[4+1] != 11 {
		t.Errorf("3-D Fortran: %v %v", vals, err)
	}
}

// TestNpyBadInput: unsupported dtypes, bad headers and truncation are
// refused, naming the file (and entry) and what was expected.
func TestNpyBadInput(t *testing.T) {
	good := pack(binary.LittleEndian, []float32{1, 2, 3, 4, 5, 6})
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"not npy", []byte("hello, world"), "not a .npy file"},
		{"empty", nil, "not a .npy file"},
		{"complex", npyBytes("<c8", false, "(2, 3)", make([]byte, 48)), `unsupported dtype "<c8"`},
		{"half", npyBytes("<f2", false, "(2, 3)", make([]byte, 12)), `unsupported dtype "<f2"`},
		{"object", npyBytes("|O", false, "(2, 3)", make([]byte, 48)), `unsupported dtype "|O"`},
		{"string", npyBytes("<U3", false, "(2,)", make([]byte, 24)), `unsupported dtype "<U3"`},
		{"structured", []byte(strings.Replace(string(npyBytes("<f4", false, "(2,)", make([]byte, 8))), "'<f4'", "[('a', '<f4')]", 1)), "structured array"},
		{"truncated", npyBytes("<f4", false, "(2, 3)", good[:20]), "a.npy: entry 2: truncated"},
		{"trailing", npyBytes("<f4", false, "(2, 3)", append(slices.Clone(good), 0, 0, 0, 0)), "4 bytes follow"},
		{"bad shape", npyBytes("<f4", false, "(2, -3)", good), "shape must be a tuple"},
		{"huge shape", npyBytes("<f4", false, "(100000000, 100000000)", good), "implausibly large"},
		{"missing key", []byte(strings.Replace(string(npyBytes("<f4", false, "(2, 3)", good)), "'fortran_order': False, ", "                        ", 1)), "expected the keys"},
		{"version 9", append([]byte("\x93NUMPY\x09\x00"), 0, 0), "unsupported .npy format version 9.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readNpy("a.npy", tc.b)
			wantBadData(t, err, "a.npy", tc.want)
		})
	}
}

// TestNpyRoundTrip: what writeNpy writes, readNpy reads back bit for bit
// (NaN, ±Inf and -0 included), as do the shipped NumPy-written files.
func TestNpyRoundTrip(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1.5, float32(math.NaN()), float32(math.Inf(-1)), math.MaxFloat32}
	for _, shape := range [][]int{{6}, {2, 3}, {1, 2, 3}, {6, 1}} {
		var b bytes.Buffer
		if err := writeNpy(&b, shape, vals); err != nil {
			t.Fatal(err)
		}
		if b.Len()-len(vals)*4 != 64 && b.Len()-len(vals)*4 != 128 {
			t.Errorf("header of %d bytes is not padded to 64", b.Len()-len(vals)*4)
		}
		got, v, err := readNpy("x", b.Bytes())
		if err != nil || !slices.Equal(got, shape) || !sameBits(v, vals) {
			t.Errorf("shape %v: got %v %v %v", shape, got, v, err)
		}
	}
	shape, x, err := readNpyFile(repoFile("testdata", "npy", "iris-x.npy"))
	if err != nil || !slices.Equal(shape, []int{150, 4}) || x[0] != 5.1 {
		t.Errorf("iris-x.npy (float64, written by NumPy 1.24): %v %v %v", shape, x[:4], err)
	}
}

// TestNpySources loads npy and npz sources and refuses mismatched arrays.
func TestNpySources(t *testing.T) {
	x := make([]float64, 20*2)
	for i := range x {
		x[i] = float64(i)
	}
	y := make([]int64, 20)
	for i := range y {
		y[i] = int64(i % 2)
	}
	le := binary.LittleEndian
	xb := npyBytes("<f8", false, "(20, 2)", pack(le, x))
	yb := npyBytes("<i8", false, "(20,)", pack(le, y))
	cfg := "name: t\ndata:\n  source: npy:x.npy,y.npy\n  preprocess: {scale: none}\n"
	ds, _, err := loadBytes(t, cfg, map[string][]byte{"x.npy": xb, "y.npy": yb})
	if err != nil || !slices.Equal(ds.Input, []int{2}) || ds.Train.N+ds.Val.N+ds.Test.N != 20 {
		t.Fatalf("npy: %v", err)
	}
	for i, e := range ds.Train.Lines {
		if ds.Train.X[2*i] != float32(2*(e-1)) || ds.Train.Y[i] != float32((e-1)%2) {
			t.Fatalf("entry %d: %v %v", e, ds.Train.X[2*i:2*i+2], ds.Train.Y[i])
		}
	}
	dir := t.TempDir()
	zf, _ := os.Create(filepath.Join(dir, "a.npz"))
	zw := zip.NewWriter(zf)
	for name, b := range map[string][]byte{"inputs.npy": xb, "labels.npy": yb} {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	zf.Close()
	exp, err := experiment(t, dir, "name: t\ndata:\n  source: npz:a.npz\n  arrays: {x: inputs, y: labels}\n  preprocess: {scale: none}\n")
	if err != nil {
		t.Fatal(err)
	}
	dz, _, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(dz.Train.X, ds.Train.X) {
		t.Error("npz and npy sources differ")
	}
	exp.Data.Arrays.X = "nope"
	_, _, err = Load(exp)
	wantBadData(t, err, "a.npz", `has no array "nope"; its arrays are: inputs, labels`)

	short := npyBytes("<i8", false, "(19,)", pack(le, y[:19]))
	_, _, err = loadBytes(t, cfg, map[string][]byte{"x.npy": xb, "y.npy": short})
	wantBadData(t, err, "y.npy", "has 19 entries but", "has 20")
	half := npyBytes("<f8", false, "(20,)", pack(le, make([]float64, 20)))
	for i := range 20 {
		binary.LittleEndian.PutUint64(half[len(half)-160+8*i:], math.Float64bits(0.5))
	}
	_, _, err = loadBytes(t, cfg, map[string][]byte{"x.npy": xb, "y.npy": half})
	wantBadData(t, err, "y.npy: entry 1", "not an integer")
	neg := slices.Clone(y)
	neg[3] = -1
	_, _, err = loadBytes(t, cfg, map[string][]byte{"x.npy": xb, "y.npy": npyBytes("<i8", false, "(20,)", pack(le, neg))})
	wantBadData(t, err, "y.npy: entry 4", "class label -1 is negative: class labels are indices from 0")
	_, _, err = loadBytes(t, strings.Replace(cfg, "source:", "classes: [a]\n  source:", 1), map[string][]byte{"x.npy": xb, "y.npy": yb})
	wantBadData(t, err, "y.npy: entry 2", "class label 1 is out of range: data.classes names 1 class, index 0")
	oneBased := make([]int64, 20)
	for i := range oneBased {
		oneBased[i] = int64(1 + i%2)
	}
	_, rep, err := loadBytes(t, cfg, map[string][]byte{"x.npy": xb, "y.npy": npyBytes("<i8", false, "(20,)", pack(le, oneBased))})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "class 0 has no samples: labels run 1..2; are they 1-based?") {
		t.Errorf("labels 1..2: notes %q", notes)
	}
}
