package har

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// conv turns the generic form of parsed JSON into the typed HAR structs,
// leniently: a value of the wrong type is converted when that is
// unambiguous (a number in a string) and otherwise left at its zero value,
// each time with a warning.
type conv struct {
	idx  int
	warn func(entry int, path, msg string)
}

func (c conv) w(path, format string, a ...any) {
	c.warn(c.idx, path, fmt.Sprintf(format, a...))
}

func (c conv) logProperty(l *Log, k string, v any) {
	c.sorted(func(c conv) { c.logPropertyUnsorted(l, k, v) })
}

func (c conv) logPropertyUnsorted(l *Log, k string, v any) {
	switch k {
	case "version":
		l.Version = c.str("version", v)
	case "creator":
		l.Creator = c.creator("creator", v)
	case "browser":
		if v != nil {
			b := c.creator("browser", v)
			l.Browser = &b
		}
	case "pages":
		for i, p := range c.arr("pages", v) {
			path := fmt.Sprintf("pages[%d]", i)
			if m := c.obj(path, p); m != nil {
				l.Pages = append(l.Pages, c.page(path, m))
			}
		}
	case "comment":
		l.Comment = c.str("comment", v)
	default:
		l.Extra.Set(k, v)
	}
}

func (c conv) creator(path string, v any) Creator {
	var cr Creator
	for k, x := range c.obj(path, v) {
		switch k {
		case "name":
			cr.Name = c.str(path+".name", x)
		case "version":
			cr.Version = c.str(path+".version", x)
		case "comment":
			cr.Comment = c.str(path+".comment", x)
		}
	}
	return cr
}

func (c conv) page(path string, m map[string]any) Page {
	var p Page
	p.PageTimings = PageTimings{OnContentLoad: -1, OnLoad: -1}
	for k, x := range m {
		switch k {
		case "startedDateTime":
			p.StartedDateTime = c.time(path+"."+k, x)
		case "id":
			p.ID = c.str(path+"."+k, x)
		case "title":
			p.Title = c.str(path+"."+k, x)
		case "pageTimings":
			for tk, tv := range c.obj(path+"."+k, x) {
				switch tk {
				case "onContentLoad":
					p.PageTimings.OnContentLoad = c.num(path+".pageTimings."+tk, tv, -1)
				case "onLoad":
					p.PageTimings.OnLoad = c.num(path+".pageTimings."+tk, tv, -1)
				case "comment":
					p.PageTimings.Comment = c.str(path+".pageTimings."+tk, tv)
				}
			}
		case "comment":
			p.Comment = c.str(path+"."+k, x)
		default:
			p.Extra.Set(k, x)
		}
	}
	return p
}

// sorted runs f with c's warnings collected and then passed on in path
// order: the conversion walks Go maps, whose order changes from run to run,
// and the same input must give the same output.
func (c conv) sorted(f func(c conv)) {
	type warning struct{ path, msg string }
	var ws []warning
	inner := c
	inner.warn = func(_ int, path, msg string) { ws = append(ws, warning{path, msg}) }
	f(inner)
	sort.SliceStable(ws, func(i, j int) bool {
		if ws[i].path != ws[j].path {
			return ws[i].path < ws[j].path
		}
		return ws[i].msg < ws[j].msg
	})
	for _, w := range ws {
		c.warn(c.idx, w.path, w.msg)
	}
}

func (c conv) entry(m map[string]any) (e *Entry) {
	c.sorted(func(c conv) { e = c.entryUnsorted(m) })
	return e
}

