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
	"strings"
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
	path   string // as given, for messages
	target string // where the data goes: path after symbolic links
	done   bool
	// direct: path is a device, named pipe or socket (/dev/stdout,
	// /dev/null, a FIFO), written in place: a rename would replace the
	// device node itself with a regular file.
	direct bool
}

// Create starts writing path. The temporary file lives beside path so the
// final rename stays on one file system. A symbolic link is followed: the
// file it names is replaced and the link stays. A path that is a device,
// named pipe or socket, or any path under /dev or /proc (/dev/stdout, say,
// even when it names a regular file: a rename would undo an append), is
// written directly, as a shell redirection would.
func Create(path string, perm os.FileMode) (*File, error) {
	if st, err := os.Stat(path); err == nil && !st.IsDir() && (!st.Mode().IsRegular() || special(path)) {
		// O_APPEND: /dev/stdout may be a file the shell opened with >>.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return &File{File: f, path: path, target: path, direct: true}, nil
	}
	target := followLinks(path)
	dir, base := filepath.Split(target)
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
	return &File{File: f, path: path, target: target}, nil
}

// special reports whether path lies under /dev or /proc, where no
// temporary file belongs.
func special(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	return strings.HasPrefix(abs, "/dev/") || strings.HasPrefix(abs, "/proc/")
}

// followLinks is path after its symbolic links (dangling ones too, so the
// file is made where the link points), path itself when it is no link or
// the links go round.
func followLinks(path string) string {
	p := path
	for i := 0; i < 40; i++ {
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return p
		}
		t, err := os.Readlink(p)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = t
	}
	return path
}

// Commit syncs the data and renames the temporary file to the destination.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	f.done = true
	if f.direct {
		if err := f.File.Close(); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
		return nil
	}
	tmp := f.Name()
	var err error
	if !f.NoSync {
		err = f.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.target)
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
	if !f.direct {
		os.Remove(f.Name())
	}
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
