package collect

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/internal/atomicfile"
)

// TLSFile is the name of the TLS plaintext records in the output folder
// (with TLSUprobes).
const TLSFile = "tls_plaintext.jsonl"

// The layout of struct tls_event in bpf/collect.c (TestTLSEventLayout
// checks it against the generated struct).
const (
	tlsOffMono   = 0
	tlsOffSSL    = 8
	tlsOffPid    = 16
	tlsOffTid    = 20
	tlsOffBytes  = 24
	tlsOffOffset = 32
	tlsOffLen    = 36
	tlsOffFn     = 40
	tlsOffLinked = 41
	tlsOffLast   = 42
	tlsOffTuple  = 48
	tlsOffComm   = 88
	tlsOffData   = 104
	// tlsChunk and tlsMaxChunks bound what one call records: its first
	// 64 KiB.
	tlsChunk     = 16384
	tlsMaxChunks = 4
)

// tlsFunctions names the SSL functions by the number the BPF program
// gives them.
var tlsFunctions = map[uint8]string{1: "SSL_write", 2: "SSL_read", 3: "SSL_write_ex", 4: "SSL_read_ex"}

// tlsChunkRec is one ring buffer record: a chunk of one SSL call's data.
type tlsChunkRec struct {
	mono          uint64
	ssl           uint64
	pid, tid      uint32
	bytes         int64
	offset        uint32
	fn            uint8
	linked, last  bool
	local, remote netip.AddrPort
	comm          string
	data          []byte
}

func decodeTLS(b []byte) (tlsChunkRec, error) {
	var c tlsChunkRec
	if len(b) < tlsOffData {
		return c, fmt.Errorf("%w: %d bytes", errShortEvent, len(b))
	}
	le := binary.LittleEndian
	c.mono = le.Uint64(b[tlsOffMono:])
	c.ssl = le.Uint64(b[tlsOffSSL:])
	c.pid = le.Uint32(b[tlsOffPid:])
	c.tid = le.Uint32(b[tlsOffTid:])
	c.bytes = int64(le.Uint64(b[tlsOffBytes:]))
	c.offset = le.Uint32(b[tlsOffOffset:])
	n := int(le.Uint32(b[tlsOffLen:]))
	c.fn = b[tlsOffFn]
	c.linked = b[tlsOffLinked] != 0
	c.last = b[tlsOffLast] != 0
	if n > len(b)-tlsOffData {
		return c, fmt.Errorf("TLS record of pid %d: %d bytes of data in a record of %d", c.pid, n, len(b))
	}
	c.data = b[tlsOffData : tlsOffData+n]
	if c.linked {
		t := b[tlsOffTuple:]
		lp, rp := le.Uint16(t[2:]), le.Uint16(t[4:])
		var la, ra netip.Addr
		switch le.Uint16(t) {
		case afInet:
			la, ra = netip.AddrFrom4([4]byte(t[8:12])), netip.AddrFrom4([4]byte(t[24:28]))
		case afInet6:
			la, ra = netip.AddrFrom16([16]byte(t[8:24])).Unmap(), netip.AddrFrom16([16]byte(t[24:40])).Unmap()
		default:
			c.linked = false
		}
		c.local, c.remote = netip.AddrPortFrom(la, lp), netip.AddrPortFrom(ra, rp)
	}
	comm := b[tlsOffComm : tlsOffComm+16]
	for i, ch := range comm {
		if ch == 0 {
			comm = comm[:i]
			break
		}
	}
	c.comm = string(comm)
	return c, nil
}

// tlsRecord is one line of tls_plaintext.jsonl (docs/ebpf-socket-events.md).
type tlsRecord struct {
	TsNs        int64  `json:"ts_ns"`
	MonoNs      uint64 `json:"mono_ns"`
	Event       string `json:"event"`
	Direction   string `json:"direction"`
	SSL         string `json:"ssl"`
	Protocol    string `json:"protocol,omitempty"`
	LocalAddr   string `json:"local_addr,omitempty"`
	LocalPort   uint16 `json:"local_port,omitempty"`
	RemoteAddr  string `json:"remote_addr,omitempty"`
	RemotePort  uint16 `json:"remote_port,omitempty"`
	CommunityID string `json:"community_id,omitempty"`
	Pid         uint32 `json:"pid"`
	Tid         uint32 `json:"tid"`
	Comm        string `json:"comm"`
	Exe         string `json:"exe,omitempty"`
	Bytes       int64  `json:"bytes"`
	Captured    int    `json:"captured"`
	Truncated   bool   `json:"truncated,omitempty"`
	Incomplete  bool   `json:"incomplete,omitempty"`
	Data        []byte `json:"data"`
}

