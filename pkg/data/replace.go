package data

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A prepared dataset is written beside its target and renamed into place
// (replaceDir). Replacing a directory deletes what it held, so only a
// directory that is provably a prepared dataset is ever replaced: a
// user's folder that happens to hold a manifest.json, or a regular file,
// is refused untouched.

// isPreparedFile says whether name is one of the files a prepared dataset
// holds: its manifest, its assignment and the tensors of its splits.
func isPreparedFile(name string) bool {
	if name == ManifestFile || name == AssignmentFile {
		return true
	}
	for _, s := range splitNames {
		if name == s+"-x.npy" || name == s+"-y.npy" {
			return true
		}
	}
	return false
}

// isFingerprint says whether s looks like a Fingerprint: 64 hex digits.
func isFingerprint(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// notPrepared is the error for a path that is not a prepared dataset.
func notPrepared(dir, format string, args ...any) error {
	return fmt.Errorf("%w: not a prepared dataset: %s: %s", ErrBadData, dir, fmt.Sprintf(format, args...))
}

// checkReplaceable returns nil when a new prepared dataset may take the
// place of dir: nothing is there, or an empty directory, or a prepared
// dataset: a directory whose manifest.json is a dltrain manifest and
// which holds only the files a prepared dataset writes. Anything else is
// refused with ErrBadData, saying why.
func checkReplaceable(dir string) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: cannot write the prepared dataset %s: %v", ErrBadData, dir, err)
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		return notPrepared(dir, "it is a symbolic link; not replacing it (give the directory it points to)")
	case !st.IsDir():
		return notPrepared(dir, "it is a file, not a directory; not replacing it")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadData, dir, unwrapPath(err))
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := ReadManifest(dir); errors.Is(err, os.ErrNotExist) {
		return notPrepared(dir, "the directory has no %s; not replacing it", ManifestFile)
	} else if err != nil {
		return fmt.Errorf("%w; not replacing it", err)
	}
	var other []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !isPreparedFile(e.Name()) {
			other = append(other, e.Name())
		}
	}
	if len(other) > 0 {
		slices.Sort(other)
		return notPrepared(dir, "it also holds %s, which a prepared dataset never writes; not replacing it (move them away, or choose another directory)", shortList(other))
	}
	return nil
}

// replaceDir renames tmp to dir. An existing dir is checked again (it
// may have changed since the preparing started), renamed aside and
// removed after, so that dir never holds a mix of old and new files.
func replaceDir(tmp, dir string) error {
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	var old string
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("moving the previous %s aside: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("renaming %s to %s: %w", tmp, dir, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// preparedTarget cleans dir, so that a trailing slash or "x/.." does not
// put the temporary directory inside the target or make a stray x, and
// refuses the directories a prepared dataset cannot replace: the root,
// and the current directory or one that holds it (replacing it would pull
// the working directory out from under the user).
func preparedTarget(dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("%w: no directory given for the prepared dataset", ErrBadData)
	}
	clean := filepath.Clean(dir)
	abs, err := filepath.Abs(clean)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrBadData, dir, err)
	}
	if filepath.Dir(abs) == abs {
		return "", fmt.Errorf("%w: %s is the root directory: a prepared dataset replaces its directory whole; give a directory below it", ErrBadData, dir)
	}
	if cwd, err := os.Getwd(); err == nil {
		// Real paths: through a symbolic link the target can be the
		// working directory under another name (and the rename would
		// still move the real directory).
		if rel, err := filepath.Rel(realPath(abs), realPath(cwd)); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			what := "the current directory"
			if rel != "." {
				what = "a directory that holds the current directory"
			}
			return "", fmt.Errorf("%w: %s is %s: a prepared dataset replaces its directory whole, which would pull the working directory out from under you; give a directory inside it (e.g. %s)",
				ErrBadData, dir, what, filepath.Join(dir, "prepared"))
		}
	}
	return clean, nil
}

// realPath resolves the symbolic links of the longest existing part of
// the absolute, clean path p and appends the rest; p itself if nothing
// resolves.
func realPath(p string) string {
	rest := ""
	for q := p; ; q = filepath.Dir(q) {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			return filepath.Join(r, rest)
		}
		if filepath.Dir(q) == q {
			return p
		}
		rest = filepath.Join(filepath.Base(q), rest)
	}
}

// staging is the temporary directory a prepared dataset is written to,
// made before the data is read, with the directories made for it.
type staging struct {
	tmp     string
	made    []string // directories above the target made for it, outermost first
	release func()
	done    bool // the temporary directory became the target: keep what was made
}

