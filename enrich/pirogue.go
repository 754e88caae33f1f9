package enrich

import (
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tracewire/tracewire/communityid"
)

// PiRogue's socket_trace.json is written by the Frida script
// log_socket_operations.js of pirogue-cli: a JSON array of records
//
//	{"type": "socket_trace_log", "dump": "socket_trace.json", "data_type": "json",
//	 "timestamp": <ms since the epoch, device clock>, "pid": 1234, "process": "com.example",
//	 "data": {"socket_fd": 87, "socket_type": "tcp|tcp6|udp|udp6", "pid": 1234,
//	          "thread_id": 1240, "socket_event_type": "write|sendto|read|recvfrom|connect|…",
//	          "dest_ip": "::ffff:93.184.216.34", "dest_port": 443,
//	          "local_ip": "::ffff:10.8.0.2", "local_port": 43210,
//	          "stack": [{"class", "file", "line", "method", "is_native", "str"}, …]}}
//
// The stack is missing when the call came from a thread without a Java VM.
// pcapng-utils (PiRogue's pcapng → HAR converter) attaches a record as
//
//	{"stack": [frames, keys camelCased], "timestamp": <s>, "process", "pid",
//	 "threadId", "socketFd", "socketType", "socketEventType",
//	 "compact": [distinct classes of the stack, in order]}
//
// (the addresses and ports are left out as redundant with the entry), and
// so do we, so tools written for its HARs read ours.

// PiRogueSocketTraceName names the source in summaries.
const PiRogueSocketTraceName = "pirogue socket trace"

// Skip reasons of socket trace records.
const (
	skipNotObject  = "not an object"
	skipType       = "not a socket trace record"
	skipNoData     = "no data object"
	skipEvent      = "not a send or receive"
	skipSocketType = "unknown socket type"
	skipAddress    = "bad address"
	skipPort       = "port out of range"
	skipTimestamp  = "bad timestamp"
	skipTimeUnit   = "timestamp not in the expected unit"
	skipFlow       = "no community ID for the addresses"

	partStack = "stack is not an array (record kept without it)"
)

// pirogueRec is one record, compact: strings are interned, the stack is a
// reference to a shared decoded stack.
type pirogueRec struct {
	sockRec
	stack int32 // -1 = none
	extra int32 // -1 = none, else index of extra data keys
}

// sockRec is what every socket record has, in both trace formats.
type sockRec struct {
	ts                    float64 // seconds
	pid, tid, fd          int64
	process, stype, event uint32 // interned strings, 0 = absent
	hasPid, hasTid, hasFd bool
}

// put writes the record's fields into its _stacktrace value m, with the
// names pcapng-utils uses.
func (r *sockRec) put(m map[string]any, strs []any) {
	m["timestamp"] = r.ts
	if r.process != 0 {
		m["process"] = strs[r.process]
	}
	if r.hasPid {
		m["pid"] = r.pid
	}
	if r.hasTid {
		m["threadId"] = r.tid
	}
	if r.hasFd {
		m["socketFd"] = r.fd
	}
	m["socketType"] = strs[r.stype]
	m["socketEventType"] = strs[r.event]
}

// stackVal is a decoded stack shared by all records with the same bytes.
type stackVal struct {
	frames  []any // frame objects, as attached
	compact []any // distinct classes (or modules), in order
}

// stackTable decodes each distinct stack once, by its bytes.
type stackTable struct {
	ids  map[string]int32 // bytes → index in vals, -1 when not a stack
	vals []stackVal
}

// id returns the index of the stack raw, decoding it the first time its
// bytes are seen: frame turns each element into the frame attached and
// the name compact lists (nil for none); ok false, or raw not an array,
// makes it -1.
func (t *stackTable) id(raw []byte, frame func(any) (fr, name any, ok bool)) int32 {
	if id, ok := t.ids[string(raw)]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]int32{}
	}
	id := int32(-1)
	v, err := generic(raw)
	if arr, ok := v.([]any); err == nil && ok {
		sv := stackVal{frames: make([]any, 0, len(arr)), compact: []any{}}
		seen := map[any]bool{}
		for _, f := range arr {
			fr, name, ok := frame(f)
			if !ok {
				sv.frames = nil
				break
			}
			sv.frames = append(sv.frames, fr)
			if name != nil && !seen[name] {
				seen[name] = true
				sv.compact = append(sv.compact, name)
			}
		}
		if sv.frames != nil {
			id = int32(len(t.vals))
			t.vals = append(t.vals, sv)
		}
	}
	t.ids[string(raw)] = id
	return id
}

