package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire/internal/version"
)

// env is what every subcommand gets instead of touching os.Std*.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// subcommands is filled by the init functions of the files that define the
// subcommands, one file each, so adding a command touches no other file.
var subcommands []func(*env) *cobra.Command

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "tracewire",
		Short:         "Prove which personal data an app or backend sent to which tracking company",
		Long:          "tracewire turns network captures (pcap, pcapng, with TLS key logs) into HAR, enriches them with stack traces and data provenance, finds the personal data each request sent to trackers, and writes reports.\n\n" + exitHelp,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, mk := range subcommands {
		c := mk(e)
		if c.Long != "" {
			c.Long += "\n\n" + exitHelp
		}
		root.AddCommand(c)
	}
	return root
}
