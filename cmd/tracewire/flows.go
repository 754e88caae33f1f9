package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/internal/stdinfile"
	"github.com/tracewire/tracewire/pcap"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newFlowsCmd) }

func newFlowsCmd(e *env) *cobra.Command {
	var (
		s      tracewire.Settings
		format string
	)
	cmd := &cobra.Command{
		Use:   "flows IN...",
		Short: "List the TCP connections and UDP flows of captures and what was found in them",
		Long: `Flows lists every TCP connection and UDP flow of the captures in the order of
its first packet: addresses, Community ID, the protocol recognised from the content
(QUIC; for other UDP flows the service of a well-known port, such as udp/dns),
bytes each way, HTTP requests found, and for TLS and QUIC the SNI, ALPN and whether
it could be decrypted (with --keylog files or secrets embedded in the pcapng), and
if not, why: no key log given, no key for this session, TLS 1.3 keys missing,
unsupported cipher, handshake not captured, wrong key?, 0-RTT data (partly), data
lost or damaged. --format json gives the full reason (tlsError) and its cause
(tlsErrorCause).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format must be table or json, not %q", format)
			}
			inputs, cleanup, err := stdinInputs(e, args)
			if err != nil {
				return err
			}
			defer cleanup()
			if err := filekind.ReadsCaptures.CheckFiles("flows", displayPath, inputs...); err != nil {
				return err
			}
			opts := captureOptions(e, &s)
			opts.ListFlows, opts.Names = true, stdinfile.Names(inputs)
			sum, err := pcap.Convert(cmd.Context(), inputs, opts, nil)
			if err == nil {
				err = tracewire.CaptureReadError(sum)
			}
			if err != nil {
				rep.WriteCaptureWarnings(e.stderr, sum, true)
				return err
			}
			if format == "json" {
				err = rep.WriteFlowsJSON(e.stdout, sum, displayPath)
			} else {
				err = rep.WriteFlowsTable(e.stdout, sum)
			}
			if err != nil {
				return err
			}
			rep.WriteCaptureWarnings(e.stderr, sum, true)
			return tracewire.CaptureIncomplete(sum)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	registerCapture(cmd, &s)
	return cmd
}
