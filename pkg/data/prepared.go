package data

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dltrain/dltrain/pkg/config"
)

// FormatVersion is the version of the prepared-dataset layout and of the
// pipeline that fills it; a prepared dataset of another version is stale.
const FormatVersion = 1

// ManifestFile is the name of a prepared dataset's description.
const ManifestFile = "manifest.json"

// AssignmentFile is the name of the per-sample split assignment, in a
// prepared dataset and in a run directory.
const AssignmentFile = "assignment.csv"

// Manifest describes a prepared dataset: what it was made from, how, and
// where each split's tensors are.
type Manifest struct {
	Format int    `json:"format"`
	Name   string `json:"name"` // the experiment's name
	// Fingerprint is the sha256 of the data section of the config, the
	// seed and the format version: a change to any of them makes the
	// prepared dataset stale.
	Fingerprint string       `json:"fingerprint"`
	Seed        uint64       `json:"seed"`
	Created     string       `json:"created"`
	Sources     []SourceFile `json:"sources"`
	Meta        Meta         `json:"meta"`
	Splits      []SplitFiles `json:"splits"`
	Assignment  string       `json:"assignment"`
	Notes       []string     `json:"notes"`
	Config      config.Data  `json:"config"`
}

// SplitFiles locates one split's tensors: X of shape [N, input...] and Y
// of shape [N, target...], each a little-endian float32 .npy file. A
// reconstruction's Y is X, and is not written (Y is empty).
type SplitFiles struct {
	Name    string `json:"name"`
	N       int    `json:"samples"`
	X       string `json:"x"`
	Y       string `json:"y,omitempty"`
	XSHA256 string `json:"x_sha256"`
	YSHA256 string `json:"y_sha256,omitempty"`
}

