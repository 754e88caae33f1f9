package enrich

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tracewire/tracewire/har"
)

// TLS plaintext records are what `tracewire collect --tls-uprobes` writes
// in tls_plaintext.jsonl (docs/ebpf-socket-events.md): one JSON object per
// SSL_write, SSL_read, SSL_write_ex or SSL_read_ex call, with the bytes
// the program handed to or got from libssl (base64) and the call's socket:
//
//	{"ts_ns": 1700000000123456789, "event": "SSL_write_ex", "direction": "out",
//	 "ssl": "0x5628bac28690", "local_addr": "127.0.0.1", "local_port": 38116,
//	 "remote_addr": "127.0.0.1", "remote_port": 443, "community_id": "1:…",
//	 "pid": 4242, "tid": 4242, "comm": "python3", "bytes": 177, "captured": 177,
//	 "data": "UE9TVCAv…"}
//
// They are a second source of truth for decrypted bodies: each request
// body decrypted from the capture is looked for in the plaintext the
// client wrote (or the server read) on the same flow, and a body that is
// not there is reported.

// TLSPlaintextName names the source in summaries.
const TLSPlaintextName = "tls plaintext (uprobes)"

// maxTLSPlaintext bounds the plaintext kept for the check; what comes
// after is counted and not checked.
const maxTLSPlaintext = 256 << 20

// maxTLSNotes bounds the disagreements named in the notes.
const maxTLSNotes = 20

// TLSPlaintext is a tls_plaintext.jsonl file, read.
type TLSPlaintext struct {
	Stats ReadStats
	// streams holds, by Community ID, the bytes that went to each
	// endpoint, as one side wrote or the other read them ("addr:port
	// out" or "addr:port in"), in the order of the calls.
	streams map[string]map[string][]byte
	// truncated flows: some call's data was cut or lost.
	truncated map[string]bool
	kept      int
	over      int
}

type tlsPlainRecord struct {
	Event       string `json:"event"`
	Direction   string `json:"direction"`
	LocalAddr   string `json:"local_addr"`
	LocalPort   int    `json:"local_port"`
	RemoteAddr  string `json:"remote_addr"`
	RemotePort  int    `json:"remote_port"`
	CommunityID string `json:"community_id"`
	Bytes       int64  `json:"bytes"`
	Truncated   bool   `json:"truncated"`
	Incomplete  bool   `json:"incomplete"`
	Data        []byte `json:"data"`
}

const (
	skipTLSMalformed = "malformed record"
	skipTLSNoSocket  = "no socket"
	skipTLSOverLimit = "over the plaintext limit"
)

