package main

import (
	"github.com/tracewire/tracewire/internal/filekind"
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