func (c conv) entryUnsorted(m map[string]any) *Entry {
	e := &Entry{Timings: NoTimings}
	e.Request.HeadersSize, e.Request.BodySize = -1, -1
	e.Response.HeadersSize, e.Response.BodySize = -1, -1
	for k, x := range m {
		switch k {
		case "pageref":
			e.Pageref = c.str(k, x)
		case "startedDateTime":
			e.StartedDateTime = c.time(k, x)
		case "time":
			e.Time = c.num(k, x, 0)
		case "request":
			c.request(&e.Request, c.obj(k, x))
		case "response":
			c.response(&e.Response, c.obj(k, x))
		case "cache":
			for ck, cv := range c.obj(k, x) {
				switch ck {
				case "beforeRequest":
					e.Cache.BeforeRequest = cv
				case "afterRequest":
					e.Cache.AfterRequest = cv
				case "comment":
					e.Cache.Comment = c.str("cache.comment", cv)
				}
			}
		case "timings":
			c.timings(&e.Timings, c.obj(k, x))
		case "serverIPAddress":
			// Some exporters write IPv6 addresses in brackets.
			e.ServerIPAddress = strings.Trim(c.str(k, x), "[]")
		case "connection":
			e.Connection = c.str(k, x)
		case "comment":
			e.Comment = c.str(k, x)
		case "_communityId":
			e.CommunityID = c.str(k, x)
		case "_timestamp":
			e.Timestamp = c.num(k, x, 0)
		case "_incomplete":
			b, _ := x.(bool)
			e.Incomplete = b
		default:
			e.Extra.Set(k, x)
		}
	}
	return e
}

func (c conv) request(r *Request, m map[string]any) {
	for k, x := range m {
		p := "request." + k
		switch k {
		case "method":
			r.Method = c.str(p, x)
		case "url":
			r.URL = c.str(p, x)
		case "httpVersion":
			r.HTTPVersion = c.str(p, x)
		case "cookies":
			r.Cookies = c.cookies(p, x)
		case "headers":
			r.Headers = c.nameValues(p, x)
		case "queryString":
			r.QueryString = c.nameValues(p, x)
		case "postData":
			if x != nil {
				r.PostData = c.postData(p, c.obj(p, x))
			}
		case "headersSize":
			r.HeadersSize = c.int(p, x, -1)
		case "bodySize":
			r.BodySize = c.int(p, x, -1)
		case "comment":
			r.Comment = c.str(p, x)
		case "_timestamp":
			r.Timestamp = c.num(p, x, 0)
		default:
			r.Extra.Set(k, x)
		}
	}
}

func (c conv) response(r *Response, m map[string]any) {
	for k, x := range m {
		p := "response." + k
		switch k {
		case "status":
			r.Status = int(c.int(p, x, 0))
		case "statusText":
			r.StatusText = c.str(p, x)
		case "httpVersion":
			r.HTTPVersion = c.str(p, x)
		case "cookies":
			r.Cookies = c.cookies(p, x)
		case "headers":
			r.Headers = c.nameValues(p, x)
		case "content":
			c.content(&r.Content, p, c.obj(p, x))
		case "redirectURL":
			r.RedirectURL = c.str(p, x)
		case "headersSize":
			r.HeadersSize = c.int(p, x, -1)
		case "bodySize":
			r.BodySize = c.int(p, x, -1)
		case "comment":
			r.Comment = c.str(p, x)
		case "_timestamp":
			r.Timestamp = c.num(p, x, 0)
		default:
			r.Extra.Set(k, x)
		}
	}
}

func (c conv) content(ct *Content, path string, m map[string]any) {
	for k, x := range m {
		p := path + "." + k
		switch k {
		case "size":
			ct.Size = c.int(p, x, 0)
		case "compression":
			if x != nil {
				n := c.int(p, x, 0)
				ct.Compression = &n
			}
		case "mimeType":
			ct.MimeType = c.str(p, x)
		case "text":
			ct.Text = c.str(p, x)
		case "encoding":
			ct.Encoding = c.str(p, x)
		case "comment":
			ct.Comment = c.str(p, x)
		default:
			ct.Extra.Set(k, x)
		}
	}
}

func (c conv) postData(path string, m map[string]any) *PostData {
	pd := &PostData{}
	for k, x := range m {
		p := path + "." + k
		switch k {
		case "mimeType":
			pd.MimeType = c.str(p, x)
		case "text":
			pd.Text = c.str(p, x)
		case "encoding", "_encoding":
			pd.Encoding = c.str(p, x)
		case "comment":
			pd.Comment = c.str(p, x)
		case "params":
			for i, it := range c.arr(p, x) {
				ip := fmt.Sprintf("%s[%d]", p, i)
				var q Param
				for pk, pv := range c.obj(ip, it) {
					switch pk {
					case "name":
						q.Name = c.str(ip+".name", pv)
					case "value":
						q.Value = c.str(ip+".value", pv)
					case "fileName":
						q.FileName = c.str(ip+".fileName", pv)
					case "contentType":
						q.ContentType = c.str(ip+".contentType", pv)
					case "comment":
						q.Comment = c.str(ip+".comment", pv)
					}
				}
				pd.Params = append(pd.Params, q)
			}
		default:
			pd.Extra.Set(k, x)
		}
	}
	return pd
}

