package gencap

import (
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	WSContinuation = 0
	WSText         = 1
	WSBinary       = 2
	WSClose        = 8
	WSPing         = 9
	WSPong         = 10
)

// WSMessage is one WebSocket message as a decoder must give it back: who
// sent it, its opcode and its whole (inflated, joined) payload.
type WSMessage struct {
	Send   bool
	Opcode int
	Data   []byte
}

// WSConn says what one generated WebSocket connection holds.
type WSConn struct {
	// Name says what the connection tests ("h1-deflate", ...).
	Name string
	// HTTP2 is set for an extended CONNECT (RFC 8441) over h2c; otherwise
	// the WebSocket follows an HTTP/1.1 upgrade.
	HTTP2 bool
	// Client is the client's address, which tells the connections apart.
	Client netip.AddrPort
	// Extensions is the server's Sec-WebSocket-Extensions ("": none).
	Extensions string
	// Messages in the order of their first frame; Frames counts the
	// WebSocket frames written (each fragment and control frame is one).
	Messages []WSMessage
	Frames   int
}

// WSIndicator is the advertising ID the client sends in every generated
// WebSocket, in messages 2 (text, compressed where negotiated, in three
// fragments with a ping between them), 5 (binary, in two fragments) and
// 6 (text, the same as message 2: with context takeover mostly a
// reference back into it). The server's message 1 echoes it.
const WSIndicator = "4f1c2a9e-7b3d-4e8a-9c61-0d5f3b2a7e14"

