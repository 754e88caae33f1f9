// Package gencap writes deterministic synthetic captures.
//
// Write makes cleartext HTTP/1.1 traffic of any size: many concurrent TCP
// connections with keep-alive, chunked and gzip bodies, POSTed forms and
// JSON, and some out-of-order and retransmitted segments. The same Config
// always gives the same bytes (a seeded RNG and a fixed start time, never
// the clock), so the captures serve as test fixtures and benchmark inputs.
//
// WriteTracking makes the README's sample, testdata/sample/tracking.pcapng:
// an invented app's requests to trackers, shaped as their SDKs send them,
// in cleartext and inside TLS 1.3 with the keys embedded in the file.
//
// The parts are reusable: RecordTLS records what Go's crypto/tls client and
// server write (with SeededRand, reproducibly), ConnWriter writes whole
// TCP connections and pcapng Decryption Secrets Blocks. The TLS tests of
// pcap/internal/tls use them through pcap/internal/tls/tlsgen.
//
// internal/cmd/gencap is the command-line front end.
package gencap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config describes the capture to generate.
type Config struct {
	// Seed of the random choices.
	Seed uint64
	// Size is the approximate file size in bytes: no new connection starts
	// once it is reached, the open ones are finished.
	Size int64
	// Format of the file.
	Format Format
	// Start is the time of the first packet (default 2024-03-14 09:00 UTC).
	Start time.Time
	// Concurrent is the number of connections open at a time (default 64).
	Concurrent int
	// Disorder is the probability that a multi-segment message has two
	// segments swapped and one retransmitted (default 0.05; negative for
	// none).
	Disorder float64
	// MaxBody caps the size of response bodies (default 200 KB), for
	// small fixtures.
	MaxBody int
}

// Stats says what was written.
type Stats struct {
	Bytes    int64
	Packets  int
	Conns    int
	Requests int
	// Posts counts POST requests, Chunked the chunked responses, Gzip the
	// gzip-encoded responses.
	Posts, Chunked, Gzip int
	// Payload is the TCP payload written, Retransmitted the part of it
	// sent a second time.
	Payload, Retransmitted int64
}

// DefaultStart is the time of the first packet unless Config says another.
var DefaultStart = time.Date(2024, 3, 14, 9, 0, 0, 0, time.UTC)

const mss = 1448

// Write writes a capture to w.
func Write(w io.Writer, cfg Config) (Stats, error) {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Concurrent <= 0 {
		cfg.Concurrent = 64
	}
	if cfg.Disorder == 0 {
		cfg.Disorder = 0.05
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 200000
	}
	fw, err := newFileWriter(w, cfg.Format)
	if err != nil {
		return Stats{}, err
	}
	g := &gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x7472616365776972)),
		fw:    fw,
		clock: cfg.Start,
	}
	g.bodies = makeBodies(rand.New(rand.NewPCG(cfg.Seed, 1)), cfg.MaxBody)
	err = g.run()
	if ferr := fw.flush(); err == nil {
		err = ferr
	}
	g.stats.Bytes = fw.n
	return g.stats, err
}

type body struct {
	plain, gz []byte
	mime      string
}

type gen struct {
	cfg    Config
	rng    *rand.Rand
	fw     *fileWriter
	clock  time.Time
	stats  Stats
	bodies []body
	flows  []*flow
	port   int
}

// flow is one connection and the segments it still has to send.
type flow struct {
	cli, srv   netip.AddrPort
	cseq, sseq uint32
	host       string
	left       int // exchanges still to generate
	queue      []segment
	closed     bool
}

func (g *gen) run() error {
	for {
		for len(g.flows) < g.cfg.Concurrent && g.fw.n < g.cfg.Size {
			g.flows = append(g.flows, g.newFlow())
		}
		if len(g.flows) == 0 {
			return nil
		}
		i := g.rng.IntN(len(g.flows))
		f := g.flows[i]
		if len(f.queue) == 0 {
			if !g.refill(f) {
				g.flows[i] = g.flows[len(g.flows)-1]
				g.flows = g.flows[:len(g.flows)-1]
				continue
			}
		}
		// Send a burst of the flow's segments, as a real connection does.
		for n := 1 + g.rng.IntN(4); n > 0 && len(f.queue) > 0; n-- {
			s := &f.queue[0]
			g.clock = g.clock.Add(time.Duration(20+g.rng.IntN(400)) * time.Microsecond)
			s.at = g.clock
			if err := g.fw.packet(s); err != nil {
				return err
			}
			g.stats.Packets++
			g.stats.Payload += int64(len(s.payload))
			f.queue = f.queue[1:]
		}
	}
}

