// Package capture reads packet capture files: classic pcap (microsecond and
// nanosecond, both byte orders) and pcapng (every section and interface,
// if_tsresol and if_tsoffset, enhanced, simple and obsolete packet blocks,
// packet comments, Decryption Secrets Blocks), plain or gzipped. It only
// reads; decoding the packets is package decode's job.
//
// The pcapng reader is our own rather than gopacket's pcapgo because pcapgo
// drops Decryption Secrets Blocks and packet comments, both of which carry
// evidence (TLS keys; process information written by eBPF capture tools).
package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tracewire/tracewire/internal/filekind"
)

// Packet is one captured packet.
type Packet struct {
	// Data is the captured bytes; valid until the next call to Next.
	Data []byte
	// OrigLen is the packet's length on the wire (Data may be shorter when
	// the snap length cut it).
	OrigLen int
	// Time is the capture timestamp with the file's full resolution. Simple
	// Packet Blocks carry no timestamp: their Time is the zero time.Time
	// (Wireshark shows no time for them either).
	Time time.Time
	// LinkType is the link-layer header type (LINKTYPE_* number) of the
	// packet's interface.
	LinkType uint16
	// Interface is the index of the interface in its pcapng section (0 for
	// pcap).
	Interface int
	// Frame is the packet's 1-based number in the file, as Wireshark counts.
	Frame uint64
	// Comments are the packet's opt_comment options (pcapng).
	Comments []string
	// Section is the 0-based index of the packet's pcapng section (0 for
	// pcap); Interface numbers restart in each section.
	Section int
}

// Warning is a problem the reader worked around (a truncated last block, an
// unknown block type), with where it happened.
type Warning struct {
	File string
	// Offset is the byte offset in the (decompressed) capture stream where
	// the problem starts.
	Offset int64
	// Frame is the number of the last packet read before the problem.
	Frame uint64
	Msg   string
	// Stop marks the warning at which reading stopped before the end of
	// the file (truncated or corrupt): the rest of the file is not read.
	Stop bool
}

func (w Warning) String() string {
	return fmt.Sprintf("%s: offset %d, after frame %d: %s", w.File, w.Offset, w.Frame, w.Msg)
}

// ErrNotCapture is returned for files that are neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// Limits that keep a corrupt length field from costing memory.
const (
	// maxBlock bounds a pcapng block and a pcap record. Real packets are at
	// most 256 KiB (Wireshark's limit for most link types); a few link
	// types allow more, so the bound is generous, and memory is only spent
	// as data actually arrives (see readN).
	maxBlock = 256 << 20
	// maxSaneCaplen is the largest caplen a classic pcap record may have
	// when the file's snaplen is smaller (Wireshark's
	// WTAP_MAX_PACKET_SIZE_STANDARD).
	maxSaneCaplen = 262144
	bufSize       = 1 << 20
)

type format uint8

const (
	formatPcap format = iota + 1
	formatPcapng
)

// Reader reads packets from one file.
type Reader struct {
	path   string
	f      *os.File  // the file Open opened, closed by Close
	closer io.Closer // decompressor, if any
	br     *bufio.Reader
	// size is the file's size when it is not compressed (for sanity checks
	// of length fields), else -1.
	size   int64
	offset int64
	format format

	// pcap
	order      byteOrder
	nano       bool
	modified   bool // Kuznetsov's modified pcap: 8 more bytes per record
	snaplen    uint32
	warnedSnap bool
	pcapLink   uint16
	recordHead [24]byte

	// pcapng
	section int
	sawSHB  bool
	ifaces  []iface

	frame    uint64
	pkt      Packet
	buf      []byte
	warnings []Warning
	done     bool
	// secretsOnly makes the pcapng walker skip packet bodies and keep DSBs.
	secretsOnly bool
	secrets     [][]byte
}

type iface struct {
	linkType uint16
	snaplen  uint32
	// unitsPerSec is the timestamp resolution (10^n or 2^n per second).
	unitsPerSec uint64
	offsetSec   int64
}

// Open opens a capture file; gzip (and zstd) is detected from the content.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	r, err := newReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.f = f
	return r, nil
}

// NewReader reads a capture from rd (plain or compressed); name is used in
// warnings and errors. Close does not close rd. When rd is an *os.File or
// has a Size method, length fields are checked against the size.
func NewReader(name string, rd io.Reader) (*Reader, error) {
	return newReader(name, rd)
}

