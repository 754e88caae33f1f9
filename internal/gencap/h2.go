package gencap

import (
	"bytes"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2conn builds the bytes of an HTTP/2 connection: one HPACK encoder per
// direction, as the two peers keep their own dynamic tables.
type h2conn struct {
	enc [2]*hpack.Encoder
	hb  [2]bytes.Buffer // the encoders' output
}

func newH2Conn() *h2conn {
	h := &h2conn{}
	for d := range h.enc {
		h.enc[d] = hpack.NewEncoder(&h.hb[d])
	}
	return h
}

// h2write is what one side writes at once.
type h2write struct {
	h   *h2conn
	dir Dir
	buf bytes.Buffer
	fr  *http2.Framer
}

func (h *h2conn) write(d Dir) *h2write {
	w := &h2write{h: h, dir: d}
	w.fr = http2.NewFramer(&w.buf, nil)
	return w
}

// preface is the client's connection preface and SETTINGS, with the
// window update clients send at once.
func (w *h2write) preface(settings ...http2.Setting) *h2write {
	w.buf.WriteString(http2.ClientPreface)
	return w.settings(settings...).windowUpdate(0, 15663105)
}

func (w *h2write) settings(s ...http2.Setting) *h2write {
	_ = w.fr.WriteSettings(s...)
	return w
}

func (w *h2write) settingsAck() *h2write {
	_ = w.fr.WriteSettingsAck()
	return w
}

func (w *h2write) windowUpdate(stream, n uint32) *h2write {
	_ = w.fr.WriteWindowUpdate(stream, n)
	return w
}

// headers writes a HEADERS frame of name/value pairs; end ends the stream.
func (w *h2write) headers(stream uint32, end bool, kv ...string) *h2write {
	hb := &w.h.hb[w.dir]
	hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = w.h.enc[w.dir].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	_ = w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: bytes.Clone(hb.Bytes()), EndStream: end, EndHeaders: true})
	return w
}

func (w *h2write) data(stream uint32, end bool, b []byte) *h2write {
	_ = w.fr.WriteData(stream, end, b)
	return w
}

func (w *h2write) bytes() []byte { return w.buf.Bytes() }