// interner gives each distinct string a small number.
type interner struct {
	ids  map[string]uint32
	strs []string
}

func newInterner() *interner { return &interner{ids: map[string]uint32{}, strs: []string{""}} }

// boxed returns the strings as values of type any, so that putting one in
// a map allocates nothing.
func (in *interner) boxed() []any {
	out := make([]any, len(in.strs))
	for i, s := range in.strs {
		out[i] = s
	}
	return out
}

// id interns b (without allocating when it is known).
func (in *interner) id(b []byte) uint32 {
	id, ok := in.ids[string(b)]
	if !ok {
		s := string(b)
		id = uint32(len(in.strs))
		in.ids[s] = id
		in.strs = append(in.strs, s)
	}
	return id
}

// Timestamp plausibility: PiRogue writes Date.now(), milliseconds since the
// epoch. Values that are clearly seconds, microseconds or nanoseconds are
// not guessed at: a whole file of them is an error, stray ones are skipped.
const (
	msMin = 1e11 // 1973-03-03 in ms
	msMax = 1e14 // 5138 in ms
)

func timeUnitOf(v float64) string {
	switch {
	case v >= msMin && v < msMax:
		return "ms"
	case v >= 1e8 && v < msMin:
		return "seconds"
	case v >= msMax && v < 1e17:
		return "microseconds"
	case v >= 1e17:
		return "nanoseconds"
	}
	return ""
}

// ReadPiRogueSocketTrace reads a PiRogue socket_trace.json. name is used in
// messages (the file's base name). Records that cannot be used are skipped
// and counted in the returned trace's Stats; a file that is not JSON, or
// whose timestamps are all in the wrong unit, is an *InputError.
func ReadPiRogueSocketTrace(r io.Reader, name string) (*SocketTrace, error) {
	return readPiRogue(r, name, false)
}

// readPiRogue is ReadPiRogueSocketTrace; slow leaves out parseFast, for the
// tests that compare the two ways.
func readPiRogue(r io.Reader, name string, slow bool) (*SocketTrace, error) {
	tr := newSocketTrace(PiRogueSocketTraceName, name)
	p := &pirogueParser{slow: slow, tr: tr, strs: newInterner(), keys: map[string]string{}, addrs: map[uint32]netip.Addr{}}
	if err := readJSONRecords(r, &tr.Stats, p.parse); err != nil {
		return nil, err
	}
	// A file none of whose timestamps are milliseconds while some are in
	// another unit was written by something else, and pairing by time
	// would silently find nothing.
	if p.ms == 0 && p.wrong != nil {
		return nil, p.wrong
	}
	p.stacks.ids = nil
	p.strs.ids = nil
	p.addrs = nil
	p.fast = fastState{}
	p.boxed = p.strs.boxed()
	tr.render = p.render
	tr.finish()
	return tr, nil
}

// pirogueRecord is a record of socket_trace.json as it is decoded.
type pirogueRecord struct {
	Type      jval              `json:"type"`
	Timestamp jnum              `json:"timestamp"`
	Process   jstr              `json:"process"`
	Pid       jnum              `json:"pid"`
	Data      jobj[pirogueData] `json:"data"`
}

type pirogueData struct {
	SocketFd        jnum `json:"socket_fd"`
	SocketType      jstr `json:"socket_type"`
	Pid             jnum `json:"pid"`
	ThreadID        jnum `json:"thread_id"`
	SocketEventType jstr `json:"socket_event_type"`
	DestIP          jstr `json:"dest_ip"`
	DestPort        jnum `json:"dest_port"`
	LocalIP         jstr `json:"local_ip"`
	LocalPort       jnum `json:"local_port"`
	// Stack is only delimited here: it is decoded once per distinct bytes.
	Stack jval `json:"stack"`
	// Unknown holds the other members, which are kept in the record.
	Unknown jsontext.Value `json:",embed"`
}

type pirogueParser struct {
	tr     *SocketTrace
	recs   slab[pirogueRec]
	strs   *interner
	stacks stackTable
	extras []map[string]any
	keys   map[string]string // camelCase cache
	addrs  map[uint32]netip.Addr
	ms     int         // records with a timestamp in milliseconds
	wrong  *InputError // first record with a timestamp in a wrong unit
	boxed  []any       // strs.strs boxed, once read
	slow   bool        // no parseFast
	fast   fastState
}

