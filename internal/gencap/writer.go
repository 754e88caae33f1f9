package gencap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Format is the file format written.
type Format int

const (
	PCAP   Format = iota // classic pcap, microsecond timestamps
	PCAPNG               // pcapng, nanosecond timestamps, packet comments
)

// FormatOf picks the format from a file name: .pcapng is PCAPNG, anything
// else PCAP.
func FormatOf(name string) Format {
	if len(name) >= 7 && name[len(name)-7:] == ".pcapng" {
		return PCAPNG
	}
	return PCAP
}

// fileWriter writes Ethernet/IPv4/TCP packets to a pcap or pcapng stream.
type fileWriter struct {
	w      *bufio.Writer
	format Format
	n      int64 // bytes written
	buf    []byte
	ipID   uint16
	// tunnel, when set, encapsulates every packet (see Tunnel).
	tunnel Tunnel
}

func newFileWriter(w io.Writer, f Format) (*fileWriter, error) {
	fw := &fileWriter{w: bufio.NewWriterSize(w, 1<<20), format: f}
	var err error
	if f == PCAPNG {
		err = fw.pcapngHeader()
	} else {
		err = fw.pcapHeader()
	}
	return fw, err
}

func (fw *fileWriter) write(b []byte) error {
	n, err := fw.w.Write(b)
	fw.n += int64(n)
	return err
}

const snaplen = 262144

func (fw *fileWriter) pcapHeader() error {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], 1) // Ethernet
	return fw.write(h[:])
}

func (fw *fileWriter) pcapngHeader() error {
	// Section Header Block with a shb_userappl option.
	var opts []byte
	opts = appendOpt(opts, 4, []byte("tracewire gencap"))
	opts = appendOpt(opts, 0, nil)
	shb := make([]byte, 0, 28+len(opts))
	shb = le32(shb, 0x0a0d0d0a)
	shb = le32(shb, uint32(28+len(opts)))
	shb = le32(shb, 0x1a2b3c4d)
	shb = le16(shb, 1)
	shb = le16(shb, 0)
	shb = le32(shb, 0xffffffff) // section length unknown
	shb = le32(shb, 0xffffffff)
	shb = append(shb, opts...)
	shb = le32(shb, uint32(28+len(opts)))
	if err := fw.write(shb); err != nil {
		return err
	}
	// Interface Description Block: Ethernet, nanosecond resolution.
	opts = appendOpt(nil, 9, []byte{9})
	opts = appendOpt(opts, 0, nil)
	idb := make([]byte, 0, 20+len(opts))
	idb = le32(idb, 1)
	idb = le32(idb, uint32(20+len(opts)))
	idb = le16(idb, 1)
	idb = le16(idb, 0)
	idb = le32(idb, snaplen)
	idb = append(idb, opts...)
	idb = le32(idb, uint32(20+len(opts)))
	return fw.write(idb)
}

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

func appendOpt(b []byte, code uint16, val []byte) []byte {
	b = le16(b, code)
	b = le16(b, uint16(len(val)))
	b = append(b, val...)
	for i := len(val); i%4 != 0; i++ {
		b = append(b, 0)
	}
	return b
}

// segment is one TCP segment to write.
type segment struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	payload  []byte
	at       time.Time
	comment  string
}

const (
	flFIN = 0x01
	flSYN = 0x02
	flRST = 0x04
	flPSH = 0x08
	flACK = 0x10
)

var (
	macClient = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macRouter = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0xfe}
)

// packet writes s as an Ethernet/IPv4/TCP frame.
func (fw *fileWriter) packet(s *segment) error {
	if !s.src.Addr().Is4() || !s.dst.Addr().Is4() {
		return fmt.Errorf("gencap: only IPv4 is generated (%v→%v)", s.src, s.dst)
	}
	frame := fw.buf[:0]
	if s.src.Addr().As4()[0] == 10 {
		frame = append(frame, macRouter...)
		frame = append(frame, macClient...)
	} else {
		frame = append(frame, macClient...)
		frame = append(frame, macRouter...)
	}
	frame = append(frame, 0x08, 0x00)
	ip := len(frame)
	total := 20 + 20 + len(s.payload)
	fw.ipID++
	frame = append(frame,
		0x45, 0, byte(total>>8), byte(total), byte(fw.ipID>>8), byte(fw.ipID), 0x40, 0,
		64, 6, 0, 0)
	sa, da := s.src.Addr().As4(), s.dst.Addr().As4()
	frame = append(frame, sa[:]...)
	frame = append(frame, da[:]...)
	binary.BigEndian.PutUint16(frame[ip+10:], checksum(frame[ip:ip+20], 0))
	tcp := len(frame)
	frame = binary.BigEndian.AppendUint16(frame, s.src.Port())
	frame = binary.BigEndian.AppendUint16(frame, s.dst.Port())
	frame = binary.BigEndian.AppendUint32(frame, s.seq)
	frame = binary.BigEndian.AppendUint32(frame, s.ack)
	frame = append(frame, 5<<4, s.flags, 0xff, 0xff, 0, 0, 0, 0)
	frame = append(frame, s.payload...)
	// TCP checksum over the pseudo-header, header and payload.
	var pseudo uint32
	pseudo += uint32(sa[0])<<8 | uint32(sa[1])
	pseudo += uint32(sa[2])<<8 | uint32(sa[3])
	pseudo += uint32(da[0])<<8 | uint32(da[1])
	pseudo += uint32(da[2])<<8 | uint32(da[3])
	pseudo += 6 + uint32(len(frame)-tcp)
	binary.BigEndian.PutUint16(frame[tcp+16:], checksum(frame[tcp:], pseudo))
	fw.buf = frame
	if fw.tunnel != NoTunnel {
		for _, f := range fw.encapsulate(frame) {
			if err := fw.frame(f, s.at, s.comment); err != nil {
				return err
			}
		}
		return nil
	}
	return fw.frame(frame, s.at, s.comment)
}

// frame writes one link-layer frame.
func (fw *fileWriter) frame(frame []byte, at time.Time, comment string) error {
	if fw.format == PCAPNG {
		return fw.epb(frame, at, comment)
	}
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(at.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(at.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	if err := fw.write(h[:]); err != nil {
		return err
	}
	return fw.write(frame)
}

func (fw *fileWriter) epb(frame []byte, at time.Time, comment string) error {
	var opts []byte
	if comment != "" {
		opts = appendOpt(opts, 1, []byte(comment))
		opts = appendOpt(opts, 0, nil)
	}
	pad := (4 - len(frame)%4) % 4
	size := 32 + len(frame) + pad + len(opts)
	ts := uint64(at.UnixNano())
	h := make([]byte, 0, 28)
	h = le32(h, 6)
	h = le32(h, uint32(size))
	h = le32(h, 0)
	h = le32(h, uint32(ts>>32))
	h = le32(h, uint32(ts))
	h = le32(h, uint32(len(frame)))
	h = le32(h, uint32(len(frame)))
	if err := fw.write(h); err != nil {
		return err
	}
	if err := fw.write(frame); err != nil {
		return err
	}
	tail := make([]byte, pad, pad+len(opts)+4)
	tail = append(tail, opts...)
	tail = le32(tail, uint32(size))
	return fw.write(tail)
}

func checksum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func (fw *fileWriter) flush() error { return fw.w.Flush() }
