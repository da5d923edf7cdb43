package data

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/dltrain/dltrain/pkg/config"
)

// dltrain reads and writes NumPy's .npy format itself (a magic string, a
// Python-literal header, then the raw values): the format is small, the
// errors can name the file and entry, the reader is fuzzed, and no
// dependency pulls in a newer gonum than the one the project pins.

var npyMagic = []byte("\x93NUMPY")

// nativeLittle is true on little-endian machines, where float32 data can
// be read and written without conversion.
var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// npyHeader describes the array of a .npy file.
type npyHeader struct {
	file    string
	descr   string
	kind    byte // f, i, u or b
	size    int  // bytes per value
	big     bool // big-endian values
	fortran bool // column-major order
	shape   []int
}

func (h npyHeader) items() int { return prod(h.shape) }

// perEntry is the number of values of one entry (along the first axis).
func (h npyHeader) perEntry() int {
	if len(h.shape) == 0 {
		return 1
	}
	return prod(h.shape[1:])
}

// readNpyHeader reads the magic string, version and header dictionary of a
// .npy file, and checks that size (the file's length in bytes) is exactly
// what the header announces.
func readNpyHeader(file string, r io.Reader, size int64) (npyHeader, error) {
	h := npyHeader{file: file}
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || !bytes.Equal(pre[:6], npyMagic) {
		return h, badFile(file, "not a .npy file: expected the magic string \\x93NUMPY at the start")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, badFile(file, "truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, badFile(file, "truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return h, badFile(file, "unsupported .npy format version %d.%d; expected 1.0, 2.0 or 3.0", pre[6], pre[7])
	}
	prefix := int64(8 + 2)
	if pre[6] > 1 {
		prefix = 8 + 4
	}
	if int64(hlen) > size-prefix || hlen > 1<<20 {
		return h, badFile(file, "the .npy header claims %d bytes, more than the file holds", hlen)
	}
	text := make([]byte, hlen)
	if _, err := io.ReadFull(r, text); err != nil {
		return h, badFile(file, "truncated .npy header")
	}
	if err := h.parse(string(text)); err != nil {
		return h, badFile(file, "bad .npy header %q: %v", strings.TrimSpace(string(text)), err)
	}
	payload := int64(h.items()) * int64(h.size)
	if got := size - prefix - int64(hlen); got != payload {
		if got < payload {
			entry := int64(1)
			if per := int64(h.perEntry()) * int64(h.size); per > 0 {
				entry = got/per + 1
			}
			return h, badEntry(file, int(entry), "truncated: the header announces shape %v of %s (%d bytes) but %d bytes follow it", h.shape, h.descr, payload, got)
		}
		return h, badFile(file, "%d bytes follow the %v values of dtype %s the header announces", got-payload, h.shape, h.descr)
	}
	return h, nil
}

// parse reads the header dictionary, a Python literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
func (h *npyHeader) parse(text string) error {
	p := &pyParser{s: strings.TrimSpace(text)}
	if !p.eat("{") {
		return errors.New("expected a dictionary")
	}
	seen := map[string]bool{}
	for !p.eat("}") {
		key, ok := p.str()
		if !ok || !p.eat(":") {
			return errors.New("expected 'key': value")
		}
		seen[key] = true
		switch key {
		case "descr":
			d, ok := p.str()
			if !ok {
				return fmt.Errorf("unsupported dtype (a structured array); expected a numeric dtype such as '<f4', '<f8', '<i8' or '|u1'")
			}
			if err := h.setDescr(d); err != nil {
				return err
			}
		case "fortran_order":
			switch {
			case p.eat("True"):
				h.fortran = true
			case p.eat("False"):
			default:
				return errors.New("fortran_order must be True or False")
			}
		case "shape":
			s, ok := p.tuple()
			if !ok {
				return errors.New("shape must be a tuple of non-negative integers")
			}
			h.shape = s
		default:
			return fmt.Errorf("unknown key %q", key)
		}
		if !p.eat(",") && !strings.HasPrefix(p.s, "}") {
			return errors.New("expected , or }")
		}
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return errors.New("expected the keys descr, fortran_order and shape")
	}
	if p.s != "" {
		return errors.New("text after the dictionary")
	}
	total := int64(1)
	for _, d := range h.shape {
		if d > 0 && total > maxItems/int64(d) {
			return fmt.Errorf("shape %v is implausibly large", h.shape)
		}
		total *= int64(d)
	}
	return nil
}

func (h *npyHeader) setDescr(d string) error {
	h.descr = d
	bad := fmt.Errorf("unsupported dtype %q; expected a little- or big-endian number: f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 or b1", d)
	if len(d) < 3 {
		return bad
	}
	switch d[0] {
	case '<', '|', '=':
	case '>':
		h.big = true
	default:
		return bad
	}
	h.kind = d[1]
	n, err := strconv.Atoi(d[2:])
	if err != nil {
		return bad
	}
	h.size = n
	ok := false
	switch h.kind {
	case 'f':
		ok = n == 4 || n == 8
	case 'i', 'u':
		ok = n == 1 || n == 2 || n == 4 || n == 8
	case 'b':
		ok = n == 1
	}
	if !ok {
		return bad
	}
	return nil
}

// pyParser reads the few Python literals a .npy header holds.
type pyParser struct{ s string }

func (p *pyParser) eat(tok string) bool {
	p.s = strings.TrimLeft(p.s, " \t\n")
	if strings.HasPrefix(p.s, tok) {
		p.s = p.s[len(tok):]
		return true
	}
	return false
}

func (p *pyParser) str() (string, bool) {
	p.s = strings.TrimLeft(p.s, " \t\n")
	if p.s == "" || (p.s[0] != '\'' && p.s[0] != '"') {
		return "", false
	}
	q := p.s[0]
	end := strings.IndexByte(p.s[1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[1 : 1+end]
	p.s = p.s[2+end:]
	return v, true
}

func (p *pyParser) tuple() ([]int, bool) {
	if !p.eat("(") {
		return nil, false
	}
	out := []int{}
	for !p.eat(")") {
		p.s = strings.TrimLeft(p.s, " \t\n")
		i := 0
		for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(strings.TrimSuffix(p.s[:i], "L"))
		if i == 0 || err != nil || n < 0 {
			return nil, false
		}
		p.s = strings.TrimPrefix(p.s[i:], "L")
		out = append(out, n)
		if !p.eat(",") && !strings.HasPrefix(strings.TrimLeft(p.s, " "), ")") {
			return nil, false
		}
	}
	return out, true
}

// readNpyValues reads the values of an array whose header was read, in C
// order, as float32. Float32 little-endian arrays in C order are read
// straight into the result.
func readNpyValues(h npyHeader, r io.Reader) ([]float32, error) {
	n := h.items()
	out := make([]float32, n)
	if h.kind == 'f' && h.size == 4 && !h.big && nativeLittle && !h.fortran {
		if n > 0 {
			b := unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n)
			if got, err := io.ReadFull(r, b); err != nil {
				return nil, npyShort(h, got)
			}
		}
		return out, nil
	}
	chunk := make([]byte, (1<<16)*h.size)
	for done := 0; done < n; {
		k := min(n-done, len(chunk)/h.size)
		got, err := io.ReadFull(r, chunk[:k*h.size])
		if err != nil {
			return nil, npyShort(h, done*h.size+got)
		}
		decodeNpy(out[done:done+k], chunk[:k*h.size], h)
		done += k
	}
	if h.fortran && len(h.shape) > 1 {
		out = fromFortran(out, h.shape)
	}
	return out, nil
}

func npyShort(h npyHeader, got int) error {
	entry := 1
	if per := h.perEntry() * h.size; per > 0 {
		entry = got/per + 1
	}
	return badEntry(h.file, entry, "truncated: the data ends after %d of %d bytes", got, h.items()*h.size)
}

// decodeNpy converts values of the header's dtype to float32.
func decodeNpy(dst []float32, b []byte, h npyHeader) {
	var order binary.ByteOrder = binary.LittleEndian
	if h.big {
		order = binary.BigEndian
	}
	for i := range dst {
		p := b[i*h.size:]
		var v float64
		switch h.kind {
		case 'f':
			if h.size == 4 {
				dst[i] = math.Float32frombits(order.Uint32(p))
				continue
			}
			v = math.Float64frombits(order.Uint64(p))
		case 'b', 'u':
			switch h.size {
			case 1:
				v = float64(p[0])
			case 2:
				v = float64(order.Uint16(p))
			case 4:
				v = float64(order.Uint32(p))
			default:
				v = float64(order.Uint64(p))
			}
		case 'i':
			switch h.size {
			case 1:
				v = float64(int8(p[0]))
			case 2:
				v = float64(int16(order.Uint16(p)))
			case 4:
				v = float64(int32(order.Uint32(p)))
			default:
				v = float64(int64(order.Uint64(p)))
			}
		}
		dst[i] = float32(v)
	}
}

// fromFortran reorders column-major values of shape into row-major order.
func fromFortran(f []float32, shape []int) []float32 {
	out := make([]float32, len(f))
	idx := make([]int, len(shape))
	for c := range out {
		// idx is the multi-index of C offset c; its Fortran offset:
		off, stride := 0, 1
		for k := range shape {
			off += idx[k] * stride
			stride *= shape[k]
		}
		out[c] = f[off]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// readNpy reads a whole .npy file from memory.
func readNpy(file string, b []byte) ([]int, []float32, error) {
	r := bytes.NewReader(b)
	h, err := readNpyHeader(file, r, int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	vals, err := readNpyValues(h, r)
	return h.shape, vals, err
}

// readNpyFile reads a .npy file from disk.
func readNpyFile(path string) ([]int, []float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	br := bufio.NewReaderSize(f, 1<<16)
	h, err := readNpyHeader(path, br, st.Size())
	if err != nil {
		return nil, nil, err
	}
	vals, err := readNpyValues(h, br)
	return h.shape, vals, err
}

// readNpz reads two arrays of an .npz archive (NumPy's zip of .npy files),
// or only the first when yName is empty.
func readNpz(path, xName, yName string) (xs []int, x []float32, ys []int, y []float32, err error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, nil, nil, badFile(path, "not a readable .npz (zip) archive: %v", unwrapPath(err))
	}
	defer zr.Close()
	var names []string
	find := func(name string) (*zip.File, bool) {
		for _, f := range zr.File {
			if f.Name == name+".npy" {
				return f, true
			}
		}
		return nil, false
	}
	for _, f := range zr.File {
		names = append(names, strings.TrimSuffix(f.Name, ".npy"))
	}
	slices.Sort(names)
	read := func(name string) ([]int, []float32, error) {
		zf, ok := find(name)
		if !ok {
			return nil, nil, badFile(path, "has no array %q; its arrays are: %s (set data.arrays.x and data.arrays.y)", name, strings.Join(names, ", "))
		}
		entry := path + ":" + zf.Name
		size := int64(zf.UncompressedSize64)
		if size > maxGzipRatio*int64(zf.CompressedSize64)+1<<20 {
			return nil, nil, badFile(entry, "claims %d bytes from %d compressed bytes: corrupt archive", size, zf.CompressedSize64)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, nil, badFile(entry, "cannot read: %v", err)
		}
		defer rc.Close()
		br := bufio.NewReader(rc)
		h, err := readNpyHeader(entry, br, size)
		if err != nil {
			return nil, nil, err
		}
		v, err := readNpyValues(h, br)
		return h.shape, v, err
	}
	if xs, x, err = read(xName); err != nil || yName == "" {
		return
	}
	ys, y, err = read(yName)
	return
}

// writeNpy writes float32 values of shape as a version 1.0 .npy file
// (little-endian, C order), its header padded to 64 bytes as NumPy does.
func writeNpy(w io.Writer, shape []int, vals []float32) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", tuple)
	pad := 64 - (len(npyMagic)+2+2+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	var pre [10]byte
	copy(pre[:], npyMagic)
	pre[6], pre[7] = 1, 0
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(header)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	if len(vals) == 0 {
		return nil
	}
	if nativeLittle {
		_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&vals[0])), 4*len(vals)))
		return err
	}
	buf := make([]byte, 4<<16)
	for lo := 0; lo < len(vals); lo += 1 << 16 {
		part := vals[lo:min(lo+1<<16, len(vals))]
		for i, v := range part {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*len(part)]); err != nil {
			return err
		}
	}
	return nil
}

