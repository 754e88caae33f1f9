package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tcp"
)

// Lawful-interception handover (ETSI TS 103 221-2, "X2/X3"): a network
// element streams copies of a target's packets to a mediation function,
// usually inside TLS, each packet in an X3 PDU. Such a stream is a capture
// inside a capture: its IP packets are decoded and reassembled like those of
// the file, and their connections become flows of their own.
//
// The PDU: version (2 bytes), PDU type (2: 1 X2, 2 X3, 3/4 keepalive and
// its acknowledgement), header length (4, with the conditional attributes),
// payload length (4), payload format (2), payload direction (2), XID (16),
// correlation ID (8), conditional attributes, payload. All big-endian.
const (
	x3FixedHeader = 40
	x3MaxHeader   = 64 << 10
	x3MaxPayload  = 16 << 20

	x3TypeCC = 2 // X3: content of communication

	x3FormatIPv4     = 5
	x3FormatIPv6     = 6
	x3FormatEthernet = 7
)

// x3Header reports whether b starts like an X2/X3 PDU header.
func x3Header(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	version := binary.BigEndian.Uint16(b)
	typ := binary.BigEndian.Uint16(b[2:])
	hl := binary.BigEndian.Uint32(b[4:])
	pl := binary.BigEndian.Uint32(b[8:])
	format := binary.BigEndian.Uint16(b[12:])
	dir := binary.BigEndian.Uint16(b[14:])
	return version >= 1 && version <= 15 && typ >= 1 && typ <= 4 &&
		hl >= x3FixedHeader && hl <= x3MaxHeader && pl <= x3MaxPayload && format <= 64 && dir <= 8
}

// x3Tunnel parses the PDUs of both directions and feeds the packets they
// carry to a reassembler of its own.
type x3Tunnel struct {
	c    *stream.Conn
	sink stream.Sink
	buf  [2][]byte
	dead [2]bool
	dec  *decode.Decoder
	asm  *tcp.Assembler
	pkt  capture.Packet
	tp   tcp.Packet
	// packets counts those handed on; undecodable counts the others.
	packets, undecodable int
}

func (d *dispatcher) x3(c *stream.Conn, sink stream.Sink, depth int) stream.Parser {
	c.Protocol = prefix(depth) + "x3"
	if d.tunnel.newIndex == nil {
		return discard{}
	}
	return &x3Tunnel{
		c: c, sink: sink, dec: decode.NewDecoder(),
		asm: tcp.New(tcp.Config{
			Factory:     d.factory(0),
			Sink:        sink,
			CommunityID: d.tunnel.communityID,
			IdleTimeout: d.tunnel.idle,
			NewIndex:    d.tunnel.newIndex,
			Ended:       d.tunnel.ended,
		}),
	}
}

func (x *x3Tunnel) Feed(ch *stream.Chunk) {
	d := ch.Dir
	if x.dead[d] {
		return
	}
	if ch.Skip != 0 && len(x.buf[d]) > 0 {
		// The PDU being read lost bytes: its framing cannot be trusted.
		x.fail(d, ch, "data lost inside a PDU")
		return
	}
	x.buf[d] = append(x.buf[d], ch.Data...)
	b := x.buf[d]
	for len(b) >= 16 {
		if !x3Header(b) {
			x.fail(d, ch, fmt.Sprintf("not an X2/X3 PDU header: % x", b[:16]))
			return
		}
		hl := int(binary.BigEndian.Uint32(b[4:]))
		total := hl + int(binary.BigEndian.Uint32(b[8:]))
		if len(b) < total {
			break
		}
		x.pdu(b[:total], hl, ch)
		b = b[total:]
	}
	// Keep the rest at the start of the buffer, so it does not grow.
	x.buf[d] = append(x.buf[d][:0], b...)
}

func (x *x3Tunnel) pdu(b []byte, hl int, ch *stream.Chunk) {
	if binary.BigEndian.Uint16(b[2:]) != x3TypeCC {
		return // X2 (signalling metadata) and keepalives
	}
	var lt uint16
	switch binary.BigEndian.Uint16(b[12:]) {
	case x3FormatIPv4:
		lt = decode.LinkIPv4
	case x3FormatIPv6:
		lt = decode.LinkIPv6
	case x3FormatEthernet:
		lt = decode.LinkEthernet
	default:
		return // RTP, SIP, ... as their own formats: not packets
	}
	payload := b[hl:]
	// The packets carry the time and frame of the outer packet that
	// completed their PDU.
	x.pkt = capture.Packet{Data: payload, OrigLen: len(payload), Time: ch.Time, LinkType: lt, Frame: ch.Frame, Comments: ch.Comments}
	p, err := x.dec.Decode(&x.pkt)
	if err != nil {
		if !errors.Is(err, decode.ErrSkip) {
			x.undecodable++
		}
		return
	}
	x.packets++
	if p.TCP == nil {
		return
	}
	x.tp = tcp.Packet{Src: p.Src, Dst: p.Dst, TCP: p.TCP, Time: ch.Time, Frame: ch.Frame, Comments: ch.Comments}
	x.asm.Add(&x.tp)
}

func (x *x3Tunnel) fail(d stream.Dir, ch *stream.Chunk, why string) {
	x.dead[d] = true
	x.buf[d] = nil
	x.sink.Note(stream.Note{Conn: x.c, Time: ch.Time, Kind: "http",
		Reason: fmt.Sprintf("X3 tunnel, %s, frame %d: %s; the rest of this direction is not read", d, ch.Frame, why)})
}

func (x *x3Tunnel) End(at time.Time, _ stream.EndReason) {
	// The tunnel's connections end with it.
	x.asm.Close()
	if x.undecodable > 0 {
		x.sink.Note(stream.Note{Conn: x.c, Time: at, Kind: "http",
			Reason: fmt.Sprintf("X3 tunnel: %d of %d packets could not be decoded", x.undecodable, x.undecodable+x.packets)})
	}
	x.buf = [2][]byte{}
}
