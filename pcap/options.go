package pcap

import (
	"fmt"
	"net/netip"
	"time"
)

// DefaultFlowBudget is the default of Options.FlowBudget.
const DefaultFlowBudget = 256 << 20

// Options configure a conversion. The zero value converts cleartext traffic
// with the default limits.
type Options struct {
	// KeyLogFiles are NSS key log files (SSLKEYLOGFILE format). Their
	// secrets and those of every Decryption Secrets Block in the inputs are
	// used together, for all inputs.
	KeyLogFiles []string
	// RSAKeyFiles are PEM RSA server private keys, for TLS 1.2 sessions
	// with RSA key exchange.
	RSAKeyFiles []string
	// CommunityIDSeed is the seed of the flows' Community IDs (default 0).
	CommunityIDSeed uint16
	// IdleTimeout ends connections with no packet for this long, in capture
	// time (default 5 minutes). Long enough for keep-alive connections,
	// short enough that a capture of many connections stays small in
	// memory.
	IdleTimeout time.Duration
	// MaxBodySize is the number of body bytes kept per HTTP message
	// (default 64 MiB); the rest is counted and the entry marked.
	MaxBodySize int64
	// MaxDecodedSize caps a body after content decoding (default 256 MiB),
	// against decompression bombs.
	MaxDecodedSize int64
	// MemoryBudget is how many bytes of entries are held in memory for
	// sorting before they are spooled to a temporary file (default 32
	// MiB).
	MemoryBudget int64
	// FlowBudget bounds the memory held by the open connections of a
	// capture (default DefaultFlowBudget; negative: no bound): a few KB
	// each, plus the bytes they buffer (out-of-order data, messages not
	// yet complete). Once it is exceeded, the connections idle the longest
	// are ended early, as if idle: their unfinished exchanges become
	// entries marked incomplete, and a warning counts them.
	FlowBudget int64
	// Names maps an input's path to the name it goes by in the summary,
	// warnings, errors and HAR (a temporary copy of standard input is
	// "-", as given); an input not in it goes by its path.
	Names map[string]string
	// TempDir is where the spool file goes (default os.TempDir()).
	TempDir string
	// ListFlows fills Summary.Flows with every TCP connection and UDP
	// flow.
	ListFlows bool
	// Progress, when set, is called now and then while packets are read
	// and once at the end of each input.
	Progress func(Progress)
}

// Progress reports how far a conversion has got.
type Progress struct {
	// File is the input being read, the FileIndex-th (0-based) of Files.
	File             string
	FileIndex, Files int
	// Offset is how many bytes of the file have been read, of Size (for
	// a compressed file, bytes of the compressed file).
	Offset, Size int64
	// Packets read from this file so far; Entries found in all inputs.
	Packets uint64
	Entries int
	// Done is set on the last report for a file.
	Done bool
}

// Summary describes a conversion.
type Summary struct {
	Files []FileSummary
	// Packets and DecodeErrors summed over the files.
	Packets, DecodeErrors uint64
	// Entries is the number of HAR entries found.
	Entries int
	// Conns is the number of TCP connections, UDPFlows of UDP flows.
	Conns, UDPFlows int
	// Flows lists the TCP connections and UDP flows in the order their
	// first packet appears (only with Options.ListFlows).
	Flows []FlowInfo
	// TLSErrors lists the TLS connections that could not be decrypted, one
	// per connection, in the order of their first packet.
	TLSErrors []TLSError
	// Notes are what the parsers reported about single flows (parse
	// errors, gaps), in capture order; at most maxNotes are kept and
	// NotesDropped counts the others.
	Notes        []Note
	NotesDropped int
	// Warnings are problems with the inputs (truncated files, undecodable
	// packets).
	Warnings []Warning
}

// FileSummary describes one input.
type FileSummary struct {
	Path string
	// Packets read, DecodeErrors among them (malformed headers), and
	// UnsupportedLink among them of a link type the decoder does not know
	// (not analysed; a warning says which).
	Packets, DecodeErrors, UnsupportedLink uint64
	Conns, Entries                         int
}

