package http2

import (
	"fmt"
	"testing"

	"golang.org/x/net/http2"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// headerHeavy is n browser-like exchanges with many headers and small
// bodies, where HPACK dominates.
func headerHeavy(n int) []rec {
	w := newWire()
	w.send(c2s, []byte(preface))
	w.frames(c2s, func(fr *http2.Framer) { fr.WriteSettings() })
	w.frames(s2c, func(fr *http2.Framer) { fr.WriteSettings() })
	for i := 0; i < n; i++ {
		id := uint32(2*i + 1)
		req := w.block(c2s, ":method", "GET", ":authority", "www.example.com", ":scheme", "https",
			":path", fmt.Sprintf("/assets/item-%d.js?v=%d", i, i*7),
			"sec-ch-ua", `"Chromium";v="124", "Google Chrome";v="124"`, "sec-ch-ua-mobile", "?0",
			"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
			"accept", "*/*", "sec-fetch-site", "same-origin", "sec-fetch-mode", "no-cors", "sec-fetch-dest", "script",
			"referer", "https://www.example.com/", "accept-encoding", "gzip, deflate, br, zstd",
			"accept-language", "en-GB,en;q=0.9", "cookie", fmt.Sprintf("sid=%08x; _ga=GA1.1.%d", i*2654435761, i))
		resp := w.block(s2c, ":status", "200", "content-type", "application/javascript", "content-length", "64",
			"cache-control", "max-age=3600", "date", "Mon, 06 May 2024 07:08:09 GMT", "etag", fmt.Sprintf(`"%x"`, i),
			"server", "bench", "vary", "Accept-Encoding", "x-request-id", fmt.Sprintf("%016x", i*40503))
		w.frames(c2s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: req, EndHeaders: true, EndStream: true})
		})
		w.frames(s2c, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: resp, EndHeaders: true})
			fr.WriteData(id, true, pattern(i, 64))
		})
	}
	return w.chunks
}

type nopSink struct{}

func (nopSink) Entry(*stream.Conn, *har.Entry) {}
func (nopSink) Note(stream.Note)               {}

// BenchmarkParse measures frame parsing and HPACK decoding (BuildEntry is
// left out: it has its own benchmarks).
func BenchmarkParse(b *testing.B) {
	old := buildEntry
	defer func() { buildEntry = old }()
	buildEntry = func(*stream.Conn, *httpmsg.Message, *httpmsg.Message, bool, httpmsg.Limits) *har.Entry {
		return &har.Entry{}
	}
	cases := []struct {
		name   string
		chunks []rec
	}{
		{"headers", headerHeavy(1000)},
		{"bodies", generatedSession(b, true)},
	}
	for _, c := range cases {
		size := 0
		for _, ch := range c.chunks {
			size += len(ch.data)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				p := New(testConn(), nopSink{}, Config{})
				for _, ch := range c.chunks {
					p.Feed(&stream.Chunk{Dir: ch.dir, Data: ch.data, Time: ch.t, Frame: ch.frame})
				}
				p.End(t0, stream.EndFIN)
			}
		})
	}
}
