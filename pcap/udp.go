package pcap

import (
	"fmt"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/quic"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// udpFlows follows the UDP flows of a capture: QUIC connections are
// parsed (HTTP/3 when keys allow), the others are only counted, so that
// what was not analysed can be named.
type udpFlows struct {
	c     *converter
	flows map[udpKey]*udpFlow
	idle  time.Duration
	now   time.Time
	swept time.Time
}

// udpKey is a flow's two endpoints, the smaller first.
type udpKey struct{ a, b netip.AddrPort }

func keyOf(x, y netip.AddrPort) udpKey {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return udpKey{x, y}
}

type udpFlow struct {
	conn stream.Conn
	// kind is "quic", "dns", "mdns", ... or "" for other ports.
	kind      string
	datagrams [2]int
	quic      *quic.Flow
}

func newUDPFlows(c *converter) *udpFlows {
	idle := c.opts.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	return &udpFlows{c: c, flows: map[udpKey]*udpFlow{}, idle: idle}
}

// udpServices names the flows of well-known UDP ports that are not QUIC.
var udpServices = map[uint16]string{
	53: "dns", 67: "dhcp", 68: "dhcp", 69: "tftp", 123: "ntp", 137: "netbios-ns", 138: "netbios-dgm",
	161: "snmp", 162: "snmp-trap", 500: "isakmp", 514: "syslog", 546: "dhcpv6", 547: "dhcpv6",
	1900: "ssdp", 3478: "stun", 3702: "ws-discovery", 4500: "ipsec-nat-t", 5353: "mdns", 5355: "llmnr",
	19302: "stun",
}

// add takes one UDP datagram.
func (u *udpFlows) add(d *decode.Packet, t time.Time, frame uint64, comments []string) {
	u.now = t
	src, dst := netip.AddrPortFrom(d.Src, d.SrcPort), netip.AddrPortFrom(d.Dst, d.DstPort)
	k := keyOf(src, dst)
	f := u.flows[k]
	if f == nil {
		f = u.open(src, dst, d.Payload, t)
		u.flows[k] = f
	}
	dir := stream.ClientToServer
	if src != f.conn.Client {
		dir = stream.ServerToClient
	}
	f.conn.Last = t
	f.conn.Bytes[dir] += int64(len(d.Payload))
	f.datagrams[dir]++
	if f.quic != nil {
		func() {
			defer u.recover(f, t, frame)
			f.quic.Datagram(dir, d.Payload, quic.Meta{Time: t, Frame: frame, Comments: comments})
		}()
	}
	if t.Sub(u.swept) > time.Second {
		u.sweep()
	}
}

func (u *udpFlows) open(src, dst netip.AddrPort, payload []byte, t time.Time) *udpFlow {
	client, server := src, dst
	looksQUIC := quic.IsLongHeader(payload)
	if looksQUIC {
		// A client's Initial packet is type 0 (v1) or 1 (v2) and padded
		// to 1200 bytes; the server's first is usually a reply to it.
	} else if rs, rd := portRank(src.Port()), portRank(dst.Port()); rs < rd || rs == rd && src.Port() < dst.Port() {
		client, server = dst, src
	}
	f := &udpFlow{conn: stream.Conn{
		Index: u.c.newIndex(), Client: client, Server: server, UDP: true,
		CommunityID: communityid.Config{Seed: u.c.opts.CommunityIDSeed}.ID(communityid.Flow{
			Proto: communityid.ProtoUDP, Src: client.Addr(), Dst: server.Addr(),
			SrcPort: client.Port(), DstPort: server.Port(),
		}),
		First: t, Last: t,
	}}
	switch {
	case looksQUIC || (server.Port() == 443 || client.Port() == 443) && len(payload) > 0 && payload[0]&0x40 != 0 && udpServices[server.Port()] == "":
		f.kind = "quic"
		f.quic = quic.NewFlow(&f.conn, u.c, quic.Config{Keys: u.c.disp.keys, NewApp: u.c.disp.http3})
	default:
		f.kind = udpServices[server.Port()]
		if f.kind == "" {
			f.kind = udpServices[client.Port()]
		}
		f.conn.Protocol = "udp"
		if f.kind != "" {
			f.conn.Protocol = "udp/" + f.kind
		}
	}
	return f
}

// recover stops a QUIC parser failure (a bug) from ending the
// conversion: it becomes a note and the flow is only counted from then on.
func (u *udpFlows) recover(f *udpFlow, at time.Time, frame uint64) {
	if r := recover(); r != nil {
		f.quic = nil
		where := ""
		if frame > 0 {
			where = fmt.Sprintf(" at frame %d", frame)
		}
		u.c.Note(stream.Note{Conn: &f.conn, Time: at, Kind: "internal",
			Reason: fmt.Sprintf("QUIC parser failed%s: %v [%s]", where, r, stackLines(debug.Stack()))})
	}
}

// portRank orders ports from most to least likely to be a server's, as
// the TCP stage does.
func portRank(p uint16) int {
	switch {
	case p < 1024:
		return 0
	case p < 32768:
		return 1
	}
	return 2
}

// sweep ends the flows idle for longer than the timeout.
func (u *udpFlows) sweep() {
	u.swept = u.now
	var done []udpKey
	for k, f := range u.flows {
		if u.now.Sub(f.conn.Last) > u.idle {
			done = append(done, k)
		}
	}
	u.endAll(done, stream.EndIdle)
}

func (u *udpFlows) endAll(keys []udpKey, why stream.EndReason) {
	// In order of the flows' indexes, so notes come out the same way.
	fs := make([]*udpFlow, 0, len(keys))
	for _, k := range keys {
		fs = append(fs, u.flows[k])
		delete(u.flows, k)
	}
	slices.SortFunc(fs, func(a, b *udpFlow) int { return cmpInt(a.conn.Index, b.conn.Index) })
	for _, f := range fs {
		if f.quic != nil {
			func() {
				defer u.recover(f, f.conn.Last, 0)
				f.quic.End(f.conn.Last)
			}()
		}
		u.c.udpEnded(f)
	}
}

// close ends every flow (end of the capture).
func (u *udpFlows) close() {
	keys := make([]udpKey, 0, len(u.flows))
	for k := range u.flows {
		keys = append(keys, k)
	}
	u.endAll(keys, stream.EndCapture)
}

// udpEnded records a finished UDP flow.
func (c *converter) udpEnded(f *udpFlow) {
	c.sum.UDPFlows++
	reqs := max(f.conn.Requests, int(c.seq[f.conn.Index]))
	delete(c.seq, f.conn.Index)
	delete(c.tlsFailed, f.conn.Index)
	if reqs == 0 {
		c.unanalysed.add(f.kind, &f.conn, f.datagrams[0]+f.datagrams[1])
	}
	if f.conn.Protocol == "quic→h3" && reqs == 0 {
		f.conn.Protocol = "quic"
	}
	if !c.opts.ListFlows {
		return
	}
	c.sum.Flows = append(c.sum.Flows, FlowInfo{
		File: c.file, Index: f.conn.Index, Transport: "udp",
		Client: f.conn.Client, Server: f.conn.Server, CommunityID: f.conn.CommunityID,
		Protocol: f.conn.Protocol, First: f.conn.First, Last: f.conn.Last,
		BytesToServer: f.conn.Bytes[stream.ClientToServer], BytesToClient: f.conn.Bytes[stream.ServerToClient],
		Datagrams: f.datagrams[0] + f.datagrams[1], Requests: reqs,
		SNI: f.conn.SNI, ALPN: f.conn.ALPN, TLSVersion: f.conn.TLSVersion, CipherSuite: f.conn.CipherSuite,
		Decrypted: f.conn.Decrypted,
	})
}

// unanalysed collects the flows of one input that carried data but gave
// no HTTP exchange, for the warnings that name them.
type unanalysed struct {
	quic []flowLine
	// groups of UDP flows by service (or port), and of TCP flows by
	// protocol.
	udp, tcp map[string]*flowGroup
}

type flowLine struct {
	conn  stream.Conn
	bytes int64
}

type flowGroup struct {
	flows, datagrams int
	bytes            int64
	first            time.Time
	examples         []string
}

// maxListedFlows bounds the QUIC connections named one by one per input.
const maxListedFlows = 20

func (u *unanalysed) add(kind string, c *stream.Conn, datagrams int) {
	n := c.Bytes[0] + c.Bytes[1]
	if n == 0 {
		return
	}
	if kind == "quic" {
		u.quic = append(u.quic, flowLine{conn: *c, bytes: n})
		return
	}
	m := &u.udp
	name := kind
	if !c.UDP {
		m = &u.tcp
		name = c.Protocol
		if name == "" {
			name = "unknown protocol"
		}
	} else if name == "" {
		name = "port " + strconv.Itoa(int(c.Server.Port()))
	}
	if *m == nil {
		*m = map[string]*flowGroup{}
	}
	g := (*m)[name]
	if g == nil {
		g = &flowGroup{first: c.First}
		(*m)[name] = g
	}
	g.flows++
	g.datagrams += datagrams
	g.bytes += n
	if c.First.Before(g.first) {
		g.first = c.First
	}
	if len(g.examples) < 3 {
		g.examples = append(g.examples, c.Client.String()+"→"+c.Server.String())
	}
}

// warnings turns what was collected into warnings (one per QUIC
// connection, one per group of other flows) and resets it.
func (u *unanalysed) warnings(file string) []Warning {
	var out []Warning
	slices.SortFunc(u.quic, func(a, b flowLine) int { return cmpInt(a.conn.Index, b.conn.Index) })
	for i, l := range u.quic {
		if i == maxListedFlows {
			var n int64
			for _, r := range u.quic[i:] {
				n += r.bytes
			}
			out = append(out, Warning{File: file, Message: fmt.Sprintf("traffic not analysed: %d more QUIC connections (%d bytes)", len(u.quic)-i, n)})
			break
		}
		c := &l.conn
		name := c.SNI
		if name == "" {
			name = "an unknown server name"
		}
		why := "no HTTP/3 exchange decrypted"
		if !c.Decrypted {
			why = "not decrypted"
		}
		out = append(out, Warning{File: file, Message: fmt.Sprintf("traffic not analysed: QUIC connection %s→%s (%s) to %s, %d bytes, %s",
			c.Client, c.Server, c.CommunityID, name, l.bytes, why)})
	}
	for _, part := range []struct {
		what string
		m    map[string]*flowGroup
	}{{"UDP", u.udp}, {"TCP", u.tcp}} {
		names := make([]string, 0, len(part.m))
		for n := range part.m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			g := part.m[n]
			var msg string
			switch {
			case part.what == "UDP" && (n == "dns" || n == "mdns" || n == "llmnr"):
				msg = fmt.Sprintf("traffic not analysed: %s, %d messages in %s, %d bytes", strings.ToUpper(n), g.datagrams, plural(g.flows, "UDP flow"), g.bytes)
			case part.what == "UDP":
				msg = fmt.Sprintf("traffic not analysed: UDP %s, %s, %s, %d bytes", n, plural(g.flows, "flow"), plural(g.datagrams, "datagram"), g.bytes)
			default:
				msg = fmt.Sprintf("traffic not analysed: %s without HTTP (%s), %d bytes", plural(g.flows, "TCP connection"), n, g.bytes)
			}
			msg += " (" + joinExamples(g.examples, g.flows) + ")"
			out = append(out, Warning{File: file, Message: msg})
		}
	}
	*u = unanalysed{}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func joinExamples(ex []string, n int) string {
	s := ""
	for i, e := range ex {
		if i > 0 {
			s += ", "
		}
		s += e
	}
	if n > len(ex) {
		s += ", …"
	}
	return s
}