var clientHosts = []string{"10.0.0.", "10.0.1.", "10.0.2."}

var serverHosts = []struct {
	name string
	addr string
	port uint16
}{
	{"www.example.com", "93.184.216.34", 80},
	{"api.example-shop.test", "198.51.100.10", 80},
	{"cdn.example-news.test", "198.51.100.20", 8080},
	{"tracker.example-ads.test", "203.0.113.5", 80},
	{"collect.example-metrics.test", "203.0.113.9", 8000},
	{"images.example-cdn.test", "198.51.100.30", 80},
}

func (g *gen) newFlow() *flow {
	// Client ports cycle through the ephemeral range, so a 4-tuple is only
	// reused long after its previous connection closed.
	g.port++
	c := g.rng.IntN(len(clientHosts))
	s := serverHosts[g.rng.IntN(len(serverHosts))]
	cli := netip.MustParseAddr(clientHosts[c] + strconv.Itoa(2+g.rng.IntN(200)))
	f := &flow{
		cli:  netip.AddrPortFrom(cli, 32768+uint16(g.port%28000)),
		srv:  netip.AddrPortFrom(netip.MustParseAddr(s.addr), s.port),
		host: s.name,
		cseq: g.rng.Uint32(),
		sseq: g.rng.Uint32(),
		left: 1 + g.rng.IntN(8),
	}
	g.stats.Conns++
	// Three-way handshake.
	f.queue = append(f.queue,
		segment{src: f.cli, dst: f.srv, seq: f.cseq, flags: flSYN},
		segment{src: f.srv, dst: f.cli, seq: f.sseq, ack: f.cseq + 1, flags: flSYN | flACK},
		segment{src: f.cli, dst: f.srv, seq: f.cseq + 1, ack: f.sseq + 1, flags: flACK},
	)
	f.cseq++
	f.sseq++
	return f
}

// refill queues the flow's next exchange, or its close; false when the flow
// is done.
func (g *gen) refill(f *flow) bool {
	if f.closed {
		return false
	}
	if g.fw.n >= g.cfg.Size {
		f.left = 0 // the size is reached: finish the open connections
	}
	if f.left == 0 {
		f.queue = append(f.queue,
			segment{src: f.cli, dst: f.srv, seq: f.cseq, ack: f.sseq, flags: flFIN | flACK},
			segment{src: f.srv, dst: f.cli, seq: f.sseq, ack: f.cseq + 1, flags: flFIN | flACK},
			segment{src: f.cli, dst: f.srv, seq: f.cseq + 1, ack: f.sseq + 1, flags: flACK},
		)
		f.closed = true
		return true
	}
	f.left--
	req, resp := g.exchange(f)
	g.message(f, true, req)
	g.message(f, false, resp)
	return true
}

// message queues the segments of one message and the peer's ACK.
func (g *gen) message(f *flow, fromClient bool, msg []byte) {
	src, dst, seq, ack := f.cli, f.srv, &f.cseq, f.sseq
	if !fromClient {
		src, dst, seq, ack = f.srv, f.cli, &f.sseq, f.cseq
	}
	start := len(f.queue)
	for off := 0; off < len(msg); off += mss {
		end := min(off+mss, len(msg))
		fl := uint8(flACK)
		if end == len(msg) {
			fl |= flPSH
		}
		f.queue = append(f.queue, segment{src: src, dst: dst, seq: *seq + uint32(off), ack: ack, flags: fl, payload: msg[off:end]})
	}
	segs := f.queue[start:]
	if len(segs) >= 2 && g.cfg.Disorder > 0 && g.rng.Float64() < g.cfg.Disorder {
		// Two segments arrive swapped, and one is sent twice.
		i := g.rng.IntN(len(segs) - 1)
		segs[i], segs[i+1] = segs[i+1], segs[i]
		j := g.rng.IntN(len(segs))
		f.queue = append(f.queue, segs[j])
		g.stats.Retransmitted += int64(len(segs[j].payload))
	}
	*seq += uint32(len(msg))
	f.queue = append(f.queue, segment{src: dst, dst: src, seq: ack, ack: *seq, flags: flACK})
}

