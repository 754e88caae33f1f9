package har

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the HAR version tracewire writes.
const Version = "1.2"

// HAR is the top-level object of a HAR file.
type HAR struct {
	Log Log `json:"log"`
}

// Log is the HAR log object. When a HAR is read with Reader, Entries stays
// empty: entries are handed out one by one instead.
type Log struct {
	Version string   `json:"version"`
	Creator Creator  `json:"creator"`
	Browser *Creator `json:"browser,omitzero"`
	Pages   []Page   `json:"pages,omitempty"`
	Entries []Entry  `json:"-"`
	Comment string   `json:"comment,omitempty"`
	// Extra holds every other property of the log, tracewire's own
	// (_tlsErrors, _warnings, ...) and those of other tools.
	Extra Extra `json:",embed"`
}

// Creator describes the application (or browser) that made the log.
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Comment string `json:"comment,omitempty"`
}

// Page is a HAR page.
type Page struct {
	StartedDateTime time.Time   `json:"startedDateTime"`
	ID              string      `json:"id"`
	Title           string      `json:"title"`
	PageTimings     PageTimings `json:"pageTimings"`
	Comment         string      `json:"comment,omitempty"`
	Extra           Extra       `json:",embed"`
}

// PageTimings are the page-level timings in milliseconds; -1 means unknown.
type PageTimings struct {
	OnContentLoad float64 `json:"onContentLoad"`
	OnLoad        float64 `json:"onLoad"`
	Comment       string  `json:"comment,omitempty"`
}

// Entry is one HTTP exchange.
type Entry struct {
	Pageref         string    `json:"pageref,omitempty"`
	StartedDateTime time.Time `json:"startedDateTime"`
	// Time is the total time of the exchange in milliseconds.
	Time            float64  `json:"time"`
	Request         Request  `json:"request"`
	Response        Response `json:"response"`
	Cache           Cache    `json:"cache"`
	Timings         Timings  `json:"timings"`
	ServerIPAddress string   `json:"serverIPAddress,omitempty"`
	Connection      string   `json:"connection,omitempty"`
	Comment         string   `json:"comment,omitempty"`

	// CommunityID is the Community ID (v1) of the flow that carried the
	// exchange (_communityId).
	CommunityID string `json:"_communityId,omitempty"`
	// ClientAddress and ServerAddress are the connection's endpoints as
	// address:port (_clientAddress, _serverAddress), and TLSServerName the
	// server name the client asked for in its TLS handshake
	// (_tlsServerName): with them a reader finds the exchange's packets in
	// the capture. Conversion sets them.
	ClientAddress string `json:"_clientAddress,omitempty"`
	ServerAddress string `json:"_serverAddress,omitempty"`
	TLSServerName string `json:"_tlsServerName,omitempty"`
	// Timestamp is the capture time of the request's first byte in seconds
	// since the epoch (_timestamp); 0 when unknown.
	Timestamp float64 `json:"_timestamp,omitzero"`
	// Incomplete marks an exchange rebuilt across a gap in the capture or cut
	// off by the end of it (_incomplete).
	Incomplete bool `json:"_incomplete,omitzero"`
	// Extra holds all other properties.
	Extra Extra `json:",embed"`
}

// Request is a HAR request.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []Cookie    `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	QueryString []NameValue `json:"queryString"`
	PostData    *PostData   `json:"postData,omitzero"`
	// HeadersSize is the size of the request line and headers as on the
	// wire, -1 when unknown.
	HeadersSize int64 `json:"headersSize"`
	// BodySize is the size of the body as on the wire, -1 when unknown.
	BodySize int64  `json:"bodySize"`
	Comment  string `json:"comment,omitempty"`
	// Timestamp is the capture time of the first byte (_timestamp).
	Timestamp float64 `json:"_timestamp,omitzero"`
	Extra     Extra   `json:",embed"`
}

// Response is a HAR response. A request that got no response has Status 0,
// as browsers export it.
type Response struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []Cookie    `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	Content     Content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`
	// Timestamp is the capture time of the first byte (_timestamp).
	Timestamp float64 `json:"_timestamp,omitzero"`
	Extra     Extra   `json:",embed"`
}