// FlowInfo describes one TCP connection or UDP flow.
type FlowInfo struct {
	File string
	// Transport is "tcp" or "udp".
	Transport string
	// Index numbers the connections of all inputs in the order of their
	// first packet.
	Index       uint64
	Client      netip.AddrPort
	Server      netip.AddrPort
	CommunityID string
	// Protocol is what was recognised: "http/1", "h2c", "tls", "tls→http/1",
	// "tls→h2", ..., or "" when unknown; for UDP "quic", "quic→h3", or
	// "udp/" and the service of a well-known port ("udp/dns", "udp/ntp"),
	// "udp" for others.
	Protocol    string
	First, Last time.Time
	// BytesToServer and BytesToClient count the payload reassembled in
	// each direction.
	BytesToServer, BytesToClient int64
	// Datagrams counts a UDP flow's datagrams (both directions; a DNS
	// message is one datagram).
	Datagrams int
	// Requests is the number of HAR entries found in the connection.
	Requests int
	// SNI, ALPN, TLSVersion, CipherSuite and Decrypted describe a TLS
	// connection.
	SNI, ALPN, TLSVersion, CipherSuite string
	Decrypted                          bool
	// Gaps counts holes in the reassembled data.
	Gaps int
}

// TLSError is a TLS connection (or QUIC connection) that could not be
// decrypted.
type TLSError struct {
	File           string
	Index          uint64
	CommunityID    string
	Client, Server netip.AddrPort
	SNI            string
	// Time is the capture time of the connection's first packet.
	Time   time.Time
	Reason string
	// Cause is Reason in a word, for tables.
	Cause TLSCause
}

// TLSCause says in a word why a TLS (or QUIC) connection was not
// decrypted.
type TLSCause string

// TLS causes.
const (
	// TLSNoKeyLog: no TLS secrets at all, neither in a key log file nor in
	// the capture (pcapng Decryption Secrets Blocks), and no RSA key.
	TLSNoKeyLog TLSCause = "no-keylog"
	// TLSNoKey: secrets were given, but none for this connection.
	TLSNoKey TLSCause = "no-key"
	// TLSKeysMissing: some of a TLS 1.3 connection's secrets are given,
	// some missing (a key log written partly, or by a library that logs
	// only some labels).
	TLSKeysMissing TLSCause = "tls13-keys-missing"
	// TLSUnsupported: a cipher suite or compression tracewire does not
	// decrypt.
	TLSUnsupported TLSCause = "unsupported-cipher"
	// TLSNoHandshake: the handshake is not in the capture (it started
	// before the capture did), so the connection cannot be matched to
	// its secrets.
	TLSNoHandshake TLSCause = "no-handshake"
	// TLSDecryptFailed: records did not decrypt with the secrets given
	// (a wrong key).
	TLSDecryptFailed TLSCause = "decrypt-failed"
	// TLSEarlyData: 0-RTT early data was not decrypted.
	TLSEarlyData TLSCause = "early-data"
	// TLSDamaged: data lost in the capture, or not TLS records.
	TLSDamaged TLSCause = "damaged"
	// TLSOther: another reason; Reason says which.
	TLSOther TLSCause = "other"
)

// tlsCause is the TLSCause of a parser's note cause; noSecrets is true
// when no secret or key was given at all.
func tlsCause(cause string, noSecrets bool) TLSCause {
	switch cause {
	case "key", "key13":
		if noSecrets {
			return TLSNoKeyLog
		}
		if cause == "key13" {
			return TLSKeysMissing
		}
		return TLSNoKey
	case "suite":
		return TLSUnsupported
	case "handshake":
		return TLSNoHandshake
	case "decrypt":
		return TLSDecryptFailed
	case "early":
		return TLSEarlyData
	case "gap", "framing", "limit", "damaged":
		return TLSDamaged
	}
	return TLSOther
}

// Note is something a parser reported about one flow.
type Note struct {
	File           string
	Index          uint64
	CommunityID    string
	Client, Server netip.AddrPort
	Time           time.Time
	// Kind is "http" (could not parse), "gap" (data lost), "tls" or
	// "internal" (a parser failed on this flow; a bug).
	Kind   string
	Reason string
}

func (n Note) String() string {
	return fmt.Sprintf("%s: flow %s→%s (%s) at %s: %s: %s", n.File, n.Client, n.Server, n.CommunityID,
		n.Time.UTC().Format(time.RFC3339Nano), n.Kind, n.Reason)
}

// Warning is a problem with an input file.
type Warning struct {
	File string
	// Frame is the packet the problem is at (or after), 0 when it concerns
	// the whole file.
	Frame   uint64
	Message string
	// Truncated marks where reading stopped before the file's end (cut
	// short or corrupt): what follows Frame was not analysed.
	Truncated bool
}

func (w Warning) String() string {
	if w.Frame > 0 {
		return fmt.Sprintf("%s: frame %d: %s", w.File, w.Frame, w.Message)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Message)
}
