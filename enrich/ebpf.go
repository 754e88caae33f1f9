package enrich

import (
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The eBPF socket event format is tracewire's own, documented in
// docs/ebpf-socket-events.md: JSON Lines, one object per socket call,
//
//	{"ts_ns": 1700000009990000000, "pid": 4242, "tid": 4250, "comm": "OkHttp Dispatch",
//	 "event": "sendmsg", "protocol": "tcp",
//	 "local_addr": "10.8.0.2", "local_port": 43210, "remote_addr": "93.184.216.34", "remote_port": 443,
//	 "fd": 87, "bytes": 517, "process": "com.example.app", "direction": "out",
//	 "managed_stack": [{"function": "okhttp3.internal.http2.Http2Writer.flush", "file": "Http2Writer.kt", "line": 123, "module": "base.apk"}],
//	 "native_stack": [{"module": "libc.so", "function": "sendmsg", "address": "0x7b8c2e1a40"}]}
//
// and is attached as _stacktrace with pcapng-utils' field names, so the
// same tools read it: managed frames become {class, method, file, line,
// isNative: false, str, module, address}, native frames go to nativeStack.

// EBPFEventsName names the source in summaries.
const EBPFEventsName = "ebpf socket events"

// ebpfRec is one event, compact.
type ebpfRec struct {
	sockRec
	bytes           int64
	comm            uint32
	managed, native int32 // -1 = none
	hasB            bool
}

// ReadEBPFEvents reads socket events in tracewire's eBPF JSON Lines format.
// name is used in messages. Events that cannot be used are skipped and
// counted; a file that is not JSON, or whose timestamps are all in the
// wrong unit, is an *InputError.
func ReadEBPFEvents(r io.Reader, name string) (*SocketTrace, error) {
	tr := newSocketTrace(EBPFEventsName, name)
	p := &ebpfParser{tr: tr, strs: newInterner(), addrs: map[uint32]netip.Addr{}}
	if err := readJSONRecords(r, &tr.Stats, p.parse); err != nil {
		return nil, err
	}
	if p.ok == 0 && p.wrong != nil {
		return nil, p.wrong
	}
	p.stacks[0].ids, p.stacks[1].ids = nil, nil
	p.strs.ids = nil
	p.addrs = nil
	p.boxed = p.strs.boxed()
	tr.render = p.render
	tr.finish()
	return tr, nil
}

type ebpfParser struct {
	tr     *SocketTrace
	recs   []ebpfRec
	strs   *interner
	boxed  []any         // strs.strs boxed, once read
	stacks [2]stackTable // managed, native
	addrs  map[uint32]netip.Addr
	ok     int
	wrong  *InputError
}

// ebpfRecord is an event as it is decoded.
type ebpfRecord struct {
	TsNs       jnum `json:"ts_ns"`
	Pid        jnum `json:"pid"`
	Tid        jnum `json:"tid"`
	Fd         jnum `json:"fd"`
	Bytes      jnum `json:"bytes"`
	Comm       jstr `json:"comm"`
	Process    jstr `json:"process"`
	Event      jstr `json:"event"`
	Direction  jstr `json:"direction"`
	Protocol   jstr `json:"protocol"`
	LocalAddr  jstr `json:"local_addr"`
	LocalPort  jnum `json:"local_port"`
	RemoteAddr jstr `json:"remote_addr"`
	RemotePort jnum `json:"remote_port"`
	// The stacks are decoded once per distinct bytes.
	ManagedStack jval `json:"managed_stack"`
	NativeStack  jval `json:"native_stack"`
}

func (p *ebpfParser) parse(rec int, off int64, d *jsontext.Decoder) error {
	var x ebpfRecord
	if err := json.UnmarshalDecode(d, &x); err != nil {
		return err
	}
	r := ebpfRec{managed: -1, native: -1}
	r.pid, r.hasPid = x.Pid.int, x.Pid.whole
	r.tid, r.hasTid = x.Tid.int, x.Tid.whole
	r.fd, r.hasFd = x.Fd.int, x.Fd.whole
	r.bytes, r.hasB = x.Bytes.int, x.Bytes.whole
	r.comm = p.strs.str(&x.Comm)
	r.process = p.strs.str(&x.Process)
	event, dirName, proto := x.Event.String(), x.Direction.String(), x.Protocol.String()
	tsRaw := x.TsNs.raw
	managed, native := x.ManagedStack, x.NativeStack
	if x.TsNs.kind == 0 {
		return problem(skipTimestamp, "no ts_ns")
	}
	ts, ok := x.TsNs.float, x.TsNs.num
	if !ok {
		return problem(skipTimestamp, "ts_ns is %s", kindName(x.TsNs.kind))
	}
	if u := timeUnitOf(ts); u != "nanoseconds" {
		msg := fmt.Sprintf("ts_ns %s is not nanoseconds since the epoch (it looks like %s; a clock since boot such as bpf_ktime_get_ns must be converted to wall-clock time)", tsRaw, orUnknown(u))
		if p.wrong == nil {
			p.wrong = &InputError{File: p.tr.Stats.File, Record: rec, Offset: off, Msg: msg}
		}
		return problem(skipTimeUnit, "%s", msg)
	}
	p.ok++
	// Whole nanoseconds, exactly: a float64 of 1.7e18 is off by up to 128 ns.
	if x.TsNs.whole {
		n := x.TsNs.int
		r.ts = float64(n/1e9) + float64(n%1e9)/1e9
	} else {
		r.ts = ts / 1e9
	}
	var dir Direction
	switch strings.ToLower(dirName) {
	case "out":
		dir = Outbound
	case "in":
		dir = Inbound
	case "":
		if dir, ok = directionOf(event); !ok {
			return problem(skipEvent, "event %q", event)
		}
	default:
		return problem(skipEvent, "direction %q", dirName)
	}
	r.event = p.strs.id([]byte(event))
	stype := strings.TrimSuffix(strings.ToLower(proto), "6")
	ip := socketProto(stype)
	if ip == 0 {
		return problem(skipSocketType, "protocol %q", proto)
	}
	local, err := addrPort(p.strs, p.addrs, "local_addr", "local_port", &x.LocalAddr, &x.LocalPort)
	if err != nil {
		return err
	}
	remote, err := addrPort(p.strs, p.addrs, "remote_addr", "remote_port", &x.RemoteAddr, &x.RemotePort)
	if err != nil {
		return err
	}
	if local.Addr().Is4() != remote.Addr().Is4() {
		return problem(skipFlow, "local %s and remote %s are not of the same family", local.Addr(), remote.Addr())
	}
	// tcp6 as Frida says for an IPv6 socket, IPv4-mapped addresses too.
	if a, err := netip.ParseAddr(strings.Trim(x.RemoteAddr.String(), "[]")); err == nil && a.Is6() {
		stype += "6"
	}
	r.stype = p.strs.id([]byte(stype))
	if managed.kind != 0 && managed.kind != 'n' {
		if r.managed = p.stacks[0].id(managed.raw, managedFrame); r.managed < 0 {
			p.tr.Stats.partial(partStack, rec, off, "managed_stack is "+kindName(managed.kind))
		}
	}
	if native.kind != 0 && native.kind != 'n' {
		if r.native = p.stacks[1].id(native.raw, nativeFrame); r.native < 0 {
			p.tr.Stats.partial(partStack, rec, off, "native_stack is "+kindName(native.kind))
		}
	}
	if len(p.recs) >= math.MaxInt32 {
		return problem(skipNotObject, "more than %d records", math.MaxInt32)
	}
	p.tr.addOp(r.ts, ip, local, remote, dir, int32(len(p.recs)))
	p.recs = append(p.recs, r)
	return nil
}

// managedFrame turns a managed frame into PiRogue's frame shape; the class
// is the function's name up to its last dot unless the frame names it.
func managedFrame(f any) (any, any, bool) {
	m, ok := f.(map[string]any)
	if !ok {
		return nil, nil, false
	}
	fn, _ := m["function"].(string)
	class, _ := m["class"].(string)
	method := fn
	if class == "" {
		if i := strings.LastIndexByte(fn, '.'); i > 0 {
			class, method = fn[:i], fn[i+1:]
		}
	}
	out := map[string]any{"class": class, "method": method, "isNative": false}
	file, _ := m["file"].(string)
	out["file"] = file
	where := "Unknown Source"
	if line, ok := m["line"].(int64); ok {
		out["line"] = line
		if file != "" {
			where = file + ":" + strconv.FormatInt(line, 10)
		}
	} else if file != "" {
		where = file
	}
	name := method
	if class != "" {
		name = class + "." + method
	}
	out["str"] = name + "(" + where + ")"
	if mod, ok := m["module"].(string); ok {
		out["module"] = mod
	}
	if a, ok := address(m["address"]); ok {
		out["address"] = a
	}
	return out, nonEmpty(class), true
}

// nativeFrame keeps a native frame's fields, with the address normalised;
// its module's file name goes in compact.
func nativeFrame(f any) (any, any, bool) {
	m, ok := f.(map[string]any)
	if !ok {
		return nil, nil, false
	}
	out := map[string]any{}
	for _, k := range []string{"module", "function", "file"} {
		if s, ok := m[k].(string); ok {
			out[k] = s
		}
	}
	if line, ok := m["line"].(int64); ok {
		out["line"] = line
	}
	if a, ok := address(m["address"]); ok {
		out["address"] = a
	}
	mod, _ := m["module"].(string)
	if i := strings.LastIndexByte(mod, '/'); i >= 0 {
		mod = mod[i+1:]
	}
	return out, nonEmpty(mod), true
}

// nonEmpty is s, or nil for the empty string.
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// address normalises a code address, written as a hex string ("0x7f…",
// the format's choice, since JSON numbers lose 64-bit precision) or an
// integer, to "0x" and lower-case hex.
func address(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(t), "0x"), 16, 64)
		if err != nil {
			return "", false
		}
		return "0x" + strconv.FormatUint(n, 16), true
	case int64:
		if t < 0 {
			return "", false
		}
		return "0x" + strconv.FormatUint(uint64(t), 16), true
	}
	return "", false
}

func (p *ebpfParser) render(ref int32) map[string]any {
	r := &p.recs[ref]
	m := make(map[string]any, 14)
	r.put(m, p.boxed)
	if r.comm != 0 {
		if r.process == 0 {
			m["process"] = p.boxed[r.comm] // the command names the process
		}
		m["comm"] = p.boxed[r.comm]
	}
	if r.hasB {
		m["bytes"] = r.bytes
	}
	m["stack"], m["compact"] = nil, nil
	if r.managed >= 0 {
		sv := p.stacks[0].vals[r.managed]
		m["stack"], m["compact"] = sv.frames, sv.compact
	}
	if r.native >= 0 {
		sv := p.stacks[1].vals[r.native]
		m["nativeStack"] = sv.frames
		if r.managed < 0 {
			// Without a managed stack, the native modules summarise the path.
			m["compact"] = sv.compact
		}
	}
	return m
}
