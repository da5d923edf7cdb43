package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/dltrain/dltrain/pkg/config"
)

// idxTypes maps an IDX type code to its item size and name.
var idxTypes = map[byte]struct {
	size int
	name string
}{
	0x08: {1, "unsigned byte"},
	0x09: {1, "signed byte"},
	0x0B: {2, "short"},
	0x0C: {4, "int"},
	0x0D: {4, "float"},
	0x0E: {8, "double"},
}

// maxGzipRatio bounds how much larger than its compressed file an IDX
// payload can claim to be (deflate's limit is about 1032:1), so a corrupt
// header cannot make the reader allocate without bound.
const maxGzipRatio = 1100

// maxItems bounds the number of values a header may announce.
const maxItems = 1 << 40

// idxHeader is the parsed header of an IDX file.
type idxHeader struct {
	file string
	typ  byte
	dims []int
	body io.Reader // positioned at the first item
	gz   bool
}

// items is the number of values in the file.
func (h *idxHeader) items() int { return prod(h.dims) }

// perEntry is the number of values of one entry (first dimension).
func (h *idxHeader) perEntry() int { return prod(h.dims[1:]) }

// openIDX reads the header of an IDX file (the MNIST format: two zero
// bytes, a type code, the number of dimensions, then each dimension as a
// big-endian uint32), raw or gzip-compressed. size is the file's size in
// bytes; the header's dimensions must fit it.
func openIDX(file string, in io.Reader, size int64) (*idxHeader, error) {
	br := bufio.NewReaderSize(in, 1<<16)
	h := &idxHeader{file: file, body: br}
	header := int64(0)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, badFile(file, "corrupt gzip data: %v", err)
		}
		h.body, h.gz = bufio.NewReaderSize(zr, 1<<16), true
	}
	var magic [4]byte
	if _, err := io.ReadFull(h.body, magic[:]); err != nil {
		return nil, badFile(file, "too short for an IDX header (%v); expected 4 magic bytes and the dimensions", readErr(err))
	}
	t, ok := idxTypes[magic[2]]
	if magic[0] != 0 || magic[1] != 0 || !ok || magic[3] == 0 {
		return nil, badFile(file, "bad magic number 0x%08x: not an IDX file; expected 0x0000TTNN with type TT one of 08 (unsigned byte), 09, 0B, 0C, 0D, 0E and NN >= 1 dimensions",
			binary.BigEndian.Uint32(magic[:]))
	}
	h.typ = magic[2]
	nd := int(magic[3])
	raw := make([]byte, 4*nd)
	if _, err := io.ReadFull(h.body, raw); err != nil {
		return nil, badFile(file, "truncated header: %d dimensions announced, %v", nd, readErr(err))
	}
	total := int64(1)
	for i := 0; i < nd; i++ {
		d := int64(binary.BigEndian.Uint32(raw[4*i:]))
		if d == 0 {
			return nil, badFile(file, "dimension %d is 0: the file holds no data", i+1)
		}
		h.dims = append(h.dims, int(d))
		if total > maxItems/d {
			return nil, badFile(file, "dimensions %v are implausibly large", h.dims)
		}
		total *= d
	}
	header = 4 + 4*int64(nd)
	payload := total * int64(t.size)
	switch {
	case size < 0:
	case h.gz && payload > maxGzipRatio*size:
		return nil, badFile(file, "dimensions %v (%d bytes of %s) cannot come from %d compressed bytes: corrupt header or truncated file", h.dims, payload, t.name, size)
	case !h.gz && header+payload > size:
		got := size - header
		return nil, badEntry(file, int(got/int64(h.perEntry()*t.size))+1,
			"truncated: the header promises %v %s values (%d bytes) but only %d bytes follow it", h.dims, t.name, payload, got)
	case !h.gz && header+payload < size:
		return nil, badFile(file, "%d bytes follow the last of the %v values the header announces; wrong dimensions?", size-header-payload, h.dims)
	}
	return h, nil
}

func readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return errors.New("the file ends early")
	}
	return err
}

