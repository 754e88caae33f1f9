package http2

import (
	"strings"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/websocket"
)

// wsStream is the WebSocket carried by an extended CONNECT stream (RFC
// 8441): the DATA frames of both directions are WebSocket frames.
type wsStream struct {
	p        stream.Parser
	msgs     []websocket.Message
	warnings []string
}

// isWebSocketConnect reports whether a request is an extended CONNECT for
// a WebSocket: ":method" CONNECT with ":protocol" websocket. The server's
// SETTINGS_ENABLE_CONNECT_PROTOCOL is not required: the capture may have
// begun after it, and the 2xx answer says the server accepted.
func isWebSocketConnect(m *httpmsg.Message) bool {
	if m.Method != "CONNECT" {
		return false
	}
	proto, ok := har.Header(m.Headers, ":protocol")
	return ok && strings.EqualFold(strings.TrimSpace(proto), "websocket")
}

// startWebSocket begins decoding s's DATA frames as WebSocket frames once
// the server accepted the extended CONNECT. DATA the client sent before
// the answer (it may send optimistically) is decoded first.
func (p *parser) startWebSocket(s *h2stream) {
	rq, rs := &s.half[request], &s.half[response]
	if s.ws != nil || !rq.headers || rs.msg.Status < 200 || rs.msg.Status > 299 || !isWebSocketConnect(&rq.msg) {
		return
	}
	ws := &wsStream{}
	ws.p = websocket.New(websocket.ConfigFrom(rs.msg.Headers), func(msgs []websocket.Message, warnings []string) {
		ws.msgs, ws.warnings = msgs, warnings
	})
	s.ws = ws
	if m := &rq.msg; len(m.Body) > 0 || m.BodySize > 0 {
		if m.Truncated {
			ws.p.Feed(&stream.Chunk{Dir: stream.ClientToServer, Skip: -1, Time: m.End})
		} else {
			ws.p.Feed(&stream.Chunk{Dir: stream.ClientToServer, Data: m.Body, Time: m.Start})
		}
		m.Body, m.BodySize, m.BodyLen, m.Truncated = nil, 0, 0, false
	}
}

// wsGap tells the WebSocket decoders of the streams still open in role r
// that bytes of that direction were lost: a lost DATA frame of theirs would
// leave a hole in their frames, and which streams lost one is unknown.
func (p *parser) wsGap(r role) {
	for _, s := range p.streams {
		if s.ws != nil && !s.half[r].ended {
			s.ws.p.Feed(&stream.Chunk{Dir: stream.Dir(r), Skip: -1, Time: p.lastTime})
		}
	}
}

// endWebSocket ends the decoding of s's WebSocket and puts its messages on
// the entry, marking it incomplete when a message was cut or could not be
// decoded; warnings go on the response.
func (p *parser) endWebSocket(s *h2stream, resp *httpmsg.Message) {
	ws := s.ws
	why := stream.EndFIN
	if !s.half[request].ended || !s.half[response].ended {
		why = stream.EndCapture
	}
	ws.p.End(p.lastTime, why)
	if len(ws.warnings) > 0 && resp != nil {
		resp.Extra.Set("_warnings", append([]string(nil), ws.warnings...))
	}
}

// entry sets the messages of s's WebSocket on e.
func (ws *wsStream) entry(e *har.Entry) {
	e.Extra.Set("_webSocketMessages", websocket.HAR(ws.msgs))
	for _, m := range ws.msgs {
		if m.Truncated || m.Broken != "" {
			e.Incomplete = true
		}
	}
}