// WSFrame builds one WebSocket frame. A non-nil mask (4 bytes) masks the
// payload, as a client must.
func WSFrame(fin, rsv1 bool, op int, payload, mask []byte) []byte {
	b0 := byte(op & 0x0f)
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	out := []byte{b0}
	m := byte(0)
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, m|byte(n))
	case n < 1<<16:
		out = append(out, m|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask == nil {
		return append(out, payload...)
	}
	out = append(out, mask[:4]...)
	for i, c := range payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

// WSDeflater compresses the messages of one side as permessage-deflate
// does (RFC 7692 §7.2.1): a sync flush per message, its 00 00 ff ff tail
// removed, and the LZ77 window kept across messages unless NoContext (the
// side agreed to no context takeover).
type WSDeflater struct {
	NoContext bool
	buf       bytes.Buffer
	w         *flate.Writer
}

// Compress returns the payload of the next message b.
func (d *WSDeflater) Compress(b []byte) []byte {
	if d.w == nil || d.NoContext {
		d.w, _ = flate.NewWriter(&d.buf, flate.BestCompression)
	}
	d.buf.Reset()
	d.w.Write(b)
	d.w.Flush()
	out := bytes.Clone(d.buf.Bytes())
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
}

// wsStep is one message of the script: fragmented into frags frames,
// with a ping from the same side after the first fragment when ping is
// set, and compressed when the connection negotiated deflate and plain is
// not set.
type wsStep struct {
	send   bool
	op     int
	data   []byte
	frags  int
	ping   bool
	plain  bool
	splitH bool // HTTP/2: cut the first frame header across two DATA frames
}

// wsScript is what every generated WebSocket sends: text and binary
// messages both ways, fragments with a ping between them, a message
// repeated (a back reference with context takeover), 16- and 64-bit
// payload lengths, and the closing handshake.
func wsScript() []wsStep {
	ad := []byte(`{"event":"session_start","advertising_id":"` + WSIndicator + `","screen":"home","locale":"de_DE"}`)
	// A binary message that carries the ID among other bytes.
	bin := make([]byte, 600)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	copy(bin[100:], WSIndicator)
	var big strings.Builder
	for i := 0; big.Len() < 70000; i++ {
		fmt.Fprintf(&big, `{"item":%d,"title":"article %d","tags":["news","sport"]},`, i, i*31%997)
	}
	return []wsStep{
		{send: true, op: WSText, data: []byte("hello"), frags: 1},
		// The server echoes the ID: received, not sent by the app.
		{send: false, op: WSText, data: []byte(`{"welcome":true,"id":"` + WSIndicator + `"}`), frags: 1, plain: true},
		{send: true, op: WSText, data: ad, frags: 3, ping: true, splitH: true},
		{send: false, op: WSPong, data: []byte("keepalive")},
		{send: true, op: WSBinary, data: bin, frags: 2},
		{send: true, op: WSText, data: ad, frags: 1},
		{send: false, op: WSText, data: []byte(big.String()), frags: 1},
		{send: true, op: WSClose, data: []byte{0x03, 0xe8, 'b', 'y', 'e'}},
		{send: false, op: WSClose, data: []byte{0x03, 0xe8}},
	}
}

// wsSide builds the frames of one side.
type wsSide struct {
	send    bool
	deflate *WSDeflater // nil: no compression
	masks   int
}

func (s *wsSide) mask() []byte {
	if !s.send {
		return nil
	}
	s.masks++
	return []byte{byte(s.masks), 0x5a, byte(s.masks * 37), 0xa5}
}

// frames returns the frames of one step, how many there are, and the
// messages a decoder gives for it.
func (s *wsSide) frames(st wsStep) ([]byte, int, []WSMessage) {
	msgs := []WSMessage{{Send: st.send, Opcode: st.op, Data: st.data}}
	if st.op >= WSClose {
		return WSFrame(true, false, st.op, st.data, s.mask()), 1, msgs
	}
	payload, rsv1 := st.data, false
	if s.deflate != nil && !st.plain {
		payload, rsv1 = s.deflate.Compress(st.data), true
	}
	frags := max(st.frags, 1)
	var out []byte
	n := 0
	for i := range frags {
		part := payload[len(payload)*i/frags : len(payload)*(i+1)/frags]
		op := WSContinuation
		if i == 0 {
			op = st.op
		}
		out = append(out, WSFrame(i == frags-1, rsv1 && i == 0, op, part, s.mask())...)
		n++
		if i == 0 && st.ping {
			out = append(out, WSFrame(true, false, WSPing, []byte("keepalive"), s.mask())...)
			n++
			msgs = append(msgs, WSMessage{Send: st.send, Opcode: WSPing, Data: []byte("keepalive")})
		}
	}
	return out, n, msgs
}

// wsConfigs are the generated connections.
var wsConfigs = []struct {
	name       string
	http2      bool
	extensions string
}{
	{"h1-plain", false, ""},
	{"h1-deflate", false, "permessage-deflate"},
	{"h1-deflate-no-context", false, "permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
	{"h2-plain", true, ""},
	{"h2-deflate", true, "permessage-deflate"},
	{"h2-deflate-server-no-context", true, "permessage-deflate; server_no_context_takeover"},
}

// WriteWebSockets writes a capture of WebSocket connections, each running
// the same script: after an HTTP/1.1 upgrade and after an HTTP/2 extended
// CONNECT (h2c by prior knowledge, with an ordinary request on another
// stream in between), without compression, with permessage-deflate and
// context takeover, and without context takeover. It returns what each
// connection holds. The same call always writes the same bytes.
func WriteWebSockets(w io.Writer, f Format, start time.Time) ([]WSConn, error) {
	cw, err := NewConnWriter(w, f, start)
	if err != nil {
		return nil, err
	}
	cw.Step, cw.Latency = 200*time.Microsecond, 2*time.Millisecond
	var out []WSConn
	for i, cfg := range wsConfigs {
		wc := WSConn{
			Name:       cfg.name,
			HTTP2:      cfg.http2,
			Client:     netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)}), uint16(51000+i)),
			Extensions: cfg.extensions,
		}
		sides := [2]*wsSide{{send: true}, {send: false}}
		if ext := strings.ToLower(cfg.extensions); strings.HasPrefix(ext, "permessage-deflate") {
			sides[0].deflate = &WSDeflater{NoContext: strings.Contains(ext, "client_no_context_takeover")}
			sides[1].deflate = &WSDeflater{NoContext: strings.Contains(ext, "server_no_context_takeover")}
		}
		host := fmt.Sprintf("ws%d.example", i)
		c := Conn{Client: wc.Client, Server: netip.MustParseAddrPort("192.0.2.80:80"), ISN: [2]uint32{uint32(1000 * (i + 1)), uint32(900000 * (i + 1))}}
		var h2 *h2conn
		if cfg.http2 {
			h2 = newH2Conn()
			c.Wires = append(c.Wires, h2Handshake(h2, host, cfg.extensions)...)
		} else {
			c.Wires = append(c.Wires, h1Handshake(host, cfg.extensions, i)...)
		}
		script := wsScript()
		for j, st := range script {
			side := sides[0]
			dir := ClientToServer
			if !st.send {
				side, dir = sides[1], ServerToClient
			}
			b, n, msgs := side.frames(st)
			wc.Frames += n
			wc.Messages = append(wc.Messages, msgs...)
			if h2 != nil {
				b = h2WSData(h2, dir, b, st.splitH, j == len(script)-1 || j == len(script)-2)
			}
			c.Wires = append(c.Wires, Wire{Dir: dir, Data: b, Pause: time.Millisecond})
			if h2 != nil && j == 2 {
				// An ordinary request on stream 3 while the WebSocket is
				// open.
				c.Wires = append(c.Wires,
					Wire{Dir: ClientToServer, Data: h2.write(ClientToServer).headers(3, true, ":method", "GET", ":scheme", "http", ":authority", host, ":path", "/status").bytes()},
					Wire{Dir: ServerToClient, Data: h2.write(ServerToClient).headers(3, false, ":status", "200", "content-type", "text/plain").data(3, true, []byte("ok")).bytes()})
			}
		}
		if err := cw.WriteConn(c); err != nil {
			return nil, fmt.Errorf("gencap: WebSocket connection %s: %w", cfg.name, err)
		}
		out = append(out, wc)
	}
	return out, cw.Flush()
}

