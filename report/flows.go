package report

import (
	"io"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/olekukonko/tablewriter"

	"github.com/tracewire/tracewire/pcap"
)

// FlowJSON is the JSON form of a flow (flows --format json); field names follow the HAR
// extensions' style.
type FlowJSON struct {
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

// WriteFlowsJSON writes the flows of a conversion made with ListFlows as
// a JSON array (tracewire flows --format json); name gives the file name
// shown for a capture path.
func WriteFlowsJSON(w io.Writer, sum *pcap.Summary, name func(string) string) error {
	errs := tlsErrors(sum)
	out := make([]FlowJSON, 0, len(sum.Flows))
	for i := range sum.Flows {
		f := &sum.Flows[i]
		j := FlowJSON{
			File: name(f.File), Index: f.Index, Transport: f.Transport, Client: f.Client.String(), Server: f.Server.String(),
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

// WriteFlowsTable writes the flows of a conversion made with ListFlows as
// a table (tracewire flows).
func WriteFlowsTable(w io.Writer, sum *pcap.Summary) error {
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