// tlsStats counts what writeTLS wrote.
type tlsStats struct {
	calls, unlinked, truncated, incomplete int
}

// writeTLS joins the chunks of each SSL call from the raw TLS records and
// writes tls_plaintext.jsonl, one line per call, in the order the calls
// ended.
func writeTLS(raw io.Reader, out string, procs map[uint32]*procInfo, bootNs int64) (tlsStats, error) {
	var st tlsStats
	f, err := atomicfile.Create(out, 0o644)
	if err != nil {
		return st, err
	}
	defer f.Abort()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	type callKey struct {
		tid  uint32
		mono uint64
	}
	open := map[callKey]*tlsRecord{}
	var order []callKey // calls not yet written, by first chunk
	emit := func(r *tlsRecord) error {
		r.Captured = len(r.Data)
		r.Truncated = int64(r.Captured) < r.Bytes && !r.Incomplete
		if r.Truncated {
			st.truncated++
		}
		if r.Incomplete {
			st.incomplete++
		}
		if r.CommunityID == "" {
			st.unlinked++
		}
		st.calls++
		return enc.Encode(r)
	}
	br := bufio.NewReaderSize(raw, 1<<20)
	var hdr [4]byte
	var buf []byte
	for rec := 0; ; rec++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return st, fmt.Errorf("raw TLS records, record %d: %w", rec, err)
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n > 1<<20 {
			return st, fmt.Errorf("raw TLS records, record %d: length %d", rec, n)
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return st, fmt.Errorf("raw TLS records, record %d: %w", rec, err)
		}
		c, err := decodeTLS(buf)
		if err != nil {
			return st, fmt.Errorf("raw TLS records, record %d: %w", rec, err)
		}
		k := callKey{c.tid, c.mono}
		r := open[k]
		if r == nil {
			r = &tlsRecord{
				TsNs: int64(c.mono) + bootNs, MonoNs: c.mono, Event: tlsFunctions[c.fn],
				SSL: "0x" + strconv.FormatUint(c.ssl, 16), Pid: c.pid, Tid: c.tid, Comm: c.comm, Bytes: c.bytes,
				Data: []byte{},
			}
			if r.Event == "" {
				r.Event = "SSL_" + strconv.Itoa(int(c.fn))
			}
			r.Direction = "in"
			if c.fn == 1 || c.fn == 3 {
				r.Direction = "out"
			}
			if p := procs[c.pid]; p != nil {
				r.Exe = p.exe
			}
			if c.linked {
				r.Protocol = "tcp"
				r.LocalAddr, r.LocalPort = c.local.Addr().String(), c.local.Port()
				r.RemoteAddr, r.RemotePort = c.remote.Addr().String(), c.remote.Port()
				r.CommunityID = communityid.Flow{Proto: communityid.ProtoTCP, Src: c.local.Addr(), Dst: c.remote.Addr(), SrcPort: c.local.Port(), DstPort: c.remote.Port()}.ID()
			}
			open[k] = r
			order = append(order, k)
		}
		if int(c.offset) != len(r.Data) {
			// A chunk before this one was lost.
			r.Incomplete = true
		} else {
			r.Data = append(r.Data, c.data...)
		}
		if c.last {
			delete(open, k)
			if err := emit(r); err != nil {
				return st, err
			}
		}
	}
	// Calls whose last chunk never came (lost): what arrived.
	for _, k := range order {
		if r := open[k]; r != nil {
			r.Incomplete = true
			if err := emit(r); err != nil {
				return st, err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return st, err
	}
	return st, f.Commit()
}