// read decodes every value of the file into dst (len items()), in chunks,
// so that the only large allocation is dst.
func (h *idxHeader) read(dst []float32) error {
	t := idxTypes[h.typ]
	chunk := make([]byte, (1<<16)*t.size)
	per := h.perEntry()
	for done := 0; done < len(dst); {
		k := min(len(dst)-done, len(chunk)/t.size)
		n, err := io.ReadFull(h.body, chunk[:k*t.size])
		if err != nil {
			entry := (done+n/t.size)/per + 1
			if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				return badEntry(h.file, entry, "truncated: the file ends inside entry %d of %d (the header promises %v values)", entry, h.dims[0], h.dims)
			}
			return badEntry(h.file, entry, "cannot read: %v", err)
		}
		decodeIDX(dst[done:done+k], chunk[:k*t.size], h.typ)
		done += k
	}
	if h.gz {
		var one [1]byte
		if n, _ := h.body.Read(one[:]); n > 0 {
			return badFile(h.file, "data continues after the last of the %v values the header announces; wrong dimensions?", h.dims)
		}
	}
	return nil
}

// decodeIDX converts big-endian items of type typ to float32.
func decodeIDX(dst []float32, b []byte, typ byte) {
	switch typ {
	case 0x08:
		for i := range dst {
			dst[i] = float32(b[i])
		}
	case 0x09:
		for i := range dst {
			dst[i] = float32(int8(b[i]))
		}
	case 0x0B:
		for i := range dst {
			dst[i] = float32(int16(binary.BigEndian.Uint16(b[2*i:])))
		}
	case 0x0C:
		for i := range dst {
			dst[i] = float32(int32(binary.BigEndian.Uint32(b[4*i:])))
		}
	case 0x0D:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))
		}
	case 0x0E:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.BigEndian.Uint64(b[8*i:])))
		}
	}
}