// Fingerprint is the identity of how an experiment's data is prepared: a
// sha256 of its data section (less data.prepared, which only says where
// the result goes), its seed and the format version. The source's files
// enter by name only, without their directories: their content is
// compared by checksum (Staleness), so a checkout moved elsewhere, or a
// run's saved config read from its run directory, finds its prepared
// dataset up to date.
func Fingerprint(exp *config.Experiment) string {
	d := exp.Data
	d.Prepared = ""
	d.Source = portableSource(d.Source)
	b, _ := json.Marshal(struct {
		Format int
		Seed   uint64
		Data   config.Data
		// Classes: a conditional GAN keeps its labels, which the data
		// section alone does not say; omitted otherwise, so that every
		// other fingerprint is what it was.
		Classes bool `json:",omitempty"`
	}{FormatVersion, exp.Seed, d, KeepsClasses(exp)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// portableSource is a data source with each path reduced to its last
// element: csv:/home/a/data/d.csv is csv:d.csv.
func portableSource(src string) string {
	scheme, ref, ok := strings.Cut(src, ":")
	if !ok || scheme == "builtin" {
		return src
	}
	parts := splitRef(ref)
	for i, p := range parts {
		parts[i] = filepath.Base(p)
	}
	return scheme + ":" + strings.Join(parts, ",")
}

// relocate describes a dataset read from a prepared dataset by where its
// source is now (the manifest names where it was when prepared): the
// source, its files' paths, and the notes made when it was prepared
// ("read 344 rows from csv:PATH"), which it returns. Staleness has
// checked the files' content.
func relocate(ds *Dataset, exp *config.Experiment, notes []string) []string {
	pairs := []string{ds.Source, exp.Data.Source}
	ds.Source = exp.Data.Source
	scheme, ref, _ := strings.Cut(exp.Data.Source, ":")
	if paths := splitRef(ref); scheme != "builtin" && len(paths) == len(ds.Files) {
		ds.Files = slices.Clone(ds.Files)
		for i := range ds.Files {
			pairs = append(pairs, ds.Files[i].Path, paths[i])
			ds.Files[i].Path = paths[i]
		}
		ds.SHA256 = combinedSHA(ds.Files)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = r.Replace(n)
	}
	return out
}

// PreparedDir is where an experiment's prepared dataset lives:
// data.prepared, or prepared/NAME under the current directory.
func PreparedDir(exp *config.Experiment) string {
	if exp.Data.Prepared != "" {
		return exp.Data.Prepared
	}
	return filepath.Join("prepared", exp.Name)
}

// testHookAfterWrite, when set (tests only), runs after each file of a
// prepared dataset is written; an error stops the write as a crash would.
var testHookAfterWrite func(name string) error

// Prepare loads the experiment's data and writes it as a prepared dataset
// to dir: a temporary directory beside dir is filled, every file synced,
// then renamed into place, so that dir is either the old dataset, the new
// one, or absent, never half-written. Temporary directories left beside
// dir by an interrupted Prepare are removed first (sweepTemps).
//
// dir is cleaned first ("p/" and "p/x/.." are p); the current directory,
// one that holds it and the root are refused (preparedTarget). dir is
// only ever replaced when it is a prepared dataset (see checkReplaceable):
// anything else at that path is refused, untouched. The directories above
// dir that are missing and the temporary directory are made before the
// data is read, so that a place that cannot be written is an error at
// once; a Prepare that fails removes what it made.
//
// When ctx is cancelled, Prepare stops before its next stage or file,
// removes its temporary directory and returns an error wrapping ctx.Err();
// dir is left as it was.
func Prepare(ctx context.Context, exp *config.Experiment, dir string) (*Dataset, *Report, *Manifest, error) {
	dir, err := preparedTarget(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkReplaceable(dir); err != nil {
		return nil, nil, nil, err
	}
	swept, err := sweepTemps(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := stopped(ctx, dir); err != nil {
		return nil, nil, nil, err
	}
	st, err := stage(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	defer st.end()
	ds, rep, err := Load(exp)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := writePrepared(ctx, exp, dir, st.tmp, ds, rep)
	if err != nil {
		return nil, nil, nil, err
	}
	st.done = true
	if len(swept) > 0 {
		rep.Notes = append([]string{fmt.Sprintf("removed %s left by an interrupted prepare: %s",
			nouns(len(swept), "temporary folder"), shortList(swept))}, rep.Notes...)
	}
	return ds, rep, m, nil
}

// stopped returns an error when ctx is cancelled: preparing dir stops.
func stopped(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("preparing %s stopped: %w", dir, err)
	}
	return nil
}

// writePrepared writes ds into the temporary directory tmp and renames it
// to dir.
func writePrepared(ctx context.Context, exp *config.Experiment, dir, tmp string, ds *Dataset, rep *Report) (*Manifest, error) {
	var err error
	write := func(name string, fill func(io.Writer) error) (string, error) {
		if err := stopped(ctx, dir); err != nil {
			return "", err
		}
		return writeFileSynced(filepath.Join(tmp, name), fill)
	}
	m := &Manifest{Format: FormatVersion, Name: exp.Name, Fingerprint: Fingerprint(exp), Seed: exp.Seed,
		Created: time.Now().UTC().Format(time.RFC3339), Sources: ds.Files, Meta: ds.Meta,
		Assignment: AssignmentFile, Notes: rep.Notes, Config: exp.Data}
	m.Config.Prepared = ""
	for _, s := range ds.Splits() {
		sf := SplitFiles{Name: s.Name, N: s.N, X: s.Name + "-x.npy", Y: s.Name + "-y.npy"}
		if sf.XSHA256, err = write(sf.X, func(w io.Writer) error {
			return writeNpy(w, append([]int{s.N}, ds.Input...), s.X)
		}); err != nil {
			return nil, err
		}
		if ds.SelfTarget() { // Y is X: not written twice
			sf.Y = ""
		} else if sf.YSHA256, err = write(sf.Y, func(w io.Writer) error {
			return writeNpy(w, append([]int{s.N}, ds.Target...), s.Y)
		}); err != nil {
			return nil, err
		}
		m.Splits = append(m.Splits, sf)
	}
	if _, err := write(AssignmentFile, func(w io.Writer) error { return WriteAssignment(w, ds) }); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := write(ManifestFile, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return nil, err
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	if err := stopped(ctx, dir); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, dir); err != nil {
		return nil, err
	}
	return m, syncDir(filepath.Dir(dir))
}

// writeFileSynced writes a file through fill, syncs it, and returns its
// sha256.
func writeFileSynced(path string, fill func(io.Writer) error) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && testHookAfterWrite != nil {
		err = testHookAfterWrite(filepath.Base(path))
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// ReadManifest reads the manifest of the prepared dataset in dir.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, notPrepared(dir, "cannot read its manifest: %v", unwrapPath(err))
	}
	path := filepath.Join(dir, ManifestFile)
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, notPrepared(dir, "%s is not a dltrain manifest: %v", path, err)
	}
	if m.Format < 1 || !isFingerprint(m.Fingerprint) {
		return nil, notPrepared(dir, "%s is not a dltrain manifest: it has no format version and fingerprint", path)
	}
	return &m, nil
}

// Staleness says why a prepared dataset no longer matches its experiment;
// it is empty when the dataset is up to date.
func Staleness(exp *config.Experiment, m *Manifest) (string, error) {
	if m.Format != FormatVersion {
		return fmt.Sprintf("it was written by format version %d, this dltrain writes %d", m.Format, FormatVersion), nil
	}
	if fp := Fingerprint(exp); m.Fingerprint != fp {
		return fmt.Sprintf("the data section of the config or the seed changed (fingerprint %.12s… then, %.12s… now)", m.Fingerprint, fp), nil
	}
	kind, ref, err := lookupSource(exp.Data.Source)
	if err != nil {
		return "", err
	}
	files, err := kind.digest(ref, exp.Data)
	if err != nil {
		return "", err
	}
	if len(files) != len(m.Sources) {
		return "the source files changed", nil
	}
	for i, f := range files {
		if f.SHA256 != m.Sources[i].SHA256 {
			return fmt.Sprintf("%s changed (sha256 %.12s… then, %.12s… now)", f.Path, m.Sources[i].SHA256, f.SHA256), nil
		}
	}
	return "", nil
}

// ReadPrepared loads the prepared dataset in dir, checking every file
// against the checksum its manifest records.
func ReadPrepared(dir string) (*Dataset, *Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	ds := &Dataset{Meta: m.Meta, Files: m.Sources}
	byName := map[string]*Split{}
	for _, sf := range m.Splits {
		s := &Split{Name: sf.Name, N: sf.N}
		xs, x, err := readPreparedNpy(filepath.Join(dir, sf.X), sf.XSHA256)
		if err != nil {
			return nil, nil, err
		}
		ys, y := xs, x // a reconstruction's target is its input
		if sf.Y != "" || !m.Meta.SelfTarget() {
			if ys, y, err = readPreparedNpy(filepath.Join(dir, sf.Y), sf.YSHA256); err != nil {
				return nil, nil, err
			}
		}
		if len(xs) == 0 || xs[0] != sf.N || prod(xs[1:]) != m.Meta.InputSize() || len(ys) == 0 || ys[0] != sf.N || prod(ys[1:]) != m.Meta.TargetSize() {
			return nil, nil, fmt.Errorf("%w: %s: the %s tensors have shapes %v and %v, not what the manifest describes", ErrBadData, dir, sf.Name, xs, ys)
		}
		s.X, s.Y = x, y
		byName[sf.Name] = s
	}
	ds.Train, ds.Val, ds.Test = byName["train"], byName["val"], byName["test"]
	if ds.Train == nil || ds.Val == nil || ds.Test == nil {
		return nil, nil, fmt.Errorf("%w: %s: the manifest does not list train, val and test", ErrBadData, dir)
	}
	f, err := os.Open(filepath.Join(dir, m.Assignment))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadData, dir, err)
	}
	defer f.Close()
	if err := readAssignment(f, ds); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadData, filepath.Join(dir, m.Assignment), err)
	}
	return ds, m, nil
}

