package main

import (
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/pcap"
)

// reads says which kinds of input file a command reads.
type reads = filekind.Reads

const (
	readsCaptures = filekind.ReadsCaptures
	readsHAR      = filekind.ReadsHAR
	readsFindings = filekind.ReadsFindings
)

// checkInputs refuses, before any work, an input file the command cannot
// read (exit status 2), saying what the file looks like and which command
// reads it.
func checkInputs(cmd string, r reads, paths ...string) error {
	return r.CheckFiles(cmd, displayPath, paths...)
}

// kindError is nil when cmd reads a file like info, else the usage error
// (exit status 2) that says what the file looks like and who reads it.
func kindError(cmd string, r reads, name string, info filekind.Info) error {
	if err := r.Check(cmd, name, info); err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	return nil
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
