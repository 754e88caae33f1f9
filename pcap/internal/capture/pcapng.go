package capture

import (
	"encoding/binary"
	"io"
	"math/bits"
	"time"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	blockSHB       = 0x0A0D0D0A
	blockIDB       = 0x00000001
	blockPB        = 0x00000002 // obsolete Packet Block
	blockSPB       = 0x00000003
	blockNRB       = 0x00000004
	blockISB       = 0x00000005
	blockEPB       = 0x00000006
	blockJournal   = 0x00000009 // systemd journal export
	blockDSB       = 0x0000000A
	blockCustom    = 0x00000BAD
	blockCustomNoC = 0x40000BAD
)

// SecretsTLSKeyLog is the DSB secrets type of an NSS key log.
const SecretsTLSKeyLog = 0x544c534b

// Option codes used here.
const (
	optEnd      = 0
	optComment  = 1
	ifTSResol   = 9
	ifTSOffset  = 14
	shbMagicLE  = 0x1A2B3C4D
	defaultUnit = 1_000_000
)

// nextPcapng reads blocks until it has a packet to return (or, in
// secretsOnly mode, until the end). It returns false at the end of the data
// or at damage it cannot step over, after a warning.
func (r *Reader) nextPcapng() bool {
	for {
		h, err := r.peek(12)
		if len(h) < 12 {
			switch {
			case len(h) > 0:
				r.warn("file ends inside a block header (%d bytes left)", len(h))
			case err != nil && err != io.EOF:
				r.warn("read error: %v", err)
			}
			return false
		}
		typ := r.order.u32(h)
		if typ == blockSHB {
			switch binary.LittleEndian.Uint32(h[8:]) {
			case shbMagicLE:
				r.order = littleEndian
			case 0x4D3C2B1A:
				r.order = bigEndian
			default:
				r.warn("section header block with bad byte-order magic %x: file corrupt, stopping", h[8:12])
				return false
			}
		} else if !r.sawSHB {
			r.warn("pcapng file does not start with a section header block")
			return false
		}
		length := r.order.u32(h[4:])
		if length < 12 || length%4 != 0 || length > maxBlock {
			r.warn("block type %#x has invalid length %d: file corrupt, stopping", typ, length)
			return false
		}
		if !r.fits(int64(length)) {
			r.warn("file ends inside a block of type %#x (%d bytes, %d left)", typ, length, r.size-r.offset)
			return false
		}
		isPacket := typ == blockEPB || typ == blockSPB || typ == blockPB
		switch {
		case typ == blockJournal, typ == blockCustom, typ == blockCustomNoC:
			// Wireshark shows these as frames of their own; counting them
			// keeps our frame numbers equal to Wireshark's.
			r.frame++
			fallthrough
		case isPacket && r.secretsOnly, typ == blockNRB, typ == blockISB, typ == blockDSB && !r.secretsOnly:
			start := r.offset
			if err := r.skip(int(length)); err != nil {
				r.offset = start
				r.warn("file ends inside a block of type %#x (%d bytes)", typ, length)
				return false
			}
			continue
		}
		start := r.offset
		b, err := r.readN(int(length))
		if err != nil {
			r.offset = start
			r.warn("file ends inside a block of type %#x (%d bytes): %v", typ, length, err)
			return false
		}
		if trail := r.order.u32(b[length-4:]); trail != length {
			// The two lengths disagree: the block boundary is unknown.
			r.offset = start
			r.warn("block type %#x: leading length %d and trailing length %d differ: file corrupt, stopping", typ, length, trail)
			return false
		}
		body := b[8 : length-4]
		switch typ {
		case blockSHB:
			if !r.readSHB(body, start) {
				return false
			}
		case blockIDB:
			r.readIDB(body, start)
		case blockEPB, blockPB:
			if r.readPacketBlock(typ, body, start) {
				return true
			}
		case blockSPB:
			if r.readSPB(body, start) {
				return true
			}
		case blockDSB:
			r.readDSB(body, start)
		default:
			// Unknown or vendor blocks are skipped, as Wireshark does.
		}
	}
}

func (r *Reader) warnAt(off int64, format string, args ...any) {
	saved := r.offset
	r.offset = off
	r.warn(format, args...)
	r.offset = saved
}

func (r *Reader) readSHB(body []byte, start int64) bool {
	if len(body) < 16 {
		r.warnAt(start, "section header block too short (%d bytes): stopping", len(body))
		return false
	}
	if major := r.order.u16(body[4:]); major != 1 {
		r.warnAt(start, "unsupported pcapng version %d.%d: stopping", major, r.order.u16(body[6:]))
		return false
	}
	if r.sawSHB {
		r.section++
	}
	r.sawSHB = true
	r.ifaces = r.ifaces[:0]
	return true
}

