package report

import (
	"encoding/base64"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

// An excerpt is part of a request as decoded, with the transmitted values
// marked: the lines holding a value, one line around each, "…" for what is
// left out.
type excerpt struct {
	// Context is the request context (header, body, ...); Decoded tells
	// the adapter's decoded form from the request as sent.
	Context string
	Decoded bool
	Lines   []excerptLine
	// Message is the WebSocket message the excerpt is from (context
	// "websocket"), nil for other contexts.
	Message *wsMessage
}

// wsMessage describes a message of "_webSocketMessages".
type wsMessage struct {
	// Index is the message's index in "_webSocketMessages", as the
	// finding's path names it.
	Index  int
	Send   bool
	Time   time.Time // zero when the message has none
	Opcode int
	// Binary says the payload is shown with non-printable bytes escaped.
	Binary bool
}

type excerptLine struct {
	// Gap marks left-out lines.
	Gap  bool
	Segs []segment
}

type segment struct {
	Text string
	Mark bool
}

// Limits of an excerpt.
const (
	excerptMaxLines = 60
	excerptLineLen  = 160
	excerptAround   = 1
	// excerptMaxText bounds the text an excerpt is cut from.
	excerptMaxText = 1 << 20
)

// span is a marked byte range of a text.
type span struct{ start, end int }

// printer writes decoded values as indented JSON and remembers where each
// value is, by its path in the adapters' notation ("batch[2].id").
type printer struct {
	b     strings.Builder
	spans map[string]span
}

func (p *printer) value(v any, loc []any, indent string) {
	start := p.b.Len()
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			p.b.WriteString("{}")
			break
		}
		p.b.WriteString("{\n")
		for i, k := range keys {
			p.b.WriteString(indent + "  ")
			kb, _ := json.Marshal(k)
			p.b.Write(kb)
			p.b.WriteString(": ")
			p.value(x[k], append(loc[:len(loc):len(loc)], k), indent+"  ")
			if i < len(keys)-1 {
				p.b.WriteByte(',')
			}
			p.b.WriteByte('\n')
		}
		p.b.WriteString(indent + "}")
	case []any:
		if len(x) == 0 {
			p.b.WriteString("[]")
			break
		}
		p.b.WriteString("[\n")
		for i, e := range x {
			p.b.WriteString(indent + "  ")
			p.value(e, append(loc[:len(loc):len(loc)], i), indent+"  ")
			if i < len(x)-1 {
				p.b.WriteByte(',')
			}
			p.b.WriteByte('\n')
		}
		p.b.WriteString(indent + "]")
	case string:
		sb, _ := json.Marshal(x)
		p.b.Write(sb)
		// Mark the string without its quotes.
		p.spans[adapters.FormatLoc(loc)] = span{start + 1, p.b.Len() - 1}
		return
	case []byte:
		if utf8.Valid(x) {
			p.value(string(x), loc, indent)
			return
		}
		p.b.WriteString(strconv.Quote(string(x)))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			p.b.WriteString("null")
		} else {
			p.b.WriteString(decode.Stringify(x))
		}
	default:
		p.b.WriteString(decode.Stringify(x))
	}
	p.spans[adapters.FormatLoc(loc)] = span{start, p.b.Len()}
}