// readPreparedNpy reads one tensor file, verifying its sha256.
func readPreparedNpy(path, want string) ([]int, []float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: prepared dataset: %v", ErrBadData, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	hdr, err := readNpyHeader(path, r, st.Size())
	if err != nil {
		return nil, nil, err
	}
	vals, err := readNpyValues(hdr, r)
	if err != nil {
		return nil, nil, err
	}
	if got := drainSum(r, h); got != want {
		return nil, nil, fmt.Errorf("%w: %s is corrupt: sha256 %.12s…, the manifest says %.12s…; run dltrain prepare again", ErrBadData, path, got, want)
	}
	return hdr.shape, vals, nil
}

func drainSum(r io.Reader, h hash.Hash) string {
	io.Copy(io.Discard, r)
	return hex.EncodeToString(h.Sum(nil))
}

// Open returns the experiment's dataset. When a prepared dataset exists at
// PreparedDir it is used if up to date, and rebuilt (with a note saying
// why) if stale; without one, the data is prepared in memory. Every path
// gives the same samples, bit for bit.
func Open(exp *config.Experiment) (*Dataset, *Report, error) { return open(exp, true) }

// OpenReadOnly is Open for commands that must not write, such as eval: a
// stale prepared dataset (made with another seed or data section, or
// from older source files) is left as it is, and the data is prepared in
// memory instead, with a note saying why. It never writes anything.
func OpenReadOnly(exp *config.Experiment) (*Dataset, *Report, error) { return open(exp, false) }

