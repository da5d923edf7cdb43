package data

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
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
		return fmt.Errorf("%w: %s: %v", ErrBadData, dir, unwrapPath(err))
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