// excerpts builds the excerpts of one request for its findings: for
// adapter findings the context as the adapter decoded it, with each value
// marked where its path points; for indicator findings the context as
// sent, with the matched text marked.
//
// Findings in WebSocket messages (context "websocket") get one excerpt per
// message, from the messages of e.
func excerpts(r *adapters.Request, e *har.Entry, fs []*match.Finding, db *adapters.DB) []excerpt {
	if r == nil {
		return nil
	}
	type key struct {
		ctx     string
		decoded bool
	}
	groups := map[key][]*match.Finding{}
	var decoded *adapters.Decoded
	for _, f := range fs {
		k := key{f.Context, false}
		if f.Source == match.SourceAdapter && db != nil {
			if decoded == nil {
				if a := db.Adapter(f.Adapter); a != nil {
					decoded = a.Decode(r)
				}
			}
			if decoded != nil {
				k.decoded = true
			}
		}
		groups[k] = append(groups[k], f)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.ctx != b.ctx {
			return contextRank(a.ctx) < contextRank(b.ctx)
		}
		return a.decoded && !b.decoded
	})
	var out []excerpt
	for _, k := range keys {
		if k.ctx == "websocket" && !k.decoded {
			out = append(out, wsExcerpts(e, groups[k])...)
			continue
		}
		var text string
		var marks []span
		if k.decoded {
			v, ok := decoded.Res[k.ctx]
			if !ok {
				continue
			}
			text, marks = decodedMarks(v, groups[k])
		} else {
			text = rawContext(r, k.ctx)
			marks = textMarks(text, groups[k])
		}
		if len(marks) == 0 || text == "" {
			continue
		}
		out = append(out, excerpt{Context: k.ctx, Decoded: k.decoded, Lines: cutExcerpt(text, marks)})
	}
	return out
}

func contextRank(c string) int {
	for i, x := range adapters.Contexts {
		if x == c {
			return i
		}
	}
	return len(adapters.Contexts)
}

// decodedMarks prints a decoded context and marks the findings' paths.
func decodedMarks(v any, fs []*match.Finding) (string, []span) {
	if s, ok := v.(string); ok {
		if len(s) > excerptMaxText {
			s = s[:excerptMaxText]
		}
		return s, textMarks(s, fs)
	}
	p := &printer{spans: map[string]span{}}
	p.value(v, nil, "")
	text := p.b.String()
	var marks []span
	for _, f := range fs {
		if sp, ok := p.spans[f.Path]; ok && sp.end > sp.start {
			marks = append(marks, sp)
			continue
		}
		// A path the printer does not know (a key with odd characters):
		// fall back to the value's text.
		marks = append(marks, textMarks(text, []*match.Finding{f})...)
	}
	if len(text) > excerptMaxText {
		text = text[:excerptMaxText]
	}
	return text, marks
}

