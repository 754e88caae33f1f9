package tcp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// checker is a parser that checks the bytes it gets: every payload byte is
// its sequence number mod 251, so each chunk must continue the previous one
// of its direction, after the chunk's Skip.
type checker struct {
	t    *testing.T
	conn *stream.Conn
	next [2]int // expected next byte per direction, -1 unknown
	got  [2]int64
	done bool
}

func (c *checker) Feed(ch *stream.Chunk) {
	if c.done {
		c.t.Fatal("Feed after End")
	}
	if len(ch.Data) == 0 {
		c.t.Fatal("empty chunk")
	}
	d := ch.Dir
	// A Swap by a parser would change directions; this one never swaps.
	if want := c.next[d]; want >= 0 && ch.Skip >= 0 {
		if int(ch.Data[0]) != (want+ch.Skip)%251 {
			c.t.Fatalf("dir %d: chunk starts with %d, want %d (skip %d)", d, ch.Data[0], (want+ch.Skip)%251, ch.Skip)
		}
	}
	for i := 1; i < len(ch.Data); i++ {
		if int(ch.Data[i]) != (int(ch.Data[i-1])+1)%251 {
			c.t.Fatalf("dir %d: byte %d of a chunk is %d after %d", d, i, ch.Data[i], ch.Data[i-1])
		}
	}
	c.next[d] = (int(ch.Data[len(ch.Data)-1]) + 1) % 251
	c.got[d] += int64(len(ch.Data))
}

func (c *checker) End(time.Time, stream.EndReason) {
	if c.done {
		c.t.Fatal("End twice")
	}
	c.done = true
	if c.got[0] != c.conn.Bytes[0] || c.got[1] != c.conn.Bytes[1] {
		c.t.Fatalf("got %v bytes, conn says %v", c.got, c.conn.Bytes)
	}
}

// FuzzAssembler feeds arbitrary segment sequences (any order, overlaps,
// retransmissions, flags, time jumps, two connections) and checks that the
// assembler never panics and gives each direction's bytes in order, once,
// with holes reported as Skip.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0, 0, 0x12, 0, 0, 0, 0, 0x10, 0, 1, 10, 1, 0x10, 0, 11, 10, 1})
	f.Add([]byte{0x10, 0, 20, 30, 0, 0x10, 0, 1, 19, 0, 0x11, 0, 50, 5, 200, 0x14, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 1000 {
			ops = ops[:1000] // 200 segments are plenty; longer inputs only slow the fuzzer
		}
		timer := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("stuck on %x", ops)) })
		defer timer.Stop()
		var checkers []*checker
		a := New(Config{
			Factory: func(c *stream.Conn, _ stream.Sink) stream.Parser {
				ch := &checker{t: t, conn: c, next: [2]int{-1, -1}}
				checkers = append(checkers, ch)
				return ch
			},
			Sink:               nopSink{},
			IdleTimeout:        time.Minute,
			MaxBufferedPerConn: 8 * 1900,
			MaxBufferedTotal:   16 * 1900,
		})
		hosts := [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")}
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		isn := [2]uint32{0xfffffff0, 1000} // one side wraps around
		buf := make([]byte, 4000)
		for len(ops) >= 5 {
			op := ops[:5]
			ops = ops[5:]
			flags, dir := op[0], int(op[1]&1)
			other := op[1]&2 != 0 // a second connection
			off := uint32(op[2])*64 + uint32(op[1]>>2)
			n := int(op[3]) * 15
			at = at.Add(time.Duration(op[4]) * 500 * time.Millisecond)
			src, dst := hosts[dir], hosts[1-dir]
			if other {
				src = netip.AddrPortFrom(src.Addr(), src.Port()+1)
				dst = netip.AddrPortFrom(dst.Addr(), dst.Port()+1)
			}
			seq := isn[dir] + off
			tcp := &layers.TCP{
				SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
				Seq: seq, FIN: flags&1 != 0, SYN: flags&2 != 0, RST: flags&4 != 0, ACK: flags&0x10 != 0,
			}
			// Byte number k of the stream has sequence number isn+1+k (the
			// SYN takes isn); a SYN's own payload starts after it.
			k := int64(off) - 1
			if tcp.SYN {
				k++
			}
			for i := 0; i < n; i++ {
				buf[i] = byte((k + int64(i) + 251) % 251)
			}
			tcp.Payload = buf[:n]
			a.Add(&Packet{Src: src.Addr(), Dst: dst.Addr(), TCP: tcp, Time: at})
		}
		a.Close()
		for _, c := range checkers {
			if !c.done {
				t.Fatal("a connection never ended")
			}
		}
		if a.Open() != 0 {
			t.Fatalf("%d connections open after Close", a.Open())
		}
	})
}
