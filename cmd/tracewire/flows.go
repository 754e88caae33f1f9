package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire/pcap"
)

func init() { subcommands = append(subcommands, newFlowsCmd) }

func newFlowsCmd(e *env) *cobra.Command {
	var (
		cf     captureFlags
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
			if err := checkInputs("flows", readsCaptures, inputs...); err != nil {
				return err
			}
			opts := cf.options(e)
			opts.ListFlows = true
			sum, err := pcap.Convert(cmd.Context(), inputs, opts, nil)
			if err != nil {
				return err
			}
			if format == "json" {
				err = flowsJSON(e.stdout, sum)
			} else {
				err = flowsTable(e.stdout, sum)
			}
			if err != nil {
				return err
			}
			report(e, sum, false)
			return truncated(sum)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cf.register(cmd)
	return cmd
}

// flowJSON is the JSON form of a flow; field names follow the HAR
// extensions' style.
type flowJSON struct {
	File          string `json:"file"`
	Index         uint64 `json:"index"`
	Transport     string `json:"transport"`
	Client        string `json:"client"`
	Server        string `json:"server"`
	CommunityID   string `json:"communityId"`
	Protocol      string `json:"protocol"`
	First         string `json:"firstPacket"`
	Last          string `json:"lastPacket"`
	BytesToServer int64  `json:"bytesToServer"`
	BytesToClient int64  `json:"bytesToClient"`
	Datagrams     int    `json:"datagrams,omitempty"`
	Requests      int    `json:"requests"`
	SNI           string `json:"sni,omitempty"`
	ALPN          string `json:"alpn,omitempty"`
	TLSVersion    string `json:"tlsVersion,omitempty"`
	CipherSuite   string `json:"cipherSuite,omitempty"`
	Decrypted     *bool  `json:"decrypted,omitempty"`
	TLSError      string `json:"tlsError,omitempty"`
	TLSCause      string `json:"tlsErrorCause,omitempty"`
	Gaps          int    `json:"gaps,omitempty"`
}

// isTLS reports whether f is TLS or QUIC (whose handshake is TLS 1.3).
func isTLS(f *pcap.FlowInfo) bool {
	return strings.HasPrefix(f.Protocol, "tls") || strings.HasPrefix(f.Protocol, "quic")
}

func tlsErrors(sum *pcap.Summary) map[uint64]pcap.TLSError {
	m := map[uint64]pcap.TLSError{}
	for _, t := range sum.TLSErrors {
		m[t.Index] = t
	}
	return m
}

// causeText is what the table says of why a connection was not
// decrypted.
var causeText = map[pcap.TLSCause]string{
	pcap.TLSNoKeyLog:      "no key log given",
	pcap.TLSNoKey:         "no key for this session",
	pcap.TLSKeysMissing:   "TLS 1.3 keys missing",
	pcap.TLSUnsupported:   "unsupported cipher",
	pcap.TLSNoHandshake:   "handshake not captured",
	pcap.TLSDecryptFailed: "wrong key?",
	pcap.TLSEarlyData:     "0-RTT data",
	pcap.TLSDamaged:       "data lost or damaged",
}

// decryptedText is the table's Decrypted cell of a TLS flow: yes, or no
// (partly when some data was decrypted) with the reason in a few words.
func decryptedText(f *pcap.FlowInfo, e pcap.TLSError, failed bool) string {
	if !failed {
		if f.Decrypted {
			return "yes"
		}
		return "no"
	}
	why := causeText[e.Cause]
	if why == "" {
		why = "see flows --format json"
	}
	if f.Decrypted {
		return "partly: " + why
	}
	return "no: " + why
}

func flowsJSON(w io.Writer, sum *pcap.Summary) error {
	errs := tlsErrors(sum)
	out := make([]flowJSON, 0, len(sum.Flows))
	for i := range sum.Flows {
		f := &sum.Flows[i]
		j := flowJSON{
			File: displayPath(f.File), Index: f.Index, Transport: f.Transport, Client: f.Client.String(), Server: f.Server.String(),
			CommunityID: f.CommunityID, Protocol: f.Protocol,
			First: f.First.UTC().Format(time.RFC3339Nano), Last: f.Last.UTC().Format(time.RFC3339Nano),
			BytesToServer: f.BytesToServer, BytesToClient: f.BytesToClient, Datagrams: f.Datagrams, Requests: f.Requests,
			SNI: f.SNI, ALPN: f.ALPN, TLSVersion: f.TLSVersion, CipherSuite: f.CipherSuite,
			Gaps: f.Gaps,
		}
		if e, ok := errs[f.Index]; ok {
			j.TLSError, j.TLSCause = e.Reason, string(e.Cause)
		}
		if isTLS(f) {
			d := f.Decrypted
			j.Decrypted = &d
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func flowsTable(w io.Writer, sum *pcap.Summary) error {
	errs := tlsErrors(sum)
	t := tablewriter.NewWriter(w)
	t.Header("#", "Client", "Server", "Community ID", "Protocol", "To server", "To client", "Requests", "SNI", "ALPN", "Decrypted")
	for i := range sum.Flows {
		f := &sum.Flows[i]
		dec := ""
		if isTLS(f) {
			e, failed := errs[f.Index]
			dec = decryptedText(f, e, failed)
		}
		proto := f.Protocol
		if proto == "" {
			proto = "?"
		}
		if err := t.Append([]string{
			strconv.FormatUint(f.Index+1, 10), f.Client.String(), f.Server.String(), f.CommunityID, proto,
			strconv.FormatInt(f.BytesToServer, 10), strconv.FormatInt(f.BytesToClient, 10),
			strconv.Itoa(f.Requests), f.SNI, f.ALPN, dec,
		}); err != nil {
			return err
		}
	}
	return t.Render()
}