// textMarks marks every occurrence of the findings' values, as they
// appear in the text, as whole words where the value begins or ends with
// a letter or digit (so "8" does not mark every 8 in a timestamp).
func textMarks(text string, fs []*match.Finding) []span {
	var marks []span
	for _, f := range fs {
		needles := []string{f.Value}
		if jb, err := json.Marshal(f.Value); err == nil {
			if j := string(jb[1 : len(jb)-1]); j != f.Value {
				needles = append(needles, j)
			}
		}
		for _, n := range needles {
			if n == "" {
				continue
			}
			for off := 0; off < len(text); {
				i := strings.Index(text[off:], n)
				if i < 0 {
					break
				}
				s, e := off+i, off+i+len(n)
				if wordEdge(text, s, n, true) && wordEdge(text, e, n, false) {
					marks = append(marks, span{s, e})
				}
				off = s + 1
			}
		}
	}
	return marks
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// wordEdge reports whether position i of text is a word boundary for the
// needle n (checked only when n starts, or ends, with an alphanumeric).
func wordEdge(text string, i int, n string, start bool) bool {
	if start {
		if !isAlnum(n[0]) || i == 0 {
			return true
		}
		return !isAlnum(text[i-1])
	}
	if !isAlnum(n[len(n)-1]) || i >= len(text) {
		return true
	}
	return !isAlnum(text[i])
}

// rawContext returns a context of the request as sent, one item a line.
func rawContext(r *adapters.Request, ctx string) string {
	var b strings.Builder
	switch ctx {
	case "header":
		for _, h := range r.Headers {
			b.WriteString(h.Name + ": " + h.Value + "\n")
		}
	case "cookie":
		for _, c := range r.Cookies {
			b.WriteString(c.Name + "=" + c.Value + "\n")
		}
	case "path":
		b.WriteString(r.Path)
	case "query":
		b.WriteString(strings.ReplaceAll(r.Query, "&", "&\n"))
	case "body":
		if !utf8.Valid(r.Body) {
			return ""
		}
		body := r.Body
		if len(body) > excerptMaxText {
			body = body[:excerptMaxText]
		}
		return string(body)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// cutExcerpt splits text into lines, keeps the marked ones with
// excerptAround lines around them, and shortens long lines to windows
// around their marks.
func cutExcerpt(text string, marks []span) []excerptLine {
	sort.Slice(marks, func(i, j int) bool {
		if marks[i].start != marks[j].start {
			return marks[i].start < marks[j].start
		}
		return marks[i].end > marks[j].end
	})
	// Merge overlapping marks.
	var ms []span
	for _, m := range marks {
		if n := len(ms); n > 0 && m.start <= ms[n-1].end {
			if m.end > ms[n-1].end {
				ms[n-1].end = m.end
			}
			continue
		}
		ms = append(ms, m)
	}
	type line struct{ start, end int }
	var lines []line
	for s := 0; s <= len(text); {
		e := strings.IndexByte(text[s:], '\n')
		if e < 0 {
			lines = append(lines, line{s, len(text)})
			break
		}
		lines = append(lines, line{s, s + e})
		s += e + 1
	}
	keep := make([]bool, len(lines))
	marked := make([]bool, len(lines))
	li := 0
	for _, m := range ms {
		for li < len(lines) && lines[li].end < m.start {
			li++
		}
		for j := li; j < len(lines) && lines[j].start < m.end; j++ {
			marked[j] = true
		}
	}
	for i, mk := range marked {
		if !mk {
			continue
		}
		for j := max(0, i-excerptAround); j <= min(len(lines)-1, i+excerptAround); j++ {
			keep[j] = true
		}
	}
	var out []excerptLine
	gap := false
	kept := 0
	for i, ln := range lines {
		if !keep[i] {
			gap = true
			continue
		}
		if kept == excerptMaxLines {
			out = append(out, excerptLine{Gap: true})
			return out
		}
		if gap {
			out = append(out, excerptLine{Gap: true})
		}
		gap = false
		kept++
		out = append(out, excerptLine{Segs: lineSegments(text, ln.start, ln.end, ms)})
	}
	if gap {
		out = append(out, excerptLine{Gap: true})
	}
	return out
}

// lineSegments cuts text[start:end] into marked and unmarked segments; a
// long line is shortened to windows around its marks.
func lineSegments(text string, start, end int, ms []span) []segment {
	var segs []segment
	pos := start
	add := func(s, e int, mark bool) {
		if e > s {
			segs = append(segs, segment{Text: text[s:e], Mark: mark})
		}
	}
	for _, m := range ms {
		if m.end <= start || m.start >= end {
			continue
		}
		s, e := max(m.start, start), min(m.end, end)
		add(pos, s, false)
		add(s, e, true)
		pos = e
	}
	add(pos, end, false)
	if end-start <= excerptLineLen {
		return segs
	}
	// Shorten: unmarked segments keep a little context on each side of a
	// mark; marked ones are kept whole up to a limit.
	const keepAround = 40
	for i := range segs {
		s := &segs[i]
		if s.Mark {
			s.Text = clipBytes(s.Text, excerptLineLen, false)
			continue
		}
		first, last := i == 0, i == len(segs)-1
		switch {
		case first && last:
			s.Text = clipBytes(s.Text, excerptLineLen, false)
		case first:
			s.Text = clipBytes(s.Text, keepAround, true)
		case last:
			s.Text = clipBytes(s.Text, keepAround, false)
		case len(s.Text) > 2*keepAround+1:
			s.Text = validUTF8Prefix(s.Text[:keepAround]) + "…" + validUTF8Suffix(s.Text[len(s.Text)-keepAround:])
		}
	}
	return segs
}

// clipBytes keeps n bytes of s, at the end (fromEnd) or the start.
func clipBytes(s string, n int, fromEnd bool) string {
	if len(s) <= n {
		return s
	}
	if fromEnd {
		return "…" + validUTF8Suffix(s[len(s)-n:])
	}
	return validUTF8Prefix(s[:n]) + "…"
}

func validUTF8Prefix(s string) string {
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func validUTF8Suffix(s string) string {
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[1:]
	}
	return s
}

// wsExcerpts cuts an excerpt from each WebSocket message that findings
// point at (path "_webSocketMessages[i]"), in message order: the payload
// as sent (inflated and unmasked), text as it is, other payloads on one
// line with the bytes that are not printable ASCII escaped as \xNN.
func wsExcerpts(e *har.Entry, fs []*match.Finding) []excerpt {
	if e == nil {
		return nil
	}
	msgs, _ := e.Extra["_webSocketMessages"].([]any)
	byMsg := map[int][]*match.Finding{}
	for _, f := range fs {
		in, ok := strings.CutPrefix(f.Path, "_webSocketMessages[")
		in, ok2 := strings.CutSuffix(in, "]")
		i, err := strconv.Atoi(in)
		if !ok || !ok2 || err != nil || i < 0 || i >= len(msgs) {
			continue
		}
		byMsg[i] = append(byMsg[i], f)
	}
	idx := make([]int, 0, len(byMsg))
	for i := range byMsg {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var out []excerpt
	for _, i := range idx {
		o, _ := msgs[i].(map[string]any)
		if o == nil {
			continue
		}
		m := &wsMessage{Index: i, Send: o["type"] == "send"}
		m.Opcode, _ = jsonInt(o["opcode"])
		if t, ok := jsonFloat(o["time"]); ok && t > 0 {
			m.Time = har.TimeOf(t)
		}
		data, _ := o["data"].(string)
		text := data
		var pos []int // where each payload byte is in text, for binary payloads
		if enc, _ := o["_encoding"].(string); m.Opcode != 1 || enc == "base64" {
			b, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				continue
			}
			text = string(b)
			if m.Opcode != 1 || !utf8.Valid(b) {
				m.Binary = true
			}
		}
		if len(text) > excerptMaxText {
			text = text[:excerptMaxText]
		}
		if !m.Binary {
			text = validUTF8Prefix(text)
		}
		// Values are found in the payload as sent; a binary payload is
		// then shown escaped, with the marks moved along.
		marks := textMarks(text, byMsg[i])
		if m.Binary {
			text, pos = escapeBinary([]byte(text))
			for j := range marks {
				marks[j] = span{pos[marks[j].start], pos[marks[j].end]}
			}
		}
		if len(marks) == 0 || text == "" {
			continue
		}
		out = append(out, excerpt{Context: "websocket", Lines: cutExcerpt(text, marks), Message: m})
	}
	return out
}

// escapeBinary shows bytes as one line of text: printable ASCII as it is,
// a backslash doubled, every other byte as \xNN. pos[i] is where byte i
// begins in the text, pos[len(b)] the text's length.
func escapeBinary(b []byte) (string, []int) {
	const hex = "0123456789abcdef"
	var s strings.Builder
	pos := make([]int, 0, len(b)+1)
	for _, c := range b {
		pos = append(pos, s.Len())
		switch {
		case c == '\\':
			s.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			s.WriteString(`\x`)
			s.WriteByte(hex[c>>4])
			s.WriteByte(hex[c&15])
		}
	}
	return s.String(), append(pos, s.Len())
}

// jsonFloat and jsonInt read a number of a HAR extension as decoded into
// any: by the HAR reader (float64 or json.Number) or as the converter
// built it (int, int64, float64).
func jsonFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func jsonInt(v any) (int, bool) {
	f, ok := jsonFloat(v)
	return int(f), ok && f == math.Trunc(f)
}