// NameValue is a header or a query string parameter.
type NameValue struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Comment string `json:"comment,omitempty"`
}

// Cookie is a request or response cookie.
type Cookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Expires  string `json:"expires,omitempty"`
	HTTPOnly *bool  `json:"httpOnly,omitzero"`
	Secure   *bool  `json:"secure,omitzero"`
	Comment  string `json:"comment,omitempty"`
}

// PostData is a request body. Text holds the body; when Encoding is
// "base64" (an extension of HAR 1.2, as for Content) Text is the base64 of
// bytes that are not UTF-8.
type PostData struct {
	MimeType string  `json:"mimeType"`
	Params   []Param `json:"params,omitempty"`
	Text     string  `json:"text"`
	Encoding string  `json:"encoding,omitempty"`
	Comment  string  `json:"comment,omitempty"`
	Extra    Extra   `json:",embed"`
}

// Param is a posted parameter (urlencoded or multipart form field).
type Param struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	FileName    string `json:"fileName,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

// Content is a response body, decoded from its Content-Encoding.
type Content struct {
	// Size is the length of the decoded body in bytes.
	Size int64 `json:"size"`
	// Compression is the number of bytes saved by the content encoding;
	// nil when unknown.
	Compression *int64 `json:"compression,omitzero"`
	MimeType    string `json:"mimeType"`
	Text        string `json:"text,omitempty"`
	Encoding    string `json:"encoding,omitempty"`
	Comment     string `json:"comment,omitempty"`
	Extra       Extra  `json:",embed"`
}

// Cache holds cache information; tracewire keeps what it reads and writes
// an empty object otherwise.
type Cache struct {
	BeforeRequest any    `json:"beforeRequest,omitzero"`
	AfterRequest  any    `json:"afterRequest,omitzero"`
	Comment       string `json:"comment,omitempty"`
}

// Timings of an entry in milliseconds. Blocked, DNS, Connect and SSL are -1
// when they do not apply.
type Timings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
	Comment string  `json:"comment,omitempty"`
}

// NoTimings are timings with every optional phase unknown.
var NoTimings = Timings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1}

// Extra maps property names to values for properties the typed fields do not
// cover. Values are anything encoding/json can marshal; values read from a
// file are the generic form (map[string]any, []any, string, int64, float64,
// bool, nil).
type Extra map[string]any

// Set stores v under key, creating the map when needed.
func (x *Extra) Set(key string, v any) {
	if *x == nil {
		*x = Extra{}
	}
	(*x)[key] = v
}

// Body returns the bytes of the post data, decoding base64 when Encoding
// says so.
func (p *PostData) Body() ([]byte, error) {
	return bodyBytes(p.Text, p.Encoding)
}

// SetBody stores b as text, or as base64 when it is not valid UTF-8.
func (p *PostData) SetBody(b []byte) {
	p.Text, p.Encoding = bodyText(b)
}

// Body returns the bytes of the content, decoding base64 when Encoding says
// so.
func (c *Content) Body() ([]byte, error) {
	return bodyBytes(c.Text, c.Encoding)
}

// SetBody stores b as text, or as base64 when it is not valid UTF-8, and
// sets Size.
func (c *Content) SetBody(b []byte) {
	c.Text, c.Encoding = bodyText(b)
	c.Size = int64(len(b))
}

func bodyText(b []byte) (text, encoding string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

func bodyBytes(text, encoding string) ([]byte, error) {
	if strings.EqualFold(encoding, "base64") {
		// Exporters disagree on padding and line breaks; accept both.
		s := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' {
				return -1
			}
			return r
		}, text)
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return b, nil
		}
		return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return []byte(text), nil
}

// Header returns the value of the first header whose name matches name case
// insensitively, and whether there was one.
func Header(headers []NameValue, name string) (string, bool) {
	for _, h := range headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// TimeOf converts a _timestamp value (seconds) to a time.
func TimeOf(ts float64) time.Time {
	sec := int64(ts)
	return time.Unix(sec, int64((ts-float64(sec))*1e9)).UTC()
}

// Seconds converts t to the _timestamp representation.
func Seconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