func newReader(path string, rd io.Reader) (*Reader, error) {
	r := &Reader{path: path, size: -1}
	switch f := rd.(type) {
	case *os.File:
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			r.size = st.Size()
		}
	case interface{ Size() int64 }: // bytes.Reader, strings.Reader
		r.size = f.Size()
	}
	size := bufSize
	if r.size >= 0 && r.size < bufSize {
		size = max(int(r.size), 4096) // small files need no big buffer
	}
	br := bufio.NewReaderSize(rd, size)
	magic, _ := br.Peek(4)
	// What the file looks like, for the error when it is no capture.
	looks := func() string {
		head, _ := br.Peek(filekind.HeadSize)
		return filekind.Sniff(head).String()
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip header: %w", path, err)
		}
		r.closer = zr
		r.size = -1
		br = bufio.NewReaderSize(zr, bufSize)
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			return nil, fmt.Errorf("%s: zstd header: %w", path, err)
		}
		r.closer = closerFunc(func() error { zr.Close(); return nil })
		r.size = -1
		br = bufio.NewReaderSize(zr, bufSize)
	}
	r.br = br
	head, err := br.Peek(4)
	if len(head) < 4 {
		if err == nil || err == io.EOF {
			// An empty file (Wireshark: "the file is empty") reads as no packets.
			if len(head) == 0 {
				r.format = formatPcap
				r.done = true
				r.warn("empty file")
				return r, nil
			}
			return nil, fmt.Errorf("%s: %w (only %d bytes)", path, ErrNotCapture, len(head))
		}
		return nil, fmt.Errorf("%s: read header: %w", path, err)
	}
	switch {
	case bytes.Equal(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		r.format = formatPcapng
		// The first block must be a Section Header Block; Next reads it.
	case !filekind.Sniff(head).Capture():
		what := looks()
		if r.closer != nil {
			what = "compressed, and its content is " + what
		}
		return nil, fmt.Errorf("%s: %w: it is %s", path, ErrNotCapture, what)
	default:
		if err := r.readPcapHeader(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// maxWarnings bounds a reader's warnings: a hostile file must not grow
// the list without limit.
const maxWarnings = 1000

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// Next returns the next packet, or io.EOF. A truncated or corrupt file ends
// with io.EOF too, after a Warning; Next never panics on bad input. The
// returned Packet and its Data are reused by the next call (Comments are
// fresh for each packet that has any).
func (r *Reader) Next() (*Packet, error) {
	if r.done {
		return nil, io.EOF
	}
	var ok bool
	warned := len(r.warnings)
	if r.format == formatPcap {
		ok = r.nextPcap()
	} else {
		ok = r.nextPcapng()
	}
	if !ok {
		r.done = true
		switch {
		case len(r.warnings) > warned:
			r.warnings[len(r.warnings)-1].Stop = true
		case warned >= maxWarnings:
			// The list is full, and reading may have stopped on damage:
			// whether it did is not known, so it is said.
			r.warnings = append(r.warnings, Warning{File: r.path, Offset: r.offset, Frame: r.frame, Stop: true,
				Msg: fmt.Sprintf("more than %d warnings; reading ended here, maybe at damage", maxWarnings)})
		}
		return nil, io.EOF
	}
	return &r.pkt, nil
}

// Frames returns the number of records read so far as Wireshark numbers
// them: the packets plus the pcapng custom and systemd journal blocks,
// which Wireshark shows as frames and Next skips.
func (r *Reader) Frames() uint64 { return r.frame }

// Warnings returns the problems met so far.
func (r *Reader) Warnings() []Warning { return r.warnings }

// Close closes the file.
func (r *Reader) Close() error {
	var err error
	if r.closer != nil {
		err = r.closer.Close()
	}
	if r.f != nil {
		if e := r.f.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Secrets returns the TLS key logs of every Decryption Secrets Block in a
// pcapng file, in file order, without decoding the packets; for pcap files
// it returns nil. The converter reads them before the packets because a DSB
// may come after the packets it decrypts. A file cut short yields the
// secrets before the cut (Next reports the cut as a warning).
func Secrets(path string) ([][]byte, error) {
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.allSecrets(), nil
}

// allSecrets walks the rest of a pcapng stream for its DSBs.
func (r *Reader) allSecrets() [][]byte {
	if r.format != formatPcapng {
		return nil
	}
	r.secretsOnly = true
	for r.nextPcapng() {
	}
	return r.secrets
}

func (r *Reader) warn(format string, args ...any) {
	// Bound the list: a hostile file must not grow it without limit.
	if len(r.warnings) >= maxWarnings {
		return
	}
	r.warnings = append(r.warnings, Warning{File: r.path, Offset: r.offset, Frame: r.frame, Msg: fmt.Sprintf(format, args...)})
}

// peek returns the next n bytes without consuming them; the slice is valid
// until the next read. It returns fewer bytes at the end of the data.
func (r *Reader) peek(n int) ([]byte, error) {
	return r.br.Peek(n)
}

func (r *Reader) skip(n int) error {
	m, err := r.br.Discard(n)
	r.offset += int64(m)
	return err
}

// readN reads exactly n bytes. Data that fits the bufio buffer is returned
// in place (no copy); larger data is copied into r.buf, which grows only as
// data actually arrives, so a lying length field in a short file costs no
// memory. The slice is valid until the next read.
func (r *Reader) readN(n int) ([]byte, error) {
	if n <= r.br.Size() {
		b, err := r.br.Peek(n)
		if err != nil {
			if err == io.EOF || len(b) < n {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		r.br.Discard(n)
		r.offset += int64(n)
		return b, nil
	}
	r.buf = r.buf[:0]
	for len(r.buf) < n {
		chunk := min(n-len(r.buf), 4<<20)
		if cap(r.buf)-len(r.buf) < chunk {
			nb := make([]byte, len(r.buf), len(r.buf)+max(chunk, len(r.buf)))
			copy(nb, r.buf)
			r.buf = nb
		}
		m, err := io.ReadFull(r.br, r.buf[len(r.buf):len(r.buf)+chunk])
		r.buf = r.buf[:len(r.buf)+m]
		r.offset += int64(m)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return r.buf, nil
}

// fits reports whether n more bytes can be present in the file (always
// true for compressed streams, whose size is unknown).
func (r *Reader) fits(n int64) bool {
	return r.size < 0 || r.offset+n <= r.size
}