// npySource reads a pair of .npy files (npy:X.npy,Y.npy): the inputs,
// one entry per sample along the first axis, and the labels or targets.
// A reconstruction task, whose target is the input, may name the inputs
// alone (npy:X.npy).
var npySource = sourceKind{
	tasks:   []string{"classification", "regression", "reconstruction", "generation"},
	options: []string{"classes"},
	digest:  func(ref string, _ config.Data) ([]SourceFile, error) { return fileDigests(splitRef(ref)) },
	load: func(exp *config.Experiment, ref string, rep *Report) (*Dataset, error) {
		paths := splitRef(ref)
		xs, x, err := readNpyFile(paths[0])
		if err != nil {
			return nil, err
		}
		if len(paths) == 1 {
			return loadArrays(exp, paths[0], xs, x, "", nil, nil, rep)
		}
		ys, y, err := readNpyFile(paths[1])
		if err != nil {
			return nil, err
		}
		return loadArrays(exp, paths[0], xs, x, paths[1], ys, y, rep)
	},
	check: func(e *config.Experiment, ref string) config.Problems {
		ps := arrayCheck(e)
		switch n := len(splitRef(ref)); {
		case n == 1 && KeepsClasses(e):
			ps = append(ps, noLabels(e, "an npy source of inputs alone (npy:X.npy)", "npy:X.npy,Y.npy with Y the class of each entry"))
		case n == 1 && SelfTask(e.Data.Task):
		case n != 2 && SelfTask(e.Data.Task):
			ps = append(ps, e.Problem("data.source", "an npy source for %s names the inputs (npy:X.npy), or the inputs and labels that are not trained on (npy:X.npy,Y.npy); got %d files", e.Data.Task, n))
		case n != 2:
			ps = append(ps, e.Problem("data.source", "an npy source names 2 files, the inputs and the targets (npy:X.npy,Y.npy); got %d", n))
		}
		return ps
	},
}