// parse decodes one record: with parseFast when it is of the usual shape,
// else by unmarshalling it into pirogueRecord.
func (p *pirogueParser) parse(rec int, off int64, d *jsontext.Decoder) error {
	raw, err := d.ReadValue()
	if err != nil {
		return err
	}
	if p.parseFast(raw) {
		return nil
	}
	x := &pirogueRecord{}
	if err := json.Unmarshal(raw, x, recordOptions); err != nil {
		return err
	}
	r := pirogueRec{stack: -1, extra: -1}
	extra := map[string]any{} // kept in the record when not empty
	f := &x.Data.v
	if x.Data.kind == '{' {
		// Numbers of an unexpected type are kept as they came, like the
		// keys pcapng-utils copies without looking at them.
		for _, n := range []struct {
			name string
			v    *jnum
			dst  *int64
			ok   *bool
		}{{"socket_fd", &f.SocketFd, &r.fd, &r.hasFd}, {"pid", &f.Pid, &r.pid, &r.hasPid}, {"thread_id", &f.ThreadID, &r.tid, &r.hasTid}} {
			if n.v.kind == 0 {
				continue
			}
			if *n.dst, *n.ok = n.v.int, n.v.whole; !n.v.whole {
				v, err := generic(n.v.raw)
				if err != nil {
					return err
				}
				extra[p.camel(n.name)] = camelKeys(v, p.camel)
			}
		}
		if len(f.Unknown) > 0 {
			v, err := generic(f.Unknown)
			if err != nil {
				return err
			}
			maps.Copy(extra, camelKeys(v, p.camel).(map[string]any))
		}
		r.stype = p.strs.str(&f.SocketType)
		r.event = p.strs.str(&f.SocketEventType)
	}
	if x.Type.kind != 0 {
		switch string(x.Type.raw) {
		case `"socket_trace_log"`, `"socket_traces"`, `"socket_trace"`:
		default:
			return problem(skipType, "type %s", truncateBytes(x.Type.raw, 40))
		}
	}
	ts := &x.Timestamp
	if ts.kind == 0 {
		return problem(skipTimestamp, "no timestamp")
	}
	if !ts.num {
		return problem(skipTimestamp, "timestamp is %s", kindName(ts.kind))
	}
	if u := timeUnitOf(ts.float); u != "ms" {
		if p.wrong == nil {
			p.wrong = &InputError{File: p.tr.Stats.File, Record: rec, Offset: off, Msg: fmt.Sprintf("timestamp %s looks like %s, not milliseconds since the epoch", ts.raw, orUnknown(u))}
		}
		return problem(skipTimeUnit, "%s looks like %s, not milliseconds since the epoch", ts.raw, orUnknown(u))
	}
	p.ms++
	r.ts = ts.float / 1000
	if x.Data.kind != '{' {
		if x.Data.kind == 0 || x.Data.kind == 'n' {
			return problem(skipNoData, "")
		}
		return problem(skipNoData, "data is %s", kindName(x.Data.kind))
	}
	event := p.strs.strs[r.event]
	dir, ok := directionOf(event)
	if !ok {
		return problem(skipEvent, "socket_event_type %q", event)
	}
	proto := socketProto(p.strs.strs[r.stype])
	if proto == 0 {
		return problem(skipSocketType, "socket_type %q", p.strs.strs[r.stype])
	}
	local, err := addrPort(p.strs, p.addrs, "local_ip", "local_port", &f.LocalIP, &f.LocalPort)
	if err != nil {
		return err
	}
	remote, err := addrPort(p.strs, p.addrs, "dest_ip", "dest_port", &f.DestIP, &f.DestPort)
	if err != nil {
		return err
	}
	if local.Addr().Is4() != remote.Addr().Is4() {
		return problem(skipFlow, "local %s and destination %s are not of the same family", local.Addr(), remote.Addr())
	}
	if !r.hasPid && x.Pid.whole && extra["pid"] == nil {
		r.pid, r.hasPid = x.Pid.int, true
	}
	r.process = p.strs.str(&x.Process)
	if f.Stack.kind != 0 && f.Stack.kind != 'n' {
		if r.stack = p.stacks.id(f.Stack.raw, p.stackFrame); r.stack < 0 {
			p.tr.Stats.partial(partStack, rec, off, "the stack is not an array of frames")
		}
	}
	if len(extra) > 0 {
		r.extra = int32(len(p.extras))
		p.extras = append(p.extras, extra)
	}
	if p.recs.n >= math.MaxInt32 {
		return problem(skipNotObject, "more than %d records", math.MaxInt32)
	}
	p.tr.addOp(r.ts, proto, local, remote, dir, int32(p.recs.n))
	p.recs.add(r)
	return nil
}