// h1Handshake is the HTTP/1.1 upgrade (RFC 6455 §4) offering
// permessage-deflate and the server's 101 with ext.
func h1Handshake(host, ext string, i int) []Wire {
	key := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("tracewire-key-%02d", i)))
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	req := "GET /socket?v=2 HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nUser-Agent: okhttp/4.12.0\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
	if ext != "" {
		resp += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	resp += "\r\n"
	return []Wire{{Dir: ClientToServer, Data: []byte(req)}, {Dir: ServerToClient, Data: []byte(resp)}}
}

// h2Handshake is an h2c connection (prior knowledge) whose server allows
// extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL) and accepts the
// client's CONNECT with :protocol websocket on stream 1 (RFC 8441 §4-5).
func h2Handshake(h *h2conn, host, ext string) []Wire {
	srv := h.write(ServerToClient).settings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
	cli := h.write(ClientToServer).preface(http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	ack := h.write(ClientToServer).settingsAck().headers(1, false,
		":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":authority", host, ":path", "/socket?v=2",
		"sec-websocket-version", "13", "sec-websocket-extensions", "permessage-deflate; client_max_window_bits", "user-agent", "okhttp/4.12.0")
	kv := []string{":status", "200"}
	if ext != "" {
		kv = append(kv, "sec-websocket-extensions", ext)
	}
	resp := h.write(ServerToClient).settingsAck().headers(1, false, kv...)
	return []Wire{
		{Dir: ClientToServer, Data: bytes.Clone(cli.bytes())},
		{Dir: ServerToClient, Data: bytes.Clone(srv.bytes())},
		{Dir: ClientToServer, Data: bytes.Clone(ack.bytes())},
		{Dir: ServerToClient, Data: bytes.Clone(resp.bytes())},
	}
}

// h2WSData carries WebSocket bytes in DATA frames of stream 1, at most
// 16384 bytes each (the default SETTINGS_MAX_FRAME_SIZE); splitHeader
// cuts the first WebSocket frame header across two DATA frames; end ends
// the stream (after the close frames).
func h2WSData(h *h2conn, d Dir, b []byte, splitHeader, end bool) []byte {
	w := h.write(d)
	if splitHeader && len(b) > 1 {
		w.data(1, false, b[:1])
		b = b[1:]
	}
	for len(b) > 16384 {
		w.data(1, false, b[:16384])
		b = b[16384:]
	}
	w.data(1, end, b)
	return bytes.Clone(w.bytes())
}