// npzSource reads two arrays of an .npz archive (npz:FILE.npz), named by
// data.arrays.x and data.arrays.y.
var npzSource = sourceKind{
	tasks:   npySource.tasks,
	options: []string{"classes", "arrays.x", "arrays.y"},
	digest:  func(ref string, _ config.Data) ([]SourceFile, error) { return fileDigests([]string{ref}) },
	load: func(exp *config.Experiment, path string, rep *Report) (*Dataset, error) {
		a := exp.Data.Arrays
		if selfTarget(exp) {
			xs, x, _, _, err := readNpz(path, a.X, "")
			if err != nil {
				return nil, err
			}
			return loadArrays(exp, path+":"+a.X, xs, x, "", nil, nil, rep)
		}
		xs, x, ys, y, err := readNpz(path, a.X, a.Y)
		if err != nil {
			return nil, err
		}
		return loadArrays(exp, path+":"+a.X, xs, x, path+":"+a.Y, ys, y, rep)
	},
	check: func(e *config.Experiment, _ string) config.Problems { return arrayCheck(e) },
}

// loadArrays builds a dataset from an inputs array (entries along the
// first axis) and a targets array with as many entries. For a
// reconstruction task the targets array, if any (yFile ""), holds labels
// that are checked for their count and not used.
func loadArrays(exp *config.Experiment, xFile string, xs []int, x []float32, yFile string, ys []int, y []float32, rep *Report) (*Dataset, error) {
	self := selfTarget(exp)
	if len(xs) == 0 || (len(ys) == 0 && yFile != "") {
		return nil, badFile(xFile, "holds a single value (shape ()); expected one entry per sample along the first axis")
	}
	n := xs[0]
	if yFile != "" && ys[0] != n {
		return nil, badFile(yFile, "has %d entries but %s has %d", ys[0], xFile, n)
	}
	if n == 0 {
		return nil, badFile(xFile, "has no entries (shape %v)", xs)
	}
	f := &frame{file: xFile, entries: true, width: prod(xs[1:]), x: x, shape: xs[1:], missing: map[int]cellPos{}, yv: y}
	if len(xs) == 1 {
		f.shape = []int{1}
	}
	k := 0
	if !self {
		k = prod(ys[1:])
	}
	switch {
	case self:
		y = nil
	case classTargets(exp) && k != 1:
		return nil, badFile(yFile, "has shape %v; classification needs one class index per entry, shape (%d,)", ys, n)
	case len(ys) > 2:
		return nil, badFile(yFile, "has shape %v; expected (%d,) or (%d, targets)", ys, n, n)
	}
	for j := 0; j < k; j++ {
		f.targets = append(f.targets, fmt.Sprintf("y%d", j))
	}
	if k == 1 && !self {
		f.targets = []string{"y"}
	}
	f.yv = y
	f.lines = make([]int, n)
	for i := range f.lines {
		f.lines[i] = i + 1
	}
	f.markNonFinite(0, n, "")
	if classTargets(exp) {
		sub := &frame{file: yFile, entries: true, yv: y, lines: f.lines, targets: f.targets}
		if _, err := classIndices(sub, exp.Data.Classes); err != nil {
			return nil, err
		}
	}
	switch {
	case yFile == "":
		rep.add("read %d entries of shape %v from %s", n, f.shape, xFile)
	case self:
		rep.add("read %d entries of shape %v from %s; the labels in %s are not trained on (the target is the input)", n, f.shape, xFile, yFile)
	default:
		rep.add("read %d entries of shape %v and their targets from %s and %s", n, f.shape, xFile, yFile)
	}
	return buildTableArrays(exp, f, rep)
}

// ReadNpy reads a .npy file as float32 values, in C order, with its shape.
func ReadNpy(path string) (shape []int, values []float32, err error) { return readNpyFile(path) }