// ReadTLSPlaintext reads TLS plaintext records; name is used in messages.
// Records that cannot be used are skipped and counted.
func ReadTLSPlaintext(r io.Reader, name string) (*TLSPlaintext, error) {
	t := &TLSPlaintext{Stats: ReadStats{File: name}, streams: map[string]map[string][]byte{}, truncated: map[string]bool{}}
	err := readJSONRecords(r, &t.Stats, func(rec int, off int64, d *jsontext.Decoder) error {
		raw, err := d.ReadValue()
		if err != nil {
			return err
		}
		var x tlsPlainRecord
		if err := json.Unmarshal(raw, &x); err != nil {
			return problem(skipTLSMalformed, "%v", err)
		}
		if x.CommunityID == "" || x.LocalPort <= 0 || x.RemotePort <= 0 || x.LocalPort > 65535 || x.RemotePort > 65535 {
			return problem(skipTLSNoSocket, "%s of %d bytes", x.Event, x.Bytes)
		}
		la, err1 := netip.ParseAddr(x.LocalAddr)
		ra, err2 := netip.ParseAddr(x.RemoteAddr)
		if err1 != nil || err2 != nil {
			return problem(skipTLSMalformed, "addresses %q, %q", x.LocalAddr, x.RemoteAddr)
		}
		// The endpoint the data went to.
		to := netip.AddrPortFrom(ra.Unmap(), uint16(x.RemotePort))
		switch x.Direction {
		case "out":
		case "in":
			to = netip.AddrPortFrom(la.Unmap(), uint16(x.LocalPort))
		default:
			return problem(skipTLSMalformed, "direction %q", x.Direction)
		}
		if x.Truncated || x.Incomplete || int64(len(x.Data)) < x.Bytes {
			t.truncated[x.CommunityID] = true
		}
		if t.kept+len(x.Data) > maxTLSPlaintext {
			t.over++
			t.truncated[x.CommunityID] = true
			return problem(skipTLSOverLimit, "%d MiB kept", maxTLSPlaintext>>20)
		}
		m := t.streams[x.CommunityID]
		if m == nil {
			m = map[string][]byte{}
			t.streams[x.CommunityID] = m
		}
		k := to.String() + " " + x.Direction
		m[k] = append(m[k], x.Data...)
		t.kept += len(x.Data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Enricher checks request bodies against the plaintext. It changes no
// entry; its summary counts the bodies found and names those that are not.
func (t *TLSPlaintext) Enricher() Enricher { return &tlsCheck{t: t} }

type tlsCheck struct {
	t                                          *TLSPlaintext
	https, confirmed, noRecords, notComparable int
	mismatches                                 []string
	mismatchN                                  int
}

func (c *tlsCheck) Name() string { return TLSPlaintextName }

func (c *tlsCheck) Enrich(i int, e *har.Entry) error {
	pd := e.Request.PostData
	if pd == nil || pd.Text == "" || !strings.HasPrefix(strings.ToLower(e.Request.URL), "https:") {
		return nil
	}
	body, err := pd.Body()
	if err != nil || len(body) == 0 {
		return nil
	}
	c.https++
	streams := c.t.streams[e.CommunityID]
	if e.CommunityID == "" || streams == nil {
		c.noRecords++
		return nil
	}
	// The plaintext that went to the server: to the endpoint that is not
	// the client's port (HAR connection), or else to the URL's port.
	port, client := "443", false
	if cp, err := strconv.Atoi(e.Connection); err == nil && cp > 0 && cp < 65536 {
		port, client = e.Connection, true
	} else if u, err := url.Parse(e.Request.URL); err == nil && u.Port() != "" {
		port = u.Port()
	}
	var toServer [][]byte
	for to, b := range streams {
		if ap, _, _ := strings.Cut(to, " "); strings.HasSuffix(ap, ":"+port) != client {
			toServer = append(toServer, b)
		}
	}
	if len(toServer) == 0 {
		c.noRecords++
		return nil
	}
	for _, b := range toServer {
		if bytes.Contains(b, body) {
			c.confirmed++
			return nil
		}
	}
	// A body the capture's HTTP layer rebuilt (chunked, compressed, HTTP/2
	// DATA frames) or the plaintext cut short cannot be compared byte for
	// byte.
	te, _ := har.Header(e.Request.Headers, "Transfer-Encoding")
	ce, _ := har.Header(e.Request.Headers, "Content-Encoding")
	if te != "" || ce != "" || strings.HasPrefix(e.Request.HTTPVersion, "HTTP/2") || strings.HasPrefix(e.Request.HTTPVersion, "h2") || c.t.truncated[e.CommunityID] {
		c.notComparable++
		return nil
	}
	c.mismatchN++
	if len(c.mismatches) < maxTLSNotes {
		c.mismatches = append(c.mismatches, fmt.Sprintf("WARNING: entry %d (%s %s, flow %s): the request body decrypted from the capture (%d bytes) is not in the plaintext libssl was given on that flow", i, e.Request.Method, e.Request.URL, e.CommunityID, len(body)))
	}
	return nil
}

func (c *tlsCheck) Report(s *Summary) {
	st := c.t.Stats
	r := &SourceReport{Source: TLSPlaintextName, Read: &st}
	r.add("HTTPS request bodies", c.https)
	r.add("found in the TLS plaintext", c.confirmed)
	r.add("not in the TLS plaintext", c.mismatchN)
	r.add("not comparable (chunked, compressed, HTTP/2 or plaintext cut)", c.notComparable)
	r.add("no TLS plaintext on their flow", c.noRecords)
	r.Notes = append(r.Notes, c.mismatches...)
	if c.mismatchN > len(c.mismatches) {
		r.Notes = append(r.Notes, "… and "+strconv.Itoa(c.mismatchN-len(c.mismatches))+" more request bodies not in the TLS plaintext")
	}
	s.Sources = append(s.Sources, r)
}
