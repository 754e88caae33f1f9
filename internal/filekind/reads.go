package filekind

import (
	"fmt"
	"os"
)

// Reads says which kinds of input file a command reads.
type Reads int

// What a command reads.
const (
	ReadsCaptures Reads = 1 << iota
	// ReadsHAR also lets other JSON through: the HAR reader (or the
	// findings reader) says what is wrong with it.
	ReadsHAR
	// ReadsFindings: findings files (JSON, let through by ReadsHAR).
	ReadsFindings
)

// what names the files a command reads, for messages.
func (r Reads) what() string {
	switch r {
	case ReadsCaptures:
		return "pcap and pcapng captures"
	case ReadsCaptures | ReadsHAR:
		return "pcap and pcapng captures and HAR files"
	}
	return "pcap and pcapng captures, HAR files and findings files"
}

// Check is nil when the command cmd, which reads r, reads a file like
// info (named name, "-" for standard input), else the error that says
// what the file looks like and which command reads it.
func (r Reads) Check(cmd, name string, info Info) error {
	json := (info.Kind == HAR || info.Kind == JSON) && info.Compression == ""
	if info.Capture() && r&ReadsCaptures != 0 || json && r&ReadsHAR != 0 {
		return nil
	}
	if name == "-" {
		name = "standard input"
	}
	if info.Kind == Empty && info.Compression == "" {
		return fmt.Errorf("%s is an empty file: nothing to analyse", name)
	}
	msg := fmt.Sprintf("%s is %s, but %s reads only %s", name, info, cmd, r.what())
	switch {
	case info.ReadBy() != "":
		msg += " (" + info.ReadBy() + ")"
	case info.Compression != "" && (info.Kind == HAR || info.Kind == JSON):
		msg += " (decompress it first)"
	}
	return fmt.Errorf("%s", msg)
}

// CheckFiles is Check for files, named in errors by name(path). Folders,
// standard input ("-") and files that cannot be opened are let through:
// the command reports them as it reads them.
func (r Reads) CheckFiles(cmd string, name func(string) string, paths ...string) error {
	for _, p := range paths {
		if p == "-" || p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil || st.IsDir() {
			continue
		}
		if err := notPipe(name(p), st); err != nil {
			return err
		}
		info, err := SniffFile(p)
		if err != nil {
			continue
		}
		if err := r.Check(cmd, name(p), info); err != nil {
			return err
		}
	}
	return nil
}

// CheckPipe refuses a named pipe or socket as an input (a FIFO, or
// /dev/stdin given by name when it is a pipe): an input is read more than
// once (a capture's TLS secrets first), which a pipe cannot give; its
// second reading would start in the middle and say the file is of an
// unknown format. Other paths, and those that cannot be stat'ed, are nil.
func CheckPipe(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return notPipe(path, st)
}

func notPipe(name string, st os.FileInfo) error {
	what := ""
	switch {
	case st.Mode()&os.ModeNamedPipe != 0:
		what = "a named pipe"
	case st.Mode()&os.ModeSocket != 0:
		what = "a socket"
	default:
		return nil
	}
	return fmt.Errorf("%s is %s, which can be read only once, but tracewire reads an input more than once (to hash it; a capture's TLS secrets first): save it to a file first (a capture or HAR may also come on standard input, as \"-\")", name, what)
}