func (r *Reader) readIDB(body []byte, start int64) {
	if len(body) < 8 {
		r.warnAt(start, "interface description block too short (%d bytes), ignored", len(body))
		// Keep interface numbering aligned with the file's.
		r.ifaces = append(r.ifaces, iface{unitsPerSec: defaultUnit})
		return
	}
	ifc := iface{
		linkType:    r.order.u16(body),
		snaplen:     r.order.u32(body[4:]),
		unitsPerSec: defaultUnit,
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code, n := r.order.u16(opts), int(r.order.u16(opts[2:]))
		if code == optEnd || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == ifTSResol && n >= 1:
			exp := v[0] & 0x7f
			if v[0]&0x80 != 0 {
				if exp <= 63 {
					ifc.unitsPerSec = 1 << exp
				} else {
					r.warnAt(start, "interface %d: unsupported if_tsresol %#x, using microseconds", len(r.ifaces), v[0])
				}
			} else if exp <= 19 {
				u := uint64(1)
				for range exp {
					u *= 10
				}
				ifc.unitsPerSec = u
			} else {
				r.warnAt(start, "interface %d: unsupported if_tsresol %#x, using microseconds", len(r.ifaces), v[0])
			}
		case code == ifTSOffset && n >= 8:
			ifc.offsetSec = int64(r.order.u64(v))
		}
		opts = opts[4+(n+3)&^3:]
	}
	if len(r.ifaces) >= 1<<16 {
		r.warnAt(start, "more than 65536 interfaces in one section; ignoring the rest")
		return
	}
	r.ifaces = append(r.ifaces, ifc)
}

// timestamp converts a pcapng timestamp in ifc's units to a time.
func (ifc *iface) timestamp(ts uint64) time.Time {
	u := ifc.unitsPerSec
	sec, rem := ts/u, ts%u
	var ns uint64
	switch u {
	case 1_000_000:
		ns = rem * 1000
	case 1_000_000_000:
		ns = rem
	default:
		hi, lo := bits.Mul64(rem, 1e9)
		ns, _ = bits.Div64(hi, lo, u) // hi < u because rem < u
	}
	return time.Unix(int64(sec)+ifc.offsetSec, int64(ns))
}

// readPacketBlock decodes an Enhanced Packet Block or an obsolete Packet
// Block into r.pkt.
func (r *Reader) readPacketBlock(typ uint32, body []byte, start int64) bool {
	if len(body) < 20 {
		r.warnAt(start, "packet block too short (%d bytes), skipped", len(body))
		return false
	}
	var ifID uint32
	if typ == blockEPB {
		ifID = r.order.u32(body)
	} else {
		ifID = uint32(r.order.u16(body))
	}
	if int(ifID) >= len(r.ifaces) {
		r.warnAt(start, "packet block for interface %d, but the section has %d interfaces; skipped", ifID, len(r.ifaces))
		return false
	}
	caplen := r.order.u32(body[12:])
	origlen := r.order.u32(body[16:])
	if uint64(caplen) > uint64(len(body)-20) {
		r.warnAt(start, "packet block claims %d captured bytes but holds %d; skipped", caplen, len(body)-20)
		return false
	}
	ifc := &r.ifaces[ifID]
	ts := uint64(r.order.u32(body[4:]))<<32 | uint64(r.order.u32(body[8:]))
	r.frame++
	r.pkt = Packet{
		Data:      body[20 : 20+caplen],
		OrigLen:   int(origlen),
		Time:      ifc.timestamp(ts),
		LinkType:  ifc.linkType,
		Interface: int(ifID),
		Frame:     r.frame,
		Section:   r.section,
	}
	if opts := body[min(20+(int(caplen)+3)&^3, len(body)):]; len(opts) >= 4 {
		r.pkt.Comments = r.comments(opts)
	}
	return true
}

// comments returns the opt_comment options, allocating only when present.
func (r *Reader) comments(opts []byte) []string {
	var out []string
	for len(opts) >= 4 {
		code, n := r.order.u16(opts), int(r.order.u16(opts[2:]))
		if code == optEnd || 4+n > len(opts) {
			break
		}
		if code == optComment {
			out = append(out, string(opts[4:4+n]))
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	return out
}

func (r *Reader) readSPB(body []byte, start int64) bool {
	if len(body) < 4 {
		r.warnAt(start, "simple packet block too short (%d bytes), skipped", len(body))
		return false
	}
	if len(r.ifaces) == 0 {
		r.warnAt(start, "simple packet block before any interface description; skipped")
		return false
	}
	ifc := &r.ifaces[0]
	origlen := r.order.u32(body)
	caplen := uint64(len(body) - 4)
	caplen = min(caplen, uint64(origlen))
	if ifc.snaplen != 0 {
		caplen = min(caplen, uint64(ifc.snaplen))
	}
	r.frame++
	r.pkt = Packet{
		Data:     body[4 : 4+caplen],
		OrigLen:  int(origlen),
		LinkType: ifc.linkType,
		Frame:    r.frame,
		Section:  r.section,
	}
	return true
}

func (r *Reader) readDSB(body []byte, start int64) {
	if len(body) < 8 {
		r.warnAt(start, "decryption secrets block too short (%d bytes), ignored", len(body))
		return
	}
	typ := r.order.u32(body)
	n := r.order.u32(body[4:])
	if uint64(n) > uint64(len(body)-8) {
		r.warnAt(start, "decryption secrets block claims %d bytes but holds %d; ignored", n, len(body)-8)
		return
	}
	if typ == SecretsTLSKeyLog {
		r.secrets = append(r.secrets, append([]byte(nil), body[8:8+n]...))
	}
}