var words = strings.Fields(`privacy tracking network capture request response
	session device user identifier advertising analytics consent cookie header
	payload event screen install location weather forecast news article shop
	basket product price search result image video audio stream token`)

// makeBodies makes a fixed pool of response bodies, log-uniform in size
// from 100 bytes to 200 KB, and their gzip encodings, so that generating a
// large capture does not compress for every response.
func makeBodies(rng *rand.Rand, maxSize int) []body {
	var out []body
	for i := 0; i < 48; i++ {
		size := min(maxSize, int(100*math.Pow(2000, rng.Float64())))
		var b bytes.Buffer
		mime := "text/html; charset=utf-8"
		switch i % 3 {
		case 0:
			b.WriteString("<!doctype html><html><body>\n")
			for b.Len() < size {
				fmt.Fprintf(&b, "<p>%s %s %d</p>\n", words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(100000))
			}
			b.WriteString("</body></html>\n")
		case 1:
			mime = "application/json"
			b.WriteString(`{"items":[`)
			for n := 0; b.Len() < size; n++ {
				if n > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"id":%d,"name":%q,"score":%d}`, n, words[rng.IntN(len(words))], rng.IntN(1000))
			}
			b.WriteString("]}")
		default:
			mime = "application/octet-stream"
			for b.Len() < size {
				b.WriteByte(byte(rng.Uint32()))
			}
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
		zw.Write(b.Bytes())
		zw.Close()
		out = append(out, body{plain: b.Bytes(), gz: z.Bytes(), mime: mime})
	}
	return out
}

// exchange makes one request and its response.
func (g *gen) exchange(f *flow) (req, resp []byte) {
	r := g.rng
	g.stats.Requests++
	var q strings.Builder
	fmt.Fprintf(&q, "/%s/%s?id=%d&session=%08x", words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1e6), r.Uint32())
	var b bytes.Buffer
	switch k := r.IntN(10); {
	case k < 6:
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gencap/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n", q.String(), f.host)
	case k < 8:
		g.stats.Posts++
		form := fmt.Sprintf("event=%s&uid=%08x-%04x&ts=%d&consent=%d", words[r.IntN(len(words))], r.Uint32(), r.IntN(65536), 1710400000+r.IntN(1e6), r.IntN(2))
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", q.String(), f.host, len(form), form)
	default:
		g.stats.Posts++
		js := fmt.Sprintf(`{"event":%q,"device":{"id":"%08x","model":"Pixel %d"},"values":[%d,%d,%d]}`, words[r.IntN(len(words))], r.Uint32(), 3+r.IntN(6), r.IntN(100), r.IntN(100), r.IntN(100))
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", q.String(), f.host, len(js), js)
	}
	req = bytes.Clone(b.Bytes())

	b.Reset()
	bd := g.bodies[r.IntN(len(g.bodies))]
	date := "Thu, 14 Mar 2024 09:00:00 GMT"
	switch k := r.IntN(20); {
	case k == 0:
		fmt.Fprintf(&b, "HTTP/1.1 204 No Content\r\nDate: %s\r\n\r\n", date)
	case k == 1:
		fmt.Fprintf(&b, "HTTP/1.1 304 Not Modified\r\nDate: %s\r\nETag: \"%x\"\r\n\r\n", date, r.Uint32())
	case k < 8:
		g.stats.Gzip++
		fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", date, bd.mime, len(bd.gz))
		b.Write(bd.gz)
	case k < 11:
		g.stats.Chunked++
		data := bd.plain
		hdr := ""
		if k == 10 {
			g.stats.Gzip++
			data = bd.gz
			hdr = "Content-Encoding: gzip\r\n"
		}
		fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\n%sTransfer-Encoding: chunked\r\n\r\n", date, bd.mime, hdr)
		for len(data) > 0 {
			n := min(len(data), 1+r.IntN(16384))
			fmt.Fprintf(&b, "%x\r\n", n)
			b.Write(data[:n])
			b.WriteString("\r\n")
			data = data[n:]
		}
		b.WriteString("0\r\n\r\n")
	default:
		fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", date, bd.mime, len(bd.plain))
		b.Write(bd.plain)
	}
	return req, bytes.Clone(b.Bytes())
}
