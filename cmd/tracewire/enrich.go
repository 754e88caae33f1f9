package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/filekind"
	prog "github.com/tracewire/tracewire/internal/progress"
	"github.com/tracewire/tracewire/internal/stdinfile"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newEnrichCmd) }

func newEnrichCmd(e *env) *cobra.Command {
	var (
		s      tracewire.Settings
		out    string
		indent bool
	)
	cmd := &cobra.Command{
		Use:   "enrich IN.har|IN.pcap|IN.pcapng|DIR",
		Short: "Attach stack traces, process info, decrypted bodies and data owners to HAR entries",
		Long: `Enrich adds to each HTTP exchange what was recorded outside the network:

  --socket-trace  PiRogue's socket_trace.json: the stack trace of the socket call
                  that sent the request (request._stacktrace) and received the
                  response (response._stacktrace), paired by the flow's Community ID
                  and time, with the field names of PiRogue's pcapng-utils
  --ebpf          the same from an eBPF collector (docs/ebpf-socket-events.md)
  --aes-info      PiRogue's aes_info.json: bodies the app encrypted itself are
                  replaced by their plaintext; the original stays in _decryption
  --provenance    a backend's provenance log: whose data each request carried
                  (_owners, _provenance); a log whose clock is off by a time
                  zone is shifted when the events found in exactly one request
                  agree on the offset (--provenance-time-shift sets it by hand)
  ptcpdump's per-packet process comments in pcapng captures become _process.

The stages run as detect, report and batch run them (tracewire.Enrich is
tracewire.Analyze without detection): decryption first, so the other stages
see the plaintext detection sees, then stack traces, process comments and
provenance.

IN is a HAR, a capture (converted first; TLS decrypted with --keylog and the
secrets embedded in pcapng) or a PiRogue experiment folder, in which the capture,
socket_trace.json, aes_info.json and sslkeylog.txt are found by experiment.json or
their usual names. Entry times are shifted by --time-shift seconds (by default
experiment.json's (device start - network start) / 1000) before pairing. The HAR
goes to -o (standard output by default); a summary of what was paired and what
was not goes to standard error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEnrich(cmd.Context(), e, args[0], out, indent, &s)
		},
	}
	registerEnrich(cmd, &s)
	registerCapture(cmd, &s)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the HAR to this file (default: standard output)")
	cmd.Flags().BoolVar(&indent, "indent", false, "indent the JSON")
	return cmd
}

func runEnrich(ctx context.Context, e *env, in, out string, indent bool, s *tracewire.Settings) error {
	if err := checkOutput(out, append([]string{in}, s.Paths()...)...); err != nil {
		return err
	}
	inputs, cleanup, err := stdinInputs(e, []string{in})
	if err != nil {
		return err
	}
	defer cleanup()
	input, err := s.Input(inputs)
	if err != nil {
		return err
	}
	// The files an experiment names (checked above when the input is its
	// folder, not when --experiment names them).
	if all, err := tracewire.ResolveInput(input); err == nil {
		if err := checkOutput(out, tracewire.InputPaths(all)...); err != nil {
			return err
		}
		if err := (filekind.ReadsCaptures | filekind.ReadsHAR).CheckFiles("enrich", displayPath, all.Files...); err != nil {
			return err
		}
	}
	opts, err := options(e, s)
	if err != nil {
		return err
	}
	opts.EnrichProgress = prog.Enrich(e.stderr)
	opts.Capture.Names = stdinfile.Names(inputs)
	if indent {
		opts.HARWriterOptions = append(opts.HARWriterOptions, har.Indented())
	}
	var res *tracewire.Enriched
	err = writeOutput(out, e.stdout, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		opts.HAR = bw
		var err error
		res, err = tracewire.Enrich(ctx, input, opts)
		if opts.EnrichProgress != nil {
			fmt.Fprintln(e.stderr)
		}
		if res != nil {
			rep.WriteCaptureWarnings(e.stderr, res.Capture, false)
		}
		if err != nil {
			if res != nil && res.Enrichment != nil {
				res.Enrichment.WriteText(e.stderr)
			}
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	skipped, err := res.WriteWarnings(e.stderr)
	if err != nil {
		return err
	}
	if skipped {
		return tracewire.ErrIncomplete
	}
	return tracewire.CaptureIncomplete(res.Capture)
}
