package main

import (
	"fmt"
	"os"

	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/pcap"
)

// reads says which kinds of input file a command reads.
type reads int

const (
	readsCaptures reads = 1 << iota
	// readsHAR also lets other JSON through: the HAR reader (or the
	// findings reader) says what is wrong with it.
	readsHAR
	// readsFindings: findings files (JSON, let through by readsHAR).
	readsFindings
)

// what names the files a command reads, for messages.
func (r reads) what() string {
	switch r {
	case readsCaptures:
		return "pcap and pcapng captures"
	case readsCaptures | readsHAR:
		return "pcap and pcapng captures and HAR files"
	}
	return "pcap and pcapng captures, HAR files and findings files"
}

// checkInputs refuses, before any work, an input file the command cannot
// read (exit status 2), saying what the file looks like and which command
// reads it. Folders, standard input ("-") and files that cannot be opened
// are left to the command, which reports them.
func checkInputs(cmd string, r reads, paths ...string) error {
	for _, p := range paths {
		if p == "-" || p == "" {
			continue
		}
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		info, err := filekind.SniffFile(p)
		if err != nil {
			continue
		}
		if err := kindError(cmd, r, displayPath(p), info); err != nil {
			return err
		}
	}
	return nil
}

// kindError is nil when cmd reads a file like info, else the usage error
// (exit status 2) that says what the file looks like and who reads it.
func kindError(cmd string, r reads, name string, info filekind.Info) error {
	json := (info.Kind == filekind.HAR || info.Kind == filekind.JSON) && info.Compression == ""
	if info.Capture() && r&readsCaptures != 0 || json && r&readsHAR != 0 {
		return nil
	}
	if name == "-" {
		name = "standard input"
	}
	if info.Kind == filekind.Empty && info.Compression == "" {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s is an empty file: nothing to analyse", name)}
	}
	msg := fmt.Sprintf("%s is %s, but %s reads only %s", name, info, cmd, r.what())
	switch {
	case info.ReadBy() != "":
		msg += " (" + info.ReadBy() + ")"
	case info.Compression != "" && (info.Kind == filekind.HAR || info.Kind == filekind.JSON):
		msg += " (decompress it first)"
	}
	return &exitError{code: exitFailed, err: fmt.Errorf("%s", msg)}
}

// truncated is exit status 1 when a capture could not be read to its end
// (cut short or corrupt: the warnings have said where, and what was read
// before is in the output), nil otherwise.
func truncated(sum *pcap.Summary) error {
	if sum == nil {
		return nil
	}
	for _, w := range sum.Warnings {
		if w.Truncated {
			return &exitError{code: exitIncomplete}
		}
	}
	return nil
}