func (c conv) timings(t *Timings, m map[string]any) {
	for k, x := range m {
		p := "timings." + k
		switch k {
		case "blocked":
			t.Blocked = c.num(p, x, -1)
		case "dns":
			t.DNS = c.num(p, x, -1)
		case "connect":
			t.Connect = c.num(p, x, -1)
		case "send":
			t.Send = c.num(p, x, 0)
		case "wait":
			t.Wait = c.num(p, x, 0)
		case "receive":
			t.Receive = c.num(p, x, 0)
		case "ssl":
			t.SSL = c.num(p, x, -1)
		case "comment":
			t.Comment = c.str(p, x)
		}
	}
}

func (c conv) nameValues(path string, v any) []NameValue {
	arr := c.arr(path, v)
	out := make([]NameValue, 0, len(arr))
	for i, it := range arr {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var nv NameValue
		for k, x := range c.obj(ip, it) {
			switch k {
			case "name":
				nv.Name = c.str(ip+".name", x)
			case "value":
				nv.Value = c.str(ip+".value", x)
			case "comment":
				nv.Comment = c.str(ip+".comment", x)
			}
		}
		out = append(out, nv)
	}
	return out
}

func (c conv) cookies(path string, v any) []Cookie {
	arr := c.arr(path, v)
	out := make([]Cookie, 0, len(arr))
	for i, it := range arr {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var ck Cookie
		for k, x := range c.obj(ip, it) {
			switch k {
			case "name":
				ck.Name = c.str(ip+".name", x)
			case "value":
				ck.Value = c.str(ip+".value", x)
			case "path":
				ck.Path = c.str(ip+".path", x)
			case "domain":
				ck.Domain = c.str(ip+".domain", x)
			case "expires":
				ck.Expires = c.str(ip+".expires", x)
			case "httpOnly":
				if b, ok := x.(bool); ok {
					ck.HTTPOnly = &b
				}
			case "secure":
				if b, ok := x.(bool); ok {
					ck.Secure = &b
				}
			case "comment":
				ck.Comment = c.str(ip+".comment", x)
			}
		}
		out = append(out, ck)
	}
	return out
}

func (c conv) obj(path string, v any) map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return t
	case nil:
		return nil
	}
	c.w(path, "expected an object, found %s", typeName(v))
	return nil
}

func (c conv) arr(path string, v any) []any {
	switch t := v.(type) {
	case []any:
		return t
	case nil:
		return nil
	}
	c.w(path, "expected an array, found %s", typeName(v))
	return nil
}

func (c conv) str(path string, v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return string(t)
	}
	c.w(path, "expected a string, found %s", typeName(v))
	return ""
}

func (c conv) num(path string, v any, def float64) float64 {
	switch t := v.(type) {
	case int64:
		return float64(t)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return def
		}
		return t
	case json.Number:
		if f, err := t.Float64(); err == nil {
			return f
		}
	case nil:
		return def
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(t), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			c.w(path, "number written as a string")
			return f
		}
	}
	c.w(path, "expected a number, found %s", typeName(v))
	return def
}

func (c conv) int(path string, v any, def int64) int64 {
	if i, ok := v.(int64); ok {
		return i
	}
	f := c.num(path, v, float64(def))
	if f > math.MaxInt64 || f < math.MinInt64 {
		return def
	}
	return int64(f)
}

// timeLayouts are the forms of startedDateTime seen in real exports.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

func (c conv) time(path string, v any) time.Time {
	s := c.str(path, v)
	if s == "" {
		if v != nil {
			c.w(path, "empty date")
		}
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	c.w(path, "unreadable date %q", truncate(s, 40))
	return time.Time{}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