// stage makes the directories above dir that are missing and the
// temporary directory beside dir (makeTemp). A directory that cannot be
// made is an error naming it (ErrBadData: the place given cannot be
// written), and nothing made is left behind.
func stage(dir string) (*staging, error) {
	st := &staging{release: func() {}}
	parent := filepath.Dir(dir)
	for p := parent; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil || filepath.Dir(p) == p {
			break
		}
		st.made = append([]string{p}, st.made...)
	}
	for _, p := range st.made {
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			st.end()
			return nil, fmt.Errorf("%w: cannot write the prepared dataset %s: cannot make %s: %v", ErrBadData, dir, p, unwrapPath(err))
		}
	}
	tmp, release, err := makeTemp(dir)
	if err != nil {
		st.end()
		return nil, err
	}
	st.tmp, st.release = tmp, release
	return st, nil
}

// end unlocks the temporary directory and, unless done, removes it and
// the directories made for it (those still empty).
func (st *staging) end() {
	if !st.done && st.tmp != "" {
		os.RemoveAll(st.tmp)
	}
	st.release()
	if st.done {
		return
	}
	for i := len(st.made) - 1; i >= 0; i-- {
		os.Remove(st.made[i])
	}
}

// tempPrefix is how the temporary directories of a prepared dataset at
// dir are named, beside it: .NAME.tmp- followed by os.MkdirTemp's digits.
func tempPrefix(dir string) string { return "." + filepath.Base(dir) + ".tmp-" }

// makeTemp creates the temporary directory a prepared dataset for dir is
// written to, locked (lockDir) so that a concurrent sweepTemps leaves it
// alone; release unlocks it.
func makeTemp(dir string) (tmp string, release func(), err error) {
	for range 100 {
		tmp, err = os.MkdirTemp(filepath.Dir(dir), tempPrefix(dir))
		if err != nil {
			return "", nil, fmt.Errorf("%w: cannot write the prepared dataset %s in %s: %v", ErrBadData, dir, filepath.Dir(dir), unwrapPath(err))
		}
		release, ok, err := lockDir(tmp)
		if err != nil {
			os.Remove(tmp)
			return "", nil, fmt.Errorf("locking %s: %w", tmp, err)
		}
		// A sweep may have taken the lock and removed the directory
		// between its creation and the lock: then try another.
		if _, serr := os.Lstat(tmp); ok && serr == nil {
			if err := os.Chmod(tmp, 0o755); err != nil {
				release()
				os.RemoveAll(tmp)
				return "", nil, err
			}
			return tmp, release, nil
		}
		if ok {
			release()
		}
	}
	return "", nil, fmt.Errorf("creating a temporary directory for %s: it vanished 100 times in a row", dir)
}

// sweepTemps removes the temporary directories that a prepare of dir
// killed before it could clean up (kill -9, a second SIGINT, a crash) left
// beside dir, and returns their names. Only a directory named exactly as
// makeTemp (or replaceDir, .old) names them, holding nothing but files a
// prepared dataset writes, and not locked by a running prepare, is
// removed.
func sweepTemps(dir string) ([]string, error) {
	parent := filepath.Dir(dir)
	entries, err := os.ReadDir(parent)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", parent, err)
	}
	pattern := regexp.MustCompile("^" + regexp.QuoteMeta(tempPrefix(dir)) + `[0-9]+(\.old)?$`)
	var swept []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !pattern.MatchString(name) || !onlyPreparedFiles(filepath.Join(parent, name)) {
			continue
		}
		if info, err := e.Info(); !haveLocks && (err != nil || time.Since(info.ModTime()) < time.Hour) {
			continue // perhaps a running prepare's
		}
		// The lock of an .old directory is that of the temporary directory
		// it was renamed aside for: held while the replacing may still
		// move it back.
		path := filepath.Join(parent, name)
		release, ok, err := lockDir(strings.TrimSuffix(path, ".old"))
		if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(name, ".old") {
			release, ok, err = func() {}, true, nil
		}
		if err != nil || !ok {
			continue // gone meanwhile, or in use
		}
		err = os.RemoveAll(path)
		release()
		if err != nil {
			return swept, fmt.Errorf("removing the stale temporary directory %s: %w", path, err)
		}
		swept = append(swept, name)
	}
	return swept, nil
}

// onlyPreparedFiles says whether dir holds nothing but regular files a
// prepared dataset writes (or nothing).
func onlyPreparedFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isPreparedFile(e.Name()) {
			return false
		}
	}
	return true
}