// readIDX reads a whole IDX file from memory: its dimensions and values.
func readIDX(file string, b []byte) ([]int, []float32, error) {
	h, err := openIDX(file, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	vals := make([]float32, h.items())
	return h.dims, vals, h.read(vals)
}

// idxPair is an open images file and its labels file.
type idxPair struct {
	images, labels *idxHeader
	closers        []io.Closer
}

func (p *idxPair) close() {
	for _, c := range p.closers {
		c.Close()
	}
}

func openIDXFile(path string, p *idxPair) (*idxHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	p.closers = append(p.closers, f)
	st, err := f.Stat()
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	return openIDX(path, f, st.Size())
}

// openPair opens an images file and its labels file and checks that they
// describe the same number of entries; labels "" opens the images alone.
func openPair(images, labels string) (*idxPair, error) {
	p := &idxPair{}
	var err error
	if p.images, err = openIDXFile(images, p); err != nil {
		p.close()
		return nil, err
	}
	if labels == "" {
		if len(p.images.dims) < 2 {
			p.close()
			return nil, badFile(images, "has dimensions %v; expected images (entries × rows × columns)", p.images.dims)
		}
		return p, nil
	}
	if p.labels, err = openIDXFile(labels, p); err != nil {
		p.close()
		return nil, err
	}
	switch {
	case len(p.images.dims) < 2:
		err = badFile(images, "has dimensions %v; expected images (entries × rows × columns): is it the labels file? the source is idx:IMAGES,LABELS", p.images.dims)
	case len(p.labels.dims) != 1 && !(len(p.labels.dims) == 2 && p.labels.dims[1] == 1):
		err = badFile(labels, "has dimensions %v; expected one label per entry (a 1-dimensional IDX file)", p.labels.dims)
	case p.images.dims[0] != p.labels.dims[0]:
		err = badFile(labels, "holds %d labels but %s holds %d images", p.labels.dims[0], images, p.images.dims[0])
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// idxSource reads MNIST-style IDX files, raw or gzip:
// idx:IMAGES,LABELS, or idx:IMAGES,LABELS,TEST_IMAGES,TEST_LABELS where the
// second pair is the test split. A reconstruction task needs no labels
// (idx:IMAGES); labels it is given are checked and not trained on.
var idxSource = sourceKind{
	tasks:   []string{"classification", "reconstruction", "generation"},
	options: []string{"classes"},
	digest:  func(ref string, _ config.Data) ([]SourceFile, error) { return fileDigests(splitRef(ref)) },
	load:    loadIDX,
	check: func(e *config.Experiment, ref string) config.Problems {
		ps := arrayCheck(e)
		switch n := len(splitRef(ref)); n {
		case 1:
			if KeepsClasses(e) {
				ps = append(ps, noLabels(e, "an idx source of images alone (idx:IMAGES)", "idx:IMAGES,LABELS"))
			} else if !SelfTask(e.Data.Task) {
				ps = append(ps, e.Problem("data.source", "an idx source names 2 files (idx:IMAGES,LABELS) or 4 (idx:IMAGES,LABELS,TEST_IMAGES,TEST_LABELS); got 1 (only tasks reconstruction and generation need no labels)"))
			}
		case 2:
		case 4:
			if e.Data.Split.Test != 0 {
				ps = append(ps, e.Problem("data.split.test", "must be 0 when the source names a test pair (idx:IMAGES,LABELS,TEST_IMAGES,TEST_LABELS): the test split is that pair; got %v", e.Data.Split.Test))
			}
		default:
			ps = append(ps, e.Problem("data.source", "an idx source names 2 files (idx:IMAGES,LABELS) or 4 (idx:IMAGES,LABELS,TEST_IMAGES,TEST_LABELS); got %d", n))
		}
		return ps
	},
}

// loadIDX reads the pairs of an idx source into one frame; entries of the
// test pair are preset to the test split.
func loadIDX(exp *config.Experiment, ref string, rep *Report) (*Dataset, error) {
	paths := splitRef(ref)
	var pairs []*idxPair
	defer func() {
		for _, p := range pairs {
			p.close()
		}
	}()
	total := 0
	if len(paths) == 1 {
		paths = append(paths, "") // images alone (reconstruction)
	}
	self := selfTarget(exp)
	for i := 0; i+1 < len(paths); i += 2 {
		p, err := openPair(paths[i], paths[i+1])
		if err != nil {
			return nil, err
		}
		if len(pairs) > 0 && !slices.Equal(p.images.dims[1:], pairs[0].images.dims[1:]) {
			return nil, badFile(paths[i], "images are %v; the training images are %v", p.images.dims[1:], pairs[0].images.dims[1:])
		}
		pairs = append(pairs, p)
		total += p.images.dims[0]
	}
	per := pairs[0].images.perEntry()
	f := &frame{file: paths[0], entries: true, width: per, targets: []string{"label"}, missing: map[int]cellPos{},
		x: make([]float32, total*per), yv: make([]float32, total), lines: make([]int, 0, total)}
	if pairs[0].labels == nil {
		f.yv = nil
	}
	f.shape = slices.Clone(pairs[0].images.dims[1:])
	if len(f.shape) == 2 {
		f.shape = append([]int{1}, f.shape...) // one channel, first
	}
	at := 0
	for k, p := range pairs {
		n := p.images.dims[0]
		if err := p.images.read(f.x[at*per : (at+n)*per]); err != nil {
			return nil, err
		}
		if p.labels != nil {
			if err := p.labels.read(f.yv[at : at+n]); err != nil {
				return nil, err
			}
		}
		for i := 1; i <= n; i++ {
			f.lines = append(f.lines, i)
		}
		f.markNonFinite(at, at+n, p.images.file)
		if k == 1 {
			f.preset = make([]int8, total)
			for i := range f.preset {
				f.preset[i] = -1
				if i >= at {
					f.preset[i] = splitTest
				}
			}
		}
		what := "and their labels "
		switch {
		case p.labels == nil:
			what = ""
		case self:
			what = "(their labels are not trained on: the target is the input) "
		}
		rep.add("read %d images of %s %s values %sfrom %s", n, describeDims(p.images.dims[1:]), idxTypes[p.images.typ].name, what, p.images.file)
		at += n
	}
	if self {
		f.targets, f.yv = nil, nil
		return buildTableArrays(exp, f, rep)
	}
	// Label errors must name the labels file and its entry.
	if err := checkLabelEntries(f, pairs, exp.Data.Classes); err != nil {
		return nil, err
	}
	return buildTableArrays(exp, f, rep)
}

// checkLabelEntries validates class labels with the file and entry they
// come from.
func checkLabelEntries(f *frame, pairs []*idxPair, known []string) error {
	at := 0
	for _, p := range pairs {
		n := p.labels.dims[0]
		sub := &frame{file: p.labels.file, entries: true, yv: f.yv[at : at+n], lines: f.lines[at : at+n], targets: f.targets}
		if _, err := classIndices(sub, known); err != nil {
			return err
		}
		at += n
	}
	return nil
}

// buildTableArrays is buildTable for array sources, whose report already
// says what was read.
func buildTableArrays(exp *config.Experiment, f *frame, rep *Report) (*Dataset, error) {
	sub := &Report{}
	ds, err := buildTable(exp, f, nil, sub)
	if err != nil {
		return nil, err
	}
	rep.Notes = append(rep.Notes, sub.Notes[1:]...) // without "read N rows"
	return ds, nil
}

// describeDims renders dimensions as 28×28.
func describeDims(d []int) string {
	s := ""
	for i, v := range d {
		if i > 0 {
			s += "×"
		}
		s += fmt.Sprint(v)
	}
	return s
}
