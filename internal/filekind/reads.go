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
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
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
