package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/internal/stdinfile"
	"github.com/tracewire/tracewire/pcap"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newConvertCmd) }

func newConvertCmd(e *env) *cobra.Command {
	var (
		s      tracewire.Settings
		out    string
		outDir string
		indent bool
	)
	cmd := &cobra.Command{
		Use:   "convert IN...",
		Short: "Convert pcap/pcapng captures to HAR",
		Long: `Convert reads packet captures (pcap or pcapng, gzipped too; "-" reads standard
input) and writes the HTTP exchanges found in them as HAR 1.2: one HAR for all
inputs (to standard output unless -o is given), or one per input with --out-dir.
TLS is decrypted with --keylog files and the secrets embedded in pcapng files.
Entries are sorted by request time; the output is the same on every run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "" && outDir != "" {
				return fmt.Errorf("-o and --out-dir exclude each other")
			}
			ins := append(append(append([]string(nil), args...), s.KeyLogs...), s.RSAKeys...)
			if err := checkOutput(out, ins...); err != nil {
				return err
			}
			if outDir != "" {
				if err := tracewire.CheckConvertDir(outDir, args, ins...); err != nil {
					return err
				}
			}
			inputs, cleanup, err := stdinInputs(e, args)
			if err != nil {
				return err
			}
			defer cleanup()
			if err := filekind.ReadsCaptures.CheckFiles("convert", displayPath, inputs...); err != nil {
				return err
			}
			var wopts []har.WriterOption
			if indent {
				wopts = append(wopts, har.Indented())
			}
			opts := captureOptions(e, &s)
			opts.Names = stdinfile.Names(inputs)
			var cut error
			done := func(sum *pcap.Summary) {
				rep.WriteCaptureWarnings(e.stderr, sum, false)
				if err := tracewire.CaptureIncomplete(sum); err != nil {
					cut = err
				}
			}
			if outDir != "" {
				err = tracewire.ConvertEach(cmd.Context(), outDir, inputs, args, opts, wopts, done)
			} else {
				var sum *pcap.Summary
				if sum, err = tracewire.ConvertFile(cmd.Context(), out, e.stdout, inputs, opts, wopts...); sum != nil {
					done(sum)
				}
			}
			if err != nil {
				return err
			}
			return cut
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the HAR to this file (default: standard output)")
	cmd.Flags().StringVar(&outDir, "out-dir", "", "write one HAR per input into this directory, named after the input")
	cmd.Flags().BoolVar(&indent, "indent", false, "indent the JSON")
	registerCapture(cmd, &s)
	return cmd
}

// stdinInputs spools "-" (standard input) to a temporary file.
func stdinInputs(e *env, args []string) ([]string, func(), error) {
	return stdinfile.Spool(e.stdin, args)
}

// displayPath returns "-" for the file standard input was spooled to.
func displayPath(p string) string { return stdinfile.Display(p) }
