package gencap

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// KeepAlive describes one long keep-alive HTTP/1.1 connection, one request
// at a time, of which the capture may have lost one segment of the
// server's side: the case where reassembly holds everything after a hole
// that is never filled, and where a parser must not pair the responses
// after a lost one with the wrong requests.
type KeepAlive struct {
	Client, Server netip.AddrPort
	// Requests is the number of exchanges (default 1000).
	Requests int
	// BodySize is the size of each response body (default 3000 bytes: three
	// segments per response with the headers).
	BodySize int
	// LostResponse is the response (0-based) one of whose segments the
	// capture lost, LostSegment which one (0: the first, with the status
	// line and headers). LostResponse < 0: nothing lost.
	LostResponse, LostSegment int
	// ISN are the initial sequence numbers of the client and the server.
	ISN [2]uint32
}

// KeepAliveHost is the Host of the requests a KeepAlive connection makes.
const KeepAliveHost = "keepalive.example.test"

// KeepAlivePath is the path of request i, and KeepAliveMarker the text the
// body of response i starts with, so tests can check the pairing.
func KeepAlivePath(i int) string   { return fmt.Sprintf("/item/%04d", i) }
func KeepAliveMarker(i int) string { return fmt.Sprintf("response %04d;", i) }

// Conn returns the connection's writes.
func (k KeepAlive) Conn() Conn {
	n, size := k.Requests, k.BodySize
	if n <= 0 {
		n = 1000
	}
	if size <= 0 {
		size = 3000
	}
	c := Conn{Client: k.Client, Server: k.Server, ISN: k.ISN}
	for i := range n {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gencap-keepalive/1\r\nAccept: */*\r\n\r\n", KeepAlivePath(i), KeepAliveHost)
		body := KeepAliveMarker(i)
		body += strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789\n", size/37+1)
		body = body[:size]
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s", len(body), body)
		w := Wire{Dir: ServerToClient, Data: []byte(resp), Pause: 2 * time.Millisecond}
		if i == k.LostResponse {
			w.Drop = []int{k.LostSegment}
		}
		c.Wires = append(c.Wires, Wire{Dir: ClientToServer, Data: []byte(req), Pause: 3 * time.Millisecond}, w)
	}
	return c
}

// WriteKeepAlives writes copies of k, copy j starting at start+j*step from
// client 10.77.x.y (a different address per copy), to a capture: the
// never-filled gap "tiled" like realbench tiles the corpus's traces
// (scripts/realbench-gaps.sh merges them into it). Each copy takes about
// 7 ms per exchange; copies that would overlap start when the previous one
// ended, so the file stays in time order.
func WriteKeepAlives(w io.Writer, f Format, start time.Time, step time.Duration, copies int, k KeepAlive) error {
	cw, err := NewConnWriter(w, f, start)
	if err != nil {
		return err
	}
	cw.Latency = time.Millisecond
	cw.ACKs = true
	for j := range copies {
		if at := start.Add(time.Duration(j) * step); at.After(cw.Clock) {
			cw.Clock = at
		}
		c := k
		c.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 77, byte(j >> 8), byte(j)}), 40000+uint16(j%20000))
		if !k.Server.IsValid() {
			c.Server = netip.MustParseAddrPort("192.0.2.80:80")
		}
		c.ISN = [2]uint32{uint32(j)*7919 + 1000, uint32(j)*104729 + 5000000}
		if err := cw.WriteConn(c.Conn()); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// WriteOpenFlows writes n connections that each send the start of a
// request (line and Host header, no blank line) and are never closed, one
// after the other a few microseconds apart, so all are open at the end of
// the capture: what a port scan, a busy server's egress or a capture cut
// short leaves a converter to hold.
func WriteOpenFlows(w io.Writer, f Format, start time.Time, n int) error {
	cw, err := NewConnWriter(w, f, start)
	if err != nil {
		return err
	}
	srv := netip.MustParseAddrPort("192.0.2.80:80")
	for j := range n {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 78, byte(j >> 16), byte(j >> 8)}), 1024+uint16(j&0xff))
		req := fmt.Sprintf("GET /open/%07d HTTP/1.1\r\nHost: open.example.test\r\nAccept: */*\r\n", j)
		c := Conn{Client: cli, Server: srv, Open: true, ISN: [2]uint32{uint32(j) * 7919, uint32(j) * 104729},
			Wires: []Wire{{Dir: ClientToServer, Data: []byte(req)}}}
		if err := cw.WriteConn(c); err != nil {
			return err
		}
	}
	return cw.Flush()
}
