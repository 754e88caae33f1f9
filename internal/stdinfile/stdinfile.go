// Package stdinfile spools standard input ("-" among a command's inputs)
// to a temporary file: reading a capture takes two passes (the TLS
// secrets first), and every reader takes a path.
package stdinfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// prefix names the folders Spool writes to.
const prefix = "tracewire-stdin-"

// Spool returns args with "-" replaced by the path of a temporary file
// that holds all of stdin, and the function that removes it. "-" given
// twice is an error.
func Spool(stdin io.Reader, args []string) ([]string, func(), error) {
	inputs := append([]string(nil), args...)
	var tmp string
	cleanup := func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	for i, a := range args {
		if a != "-" {
			continue
		}
		if tmp != "" {
			cleanup()
			return nil, nil, fmt.Errorf("standard input given twice")
		}
		dir, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, nil, err
		}
		tmp = dir
		p := filepath.Join(dir, "stdin")
		f, err := os.Create(p)
		if err == nil {
			_, err = io.Copy(f, stdin)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("read standard input: %w", err)
		}
		inputs[i] = p
	}
	return inputs, cleanup, nil
}

// Names maps the file Spool wrote among paths to "-", the name it goes by
// in what a conversion writes (pcap.Options.Names); nil when there is none.
func Names(paths []string) map[string]string {
	for _, p := range paths {
		if d := Display(p); d != p {
			return map[string]string{p: d}
		}
	}
	return nil
}

// Display returns "-" for a file Spool wrote, and p otherwise: the
// temporary name changes from run to run and must not reach the output.
func Display(p string) string {
	if filepath.Base(p) == "stdin" && strings.HasPrefix(filepath.Base(filepath.Dir(p)), prefix) {
		return "-"
	}
	return p
}