// open is Open, rebuilding a stale prepared dataset only with rebuild.
func open(exp *config.Experiment, rebuild bool) (*Dataset, *Report, error) {
	dir := PreparedDir(exp)
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, nil, notPrepared(dir, "it is a file, not a directory")
	}
	m, err := ReadManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		return Load(exp)
	}
	if err != nil {
		return nil, nil, err
	}
	why, err := Staleness(exp, m)
	if err != nil {
		return nil, nil, err
	}
	if why != "" && !rebuild {
		ds, rep, err := Load(exp)
		if err != nil {
			return nil, nil, err
		}
		rep.Notes = append([]string{fmt.Sprintf("the prepared dataset %s is stale (%s): prepared the data in memory instead, leaving it as it was", dir, why)}, rep.Notes...)
		return ds, rep, nil
	}
	if why != "" {
		ds, rep, _, err := Prepare(context.Background(), exp, dir)
		if err != nil {
			return nil, nil, fmt.Errorf("rebuilding the stale prepared dataset %s: %w", dir, err)
		}
		rep.Notes = append([]string{fmt.Sprintf("the prepared dataset %s was stale (%s): rebuilt it", dir, why)}, rep.Notes...)
		return ds, rep, nil
	}
	ds, m, err := ReadPrepared(dir)
	if err != nil {
		return nil, nil, err
	}
	notes := relocate(ds, exp, m.Notes)
	rep := &Report{Notes: append([]string{fmt.Sprintf("using the prepared dataset %s (prepared %s, up to date)", dir, m.Created)}, notes...)}
	return ds, rep, nil
}

// WriteAssignment writes which split every sample is in, with the source
// line (or entry) it came from, its file (image folders) and its fold, as
// CSV: split,index,line,name,fold.
func WriteAssignment(w io.Writer, ds *Dataset) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"split", "index", "line", "name", "fold"}); err != nil {
		return err
	}
	for _, s := range ds.Splits() {
		for i := 0; i < s.N; i++ {
			rec := []string{s.Name, strconv.Itoa(i), "", "", ""}
			if i < len(s.Lines) {
				rec[2] = strconv.Itoa(s.Lines[i])
			}
			if s.Names != nil {
				rec[3] = s.Names[i]
			}
			if s.Folds != nil {
				rec[4] = strconv.Itoa(s.Folds[i])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// readAssignment fills the Lines, Names and Folds of the splits of ds from
// an assignment file.
func readAssignment(r io.Reader, ds *Dataset) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return err
	}
	byName := map[string]*Split{"train": ds.Train, "val": ds.Val, "test": ds.Test}
	for _, s := range byName {
		s.Lines = make([]int, 0, s.N)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		s := byName[rec[0]]
		if s == nil || len(rec) != 5 {
			return fmt.Errorf("unexpected record %v", rec)
		}
		line, err := strconv.Atoi(rec[2])
		if err != nil {
			return fmt.Errorf("bad line %q", rec[2])
		}
		s.Lines = append(s.Lines, line)
		if rec[3] != "" {
			s.Names = append(s.Names, strings.Clone(rec[3]))
		}
		if rec[4] != "" {
			k, err := strconv.Atoi(rec[4])
			if err != nil {
				return fmt.Errorf("bad fold %q", rec[4])
			}
			s.Folds = append(s.Folds, k)
		}
	}
	for _, s := range byName {
		if len(s.Lines) != s.N || (s.Names != nil && len(s.Names) != s.N) || (s.Folds != nil && len(s.Folds) != s.N) {
			return fmt.Errorf("the %s split lists %d samples, its tensors hold %d", s.Name, len(s.Lines), s.N)
		}
	}
	return nil
}
