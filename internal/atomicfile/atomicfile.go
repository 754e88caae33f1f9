// Package atomicfile writes output files so that a reader never sees a
// half-written file: data goes to a temporary file in the same directory,
// which is synced and renamed over the destination only when the writer
// commits. A run that fails or is interrupted leaves any previous file
// untouched.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an output file being written. Write to it, then call Commit; call
// Abort (safe after Commit, so it can be deferred) to throw it away.
type File struct {
	*os.File
	// NoSync skips the sync before the rename: for outputs whose content
	// is checked before it is relied on (tracewire batch records each
	// output's SHA-256 and verifies it), where a sync per file would cost
	// more than the work that made the file. The rename still makes the
	// file appear whole or not at all to readers.
	NoSync bool
	path   string
	done   bool
}

// Create starts writing path. The temporary file lives beside path so the
// final rename stays on one file system.
func Create(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		// The temporary file's name means nothing to the user.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &File{File: f, path: path}, nil
}

// Commit syncs the data and renames the temporary file to the destination.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	f.done = true
	tmp := f.Name()
	var err error
	if !f.NoSync {
		err = f.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// Abort removes the temporary file; it does nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// Close is Abort: a file closed without Commit is not kept.
func (f *File) Close() error {
	f.Abort()
	return nil
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
