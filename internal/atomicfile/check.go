package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// OutputError is an output path refused before any work: it is an input,
// a folder, or in a folder that does not exist. Path is the path as the
// user gave it.
type OutputError struct {
	Path string
	Msg  string
}

func (e *OutputError) Error() string { return fmt.Sprintf("output %s: %s", e.Path, e.Msg) }

// stdin is standard input, for CheckOutput's "-" (a variable for tests).
var stdin = os.Stdin

// CheckOutput refuses an output path that would overwrite one of inputs
// (the same file after symbolic links, or another name of the same file),
// that is an existing folder, or whose folder does not exist. Commands call
// it before they read anything, so that a mistyped -o never costs the
// evidence it names nor a long analysis. "" and "-" (standard output) are
// fine; an input "-" is standard input when it is redirected from a
// file; inputs that are "" or cannot be stat'ed are skipped (reading
// them will say what is wrong). An input folder (a PiRogue experiment)
// counts with every file in it.
func CheckOutput(path string, inputs ...string) error {
	if path == "" || path == "-" {
		return nil
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return &OutputError{Path: path, Msg: "is a folder; give a file name"}
	}
	if err != nil {
		// A new file: its folder must be there.
		dir := filepath.Dir(path)
		dst, derr := os.Stat(dir)
		switch {
		case derr != nil && errors.Is(derr, fs.ErrNotExist):
			return &OutputError{Path: path, Msg: fmt.Sprintf("folder %s does not exist", dir)}
		case derr != nil:
			return &OutputError{Path: path, Msg: reason(derr)}
		case !dst.IsDir():
			return &OutputError{Path: path, Msg: fmt.Sprintf("%s is not a folder", dir)}
		case !errors.Is(err, fs.ErrNotExist):
			return &OutputError{Path: path, Msg: reason(err)}
		}
		return nil
	}
	for _, in := range inputs {
		if in == "-" {
			// "convert - -o x.pcap < x.pcap": standard input redirected
			// from the very file.
			if ist, err := stdin.Stat(); err == nil && ist.Mode().IsRegular() && os.SameFile(st, ist) {
				return &OutputError{Path: path, Msg: "is the input (standard input is this file); refusing to overwrite it"}
			}
			continue
		}
		if in == "" {
			continue
		}
		ist, err := os.Stat(in)
		if err != nil {
			continue
		}
		if os.SameFile(st, ist) {
			return &OutputError{Path: path, Msg: fmt.Sprintf("is the input %s; refusing to overwrite it", in)}
		}
		if ist.IsDir() {
			if inside := underDir(st, in); inside != "" {
				return &OutputError{Path: path, Msg: fmt.Sprintf("is the input %s; refusing to overwrite it", inside)}
			}
		}
	}
	return nil
}

// CheckDir refuses an output folder that is an existing file (an input,
// most likely) or one of inputs.
func CheckDir(dir string, inputs ...string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // made by the command
		}
		return &OutputError{Path: dir, Msg: reason(err)}
	}
	if !st.IsDir() {
		for _, in := range inputs {
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return &OutputError{Path: dir, Msg: fmt.Sprintf("is the input %s; give an output folder", in)}
			}
		}
		return &OutputError{Path: dir, Msg: "is a file, not a folder"}
	}
	return nil
}

// underDir returns the file of dir (recursively) that is the same file as
// st, "" when none is.
func underDir(st fs.FileInfo, dir string) string {
	found := ""
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := os.Stat(p); err == nil && os.SameFile(st, fi) {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// reason is what went wrong, without the operation and path a PathError
// repeats.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
