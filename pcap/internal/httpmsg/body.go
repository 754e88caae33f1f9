package httpmsg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"unicode/utf8"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/decompress"
)

// contentEncoding joins every Content-Encoding header, in order.
func contentEncoding(hs []har.NameValue) string {
	var parts []string
	for _, h := range hs {
		if strings.EqualFold(h.Name, "Content-Encoding") {
			parts = append(parts, h.Value)
		}
	}
	return strings.Join(parts, ", ")
}

// decoded is the result of undoing a body's content encoding.
type decoded struct {
	body []byte
	// coding is the Content-Encoding that was undone, "" when none was.
	coding string
	// complete is false when the body is only a prefix of the decoded
	// body (cut off, or undecodable past some point).
	complete bool
	// note says what went wrong, for a comment.
	note string
}

// decodeBody undoes the Content-Encoding of m's body. A body that cannot
// be decoded is kept as sent and the note says why; a body whose encoded
// data ends early yields what could be decoded.
func decodeBody(m *Message, hs []har.NameValue, lim Limits) decoded {
	ce := contentEncoding(hs)
	if len(decompress.Codings(ce)) == 0 || len(m.Body) == 0 {
		return decoded{body: m.Body, complete: true}
	}
	out, err := decompress.Decode(ce, m.Body, lim.MaxDecoded)
	switch {
	case err == nil:
		return decoded{body: out, coding: ce, complete: true}
	case errors.Is(err, decompress.ErrTruncated) && len(out) > 0:
		return decoded{body: out, coding: ce, note: fmt.Sprintf("Content-Encoding %q: %v; the text is the %d bytes decoded before the data ended", ce, err, len(out))}
	default:
		return decoded{body: m.Body, complete: true, note: fmt.Sprintf("could not undo Content-Encoding %q: %v; the body is kept as sent", ce, err)}
	}
}

func truncNote(m *Message) string {
	if !m.Truncated {
		return ""
	}
	return fmt.Sprintf("body of %d bytes truncated to the first %d bytes (limit)", m.fullBodyLen(), len(m.Body))
}

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// content builds a response's content: the body decoded from its
// Content-Encoding, with size the decoded size and compression the bytes
// the encoding saved (HAR 1.2: size - compression = encoded size).
func content(m *Message, hs []har.NameValue, lim Limits) har.Content {
	ct, _ := har.Header(hs, "Content-Type")
	c := har.Content{MimeType: strings.TrimSpace(ct)}
	d := decodeBody(m, hs, lim)
	c.SetBody(d.body)
	switch {
	case d.coding != "" && d.complete && !m.Truncated:
		saved := c.Size - int64(len(m.Body))
		c.Compression = &saved
	case d.coding == "" && d.complete:
		// Not content-encoded: the size counts the dropped bytes too.
		c.Size = max(c.Size, m.fullBodyLen())
	}
	c.Comment = joinNotes(truncNote(m), d.note)
	return c
}

// postData builds a request's body: text decoded from its Content-Encoding
// (base64 when not UTF-8) and the params of urlencoded and multipart forms.
// A request without a body has none.
func postData(m *Message, hs []har.NameValue, lim Limits) *har.PostData {
	if len(m.Body) == 0 && m.fullBodyLen() == 0 {
		return nil
	}
	ct, _ := har.Header(hs, "Content-Type")
	p := &har.PostData{MimeType: strings.TrimSpace(ct)}
	d := decodeBody(m, hs, lim)
	p.SetBody(d.body)
	note := ""
	if d.coding != "" {
		note = fmt.Sprintf("decoded from Content-Encoding %q (%d bytes as sent)", d.coding, len(m.Body))
	}
	p.Comment = joinNotes(note, truncNote(m), d.note)
	p.Params = formParams(p.MimeType, d.body)
	return p
}

// formParams returns the fields of an application/x-www-form-urlencoded
// or multipart/form-data body, nil for other types.
func formParams(contentType string, body []byte) []har.Param {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		// Lenient fallback for odd parameter syntax.
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		// A form is text; bytes that are not UTF-8 are something else sent
		// with the wrong label (Android's HttpURLConnection labels every
		// POST a form), and params made of them would only mislead.
		if !utf8.Valid(body) {
			return nil
		}
		var out []har.Param
		for _, nv := range appendForm(nil, string(body)) {
			out = append(out, har.Param{Name: nv.Name, Value: nv.Value})
		}
		return out
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil
		}
		return multipartParams(body, params["boundary"])
	}
	return nil
}

// multipartParams lists the parts of a multipart body; a file or a part
// that is not UTF-8 text gets an empty value and a comment, its bytes are
// in postData.text. A body cut off yields the parts before the cut.
func multipartParams(body []byte, boundary string) []har.Param {
	var out []har.Param
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for len(out) < maxParams {
		part, err := mr.NextRawPart()
		if err != nil {
			break
		}
		data, err := io.ReadAll(part)
		p := har.Param{ContentType: textOf(part.Header.Get("Content-Type"))}
		if _, dp, derr := mime.ParseMediaType(part.Header.Get("Content-Disposition")); derr == nil {
			p.Name = textOf(dp["name"])
			p.FileName = textOf(dp["filename"])
		}
		switch {
		case p.FileName != "":
			// Files stay in postData.text only, so they are not held twice.
			p.Comment = fmt.Sprintf("file of %d bytes (see postData.text)", len(data))
		case utf8.Valid(data):
			p.Value = string(data)
		default:
			p.Comment = fmt.Sprintf("%d bytes of binary data (see postData.text)", len(data))
		}
		if err != nil {
			p.Comment = joinNotes(p.Comment, "part cut off: "+err.Error())
		}
		out = append(out, p)
		if err != nil {
			break
		}
	}
	return out
}