// socketProto is the protocol of a PiRogue socket type, 0 when unknown.
func socketProto(stype string) uint8 {
	switch stype {
	case "tcp", "tcp6":
		return communityid.ProtoTCP
	case "udp", "udp6":
		return communityid.ProtoUDP
	}
	return 0
}

// addrPort checks a record's address and port (ipName and portName name
// them in messages), parsing each distinct address once.
func addrPort(strs *interner, addrs map[uint32]netip.Addr, ipName, portName string, ip *jstr, port *jnum) (netip.AddrPort, error) {
	if !ip.ok() {
		return netip.AddrPort{}, problem(skipAddress, "no %s", ipName)
	}
	id := strs.id(ip.b)
	a := addr(strs, addrs, id)
	if !a.IsValid() {
		return netip.AddrPort{}, problem(skipAddress, "%s %q", ipName, strs.strs[id])
	}
	// A connected socket has both ports.
	if !port.whole {
		return netip.AddrPort{}, problem(skipPort, "no %s or not an integer", portName)
	}
	if port.int < 1 || port.int > 65535 {
		return netip.AddrPort{}, problem(skipPort, "%s %d", portName, port.int)
	}
	return netip.AddrPortFrom(a, uint16(port.int)), nil
}

func orUnknown(u string) string {
	if u == "" {
		return "no plausible date"
	}
	return u
}

// addr is the address interned as id, parsed once (a trace has few
// distinct ones); the zero Addr when it is not one.
func addr(strs *interner, addrs map[uint32]netip.Addr, id uint32) netip.Addr {
	a, ok := addrs[id]
	if !ok {
		a, _ = parseAddr(strs.strs[id])
		addrs[id] = a
	}
	return a
}

// parseAddr parses an address as socket hooks write them: an IPv4-mapped
// address (::ffff:1.2.3.4) is the IPv4 flow the capture saw, brackets and
// zones are dropped.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return a, err
	}
	return a.Unmap().WithZone(""), nil
}

// stackFrame is a PiRogue stack frame as attached: keys camelCased, the
// class named in compact.
func (p *pirogueParser) stackFrame(f any) (any, any, bool) {
	f = camelKeys(f, p.camel)
	if m, ok := f.(map[string]any); ok {
		if c, ok := m["class"].(string); ok {
			return f, c, true
		}
	}
	return f, nil, true
}

func (p *pirogueParser) camel(k string) string {
	if c, ok := p.keys[k]; ok {
		return c
	}
	c := camelCase(k)
	if len(p.keys) < 10000 {
		p.keys[k] = c
	}
	return c
}

// render builds the _stacktrace value pcapng-utils writes for a record.
func (p *pirogueParser) render(ref int32) map[string]any {
	r := p.recs.at(ref)
	m := make(map[string]any, 12)
	if r.extra >= 0 {
		maps.Copy(m, p.extras[r.extra])
	}
	r.put(m, p.boxed)
	if r.stack >= 0 {
		sv := p.stacks.vals[r.stack]
		m["stack"] = sv.frames
		m["compact"] = sv.compact
	} else {
		// pcapng-utils writes null for both when the stack is missing.
		m["stack"] = nil
		m["compact"] = nil
	}
	return m
}

// camelCase renames a key as pcapng-utils does (Python: runs of '_' and '-'
// become word breaks, str.title(), spaces removed, first letter lowered):
// "thread_id" → "threadId", "is_native" → "isNative", "socketFD" → "socketfd".
func camelCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevLetter := false
	first := true
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || r == ' ':
			prevLetter = false
			continue
		case unicode.IsLetter(r):
			if prevLetter {
				r = unicode.ToLower(r)
			} else {
				r = unicode.ToTitle(r)
			}
			prevLetter = true
		default:
			prevLetter = false
		}
		if first {
			r = unicode.ToLower(r)
			first = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// camelKeys renames the keys of every object in v with camel.
func camelKeys(v any, camel func(string) string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[camel(k)] = camelKeys(x, camel)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = camelKeys(x, camel)
		}
		return t
	}
	return v
}
