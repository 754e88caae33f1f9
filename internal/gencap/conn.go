package gencap

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"
)

// Conn is one TCP connection for a ConnWriter: its endpoints and what each
// side wrote, in order.
type Conn struct {
	Client, Server netip.AddrPort
	Wires          []Wire
	// ISN are the initial sequence numbers of the client and the server.
	ISN [2]uint32
	// Comment, in a pcapng file, goes on every client packet that carries
	// data (ptcpdump writes the sending process there).
	Comment string
	// Open leaves the connection open: no FIN at the end.
	Open bool
}

// ConnWriter writes whole connections, one after the other, to a capture:
// the three-way handshake, each Wire cut into segments of at most 1448
// bytes, and the close.
type ConnWriter struct {
	fw *fileWriter
	// Clock is the time of the last packet written.
	Clock time.Time
	// Step is the time between two packets sent the same way, Latency
	// between a packet and the next one the other way (the time to cross
	// the network; default Step).
	Step, Latency time.Duration
	// ACKs makes the receiver of each Wire acknowledge it with an empty
	// segment, as a real TCP stack does.
	ACKs bool
	// Tunnel, when set, wraps every packet in that encapsulation.
	Tunnel Tunnel

	last Dir // direction of the last packet
}

// NewConnWriter writes the file header and returns a writer whose first
// packet is at start+Step.
func NewConnWriter(w io.Writer, f Format, start time.Time) (*ConnWriter, error) {
	fw, err := newFileWriter(w, f)
	if err != nil {
		return nil, err
	}
	return &ConnWriter{fw: fw, Clock: start, Step: 10 * time.Microsecond}, nil
}

// Secrets writes a pcapng Decryption Secrets Block holding an NSS key log
// (as editcap --inject-secrets does), so that readers decrypt the TLS
// connections after it without a key log file.
func (cw *ConnWriter) Secrets(keylog []byte) error {
	if cw.fw.format != PCAPNG {
		return errors.New("gencap: decryption secrets need pcapng")
	}
	pad := (4 - len(keylog)%4) % 4
	size := 20 + len(keylog) + pad
	b := make([]byte, 0, size)
	b = le32(b, 0x0000000a) // Decryption Secrets Block
	b = le32(b, uint32(size))
	b = le32(b, 0x544c534b) // TLS key log
	b = le32(b, uint32(len(keylog)))
	b = append(b, keylog...)
	b = append(b, make([]byte, pad)...)
	b = le32(b, uint32(size))
	return cw.fw.write(b)
}

// WriteConn writes c.
func (cw *ConnWriter) WriteConn(c Conn) error {
	if !c.Client.Addr().Is4() || !c.Server.Addr().Is4() {
		return fmt.Errorf("gencap: only IPv4 is generated (%v→%v)", c.Client, c.Server)
	}
	ends := [2]netip.AddrPort{c.Client, c.Server}
	seq := c.ISN
	lost := false
	send := func(d Dir, flags uint8, payload []byte, pause time.Duration) error {
		if lost {
			lost = false
			seq[d] += uint32(len(payload))
			return nil
		}
		step := cw.Step
		if d != cw.last && cw.Latency > 0 {
			step = cw.Latency
		}
		cw.last = d
		cw.Clock = cw.Clock.Add(step + pause)
		s := &segment{src: ends[d], dst: ends[1-d], seq: seq[d], flags: flags, payload: payload, at: cw.Clock}
		if flags&flACK != 0 {
			s.ack = seq[1-d]
		}
		if d == ClientToServer && len(payload) > 0 {
			s.comment = c.Comment
		}
		seq[d] += uint32(len(payload))
		if flags&(flSYN|flFIN) != 0 {
			seq[d]++
		}
		cw.fw.tunnel = cw.Tunnel
		return cw.fw.packet(s)
	}
	cw.last = ServerToClient // the SYN crosses the network
	err := errors.Join(
		send(ClientToServer, flSYN, nil, 0),
		send(ServerToClient, flSYN|flACK, nil, 0),
		send(ClientToServer, flACK, nil, 0))
	for _, w := range c.Wires {
		if err != nil {
			return err
		}
		pause := w.Pause
		for off, i := 0, 0; off < len(w.Data) && err == nil; off, i = off+mss, i+1 {
			end := min(off+mss, len(w.Data))
			fl := uint8(flACK)
			if end == len(w.Data) {
				fl |= flPSH
			}
			lost = slices.Contains(w.Drop, i)
			err = send(w.Dir, fl, w.Data[off:end], pause)
			pause = 0
		}
		if cw.ACKs && err == nil {
			err = send(1-w.Dir, flACK, nil, 0)
		}
	}
	if err != nil || c.Open {
		return err
	}
	return errors.Join(
		send(ClientToServer, flFIN|flACK, nil, 0),
		send(ServerToClient, flFIN|flACK, nil, 0),
		send(ClientToServer, flACK, nil, 0))
}

// Flush writes what is buffered.
func (cw *ConnWriter) Flush() error { return cw.fw.flush() }
