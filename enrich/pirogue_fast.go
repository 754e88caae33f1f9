package enrich

import (
	"math"
	"net/netip"
)

// A socket trace has a million records that all look alike: the same keys
// in the same order, a few distinct processes, socket types, event names
// and addresses, and stacks that repeat (a few thousand distinct ones at
// most). parseFast reads such a record, already cut and checked by the
// json/v2 decoder, in one walk without callbacks, interns through one-entry
// caches, and recognises a stack seen before by its bytes, without a scan.
// It accepts only records that parse's json/v2 unmarshal would use as they
// are; anything else (escapes, unknown keys, duplicates, odd types, a
// record to skip) is left to the unmarshal, as if parseFast had not looked
// at it.
//
// Why this shortcut stays (issue 11's rule: at least 10% of a figure a user
// sees): unmarshalling every record into pirogueRecord took 3x the CPU time
// of this walk on the enrichment benchmark's 1.25 GB trace (BENCHMARKS.md,
// "Enrichment"), about a third of `tracewire enrich`'s CPU time.
// TestPiRogueFastPath and FuzzPiRogueSocketTrace compare it with the
// unmarshal (readPiRogue's slow mode).

// fastStr returns the end of the string at b[i] (after its closing quote)
// when it holds no escape or control character.
func fastStr(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		if c := b[i]; strStop[c] {
			return i + 1, c == '"'
		}
	}
	return 0, false
}

// fastKey reads an object member's name at b[i] (a string fastStr takes)
// and the colon after it; next is where the value starts.
func fastKey(b []byte, i int) (name []byte, next int, ok bool) {
	ke, ok := fastStr(b, i)
	if !ok {
		return nil, 0, false
	}
	name = b[i+1 : ke-1]
	i = skipWS(b, ke)
	if i >= len(b) || b[i] != ':' {
		return nil, 0, false
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return nil, 0, false
	}
	return name, i, true
}

// fastNext reads what follows an object member's value at b[i]: a comma
// (more members, next is the next one's start) or the closing brace (next
// is after it).
func fastNext(b []byte, i int) (next int, more, ok bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, false, false
	}
	switch b[i] {
	case ',':
		return skipWS(b, i+1), true, true
	case '}':
		return i + 1, false, true
	}
	return 0, false, false
}

// fastInt reads a number at b[i] written as a plain integer of at most 18
// digits (what integer and num give as they are), followed by a byte that
// ends it.
func fastInt(b []byte, i int) (v int64, end int, ok bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	n := i - start
	if n == 0 || n > 18 || (n > 1 && b[start] == '0') || i >= len(b) {
		return 0, 0, false
	}
	if c := b[i]; c == '.' || c == 'e' || c == 'E' {
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// strCache interns one field's value, remembering the last one.
type strCache struct {
	s  string
	id uint32
}

func (p *pirogueParser) internCached(c *strCache, body []byte) uint32 {
	if c.id != 0 && c.s == string(body) {
		return c.id
	}
	id := p.strs.id(body)
	c.s, c.id = p.strs.strs[id], id
	return id
}

// fastState is what parseFast keeps between records.
type fastState struct {
	process, stype, event, dest, local strCache
	// The last record's flow.
	last  fastFlow
	lastF int32
}

type fastFlow struct {
	local, remote uint32
	lport, rport  uint16
	proto         uint8
}

func grow[T any](s []T, n int) []T {
	for len(s) <= n {
		var zero T
		s = append(s, zero)
	}
	return s
}

// Bits of the members seen, to leave duplicates to parse.
const (
	seenType = 1 << iota
	seenTS
	seenProcess
	seenPid
	seenData
	seenFd
	seenSType
	seenDPid
	seenTid
	seenEvent
	seenDIP
	seenDPort
	seenLIP
	seenLPort
	seenStack
)

// parseFast reads the record b (one whole JSON object) as parse would, when
// it is plain; false leaves the record to parse, with nothing changed that
// parse would see.
func (p *pirogueParser) parseFast(b []byte) bool {
	if p.slow || len(b) == 0 || b[0] != '{' {
		return false
	}
	fs := &p.fast
	var (
		r                   = pirogueRec{stack: -1, extra: -1}
		seen                uint32
		ts                  int64
		topPid              int64
		hasTopPid           bool
		localIP, remoteIP   uint32
		lport, rport        int64
		typOK               = true
		stackStart, stackAt = -1, -1
	)
	i := skipWS(b, 1)
	for {
		name, vi, ok := fastKey(b, i)
		if !ok {
			return false
		}
		i = vi
		var bit uint32
		switch string(name) {
		case "type":
			bit = seenType
			e, ok := fastStr(b, i)
			if !ok {
				return false
			}
			switch string(b[i+1 : e-1]) {
			case "socket_trace_log", "socket_traces", "socket_trace":
			default:
				typOK = false
			}
			i = e
		case "timestamp":
			bit = seenTS
			v, e, ok := fastInt(b, i)
			if !ok || v > 1<<53 {
				return false
			}
			ts, i = v, e
		case "process":
			bit = seenProcess
			e, ok := fastStr(b, i)
			if !ok {
				return false
			}
			r.process = p.internCached(&fs.process, b[i+1:e-1])
			i = e
		case "pid":
			bit = seenPid
			v, e, ok := fastInt(b, i)
			if !ok {
				return false
			}
			topPid, hasTopPid, i = v, true, e
		case "data":
			bit = seenData
			if b[i] != '{' {
				return false
			}
			var dseen uint32
			i = skipWS(b, i+1)
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			for {
				dname, vi, ok := fastKey(b, i)
				if !ok {
					return false
				}
				i = vi
				var dbit uint32
				var e int
				switch string(dname) {
				case "socket_fd", "pid", "thread_id", "dest_port", "local_port":
					var v int64
					v, e, ok = fastInt(b, i)
					if !ok {
						return false
					}
					switch string(dname) {
					case "socket_fd":
						dbit, r.fd, r.hasFd = seenFd, v, true
					case "pid":
						dbit, r.pid, r.hasPid = seenDPid, v, true
					case "thread_id":
						dbit, r.tid, r.hasTid = seenTid, v, true
					case "dest_port":
						dbit, rport = seenDPort, v
					default:
						dbit, lport = seenLPort, v
					}
				case "socket_type", "socket_event_type", "dest_ip", "local_ip":
					e, ok = fastStr(b, i)
					if !ok {
						return false
					}
					body := b[i+1 : e-1]
					switch string(dname) {
					case "socket_type":
						dbit, r.stype = seenSType, p.internCached(&fs.stype, body)
					case "socket_event_type":
						dbit, r.event = seenEvent, p.internCached(&fs.event, body)
					case "dest_ip":
						dbit, remoteIP = seenDIP, p.internCached(&fs.dest, body)
					default:
						dbit, localIP = seenLIP, p.internCached(&fs.local, body)
					}
				case "stack":
					dbit = seenStack
					switch b[i] {
					case '[':
						// The stack is usually the record's last member:
						// when the bytes up to the record's closing "}}"
						// are a stack seen before, they are the stack (an
						// array ends where its bytes end), found without
						// a scan.
						if e = stackEnd(b); e > i {
							if id, ok := p.stacks.ids[string(b[i:e])]; ok && id >= 0 {
								r.stack = id
								break
							}
						}
						e = skipValid(b, i)
						stackStart, stackAt = i, e
					case 'n':
						if e, ok = fastLiteral(b, i, "null"); !ok {
							return false
						}
					default:
						return false
					}
				default:
					return false
				}
				if dseen&dbit != 0 {
					return false
				}
				dseen |= dbit
				var more bool
				if i, more, ok = fastNext(b, e); !ok {
					return false
				} else if more {
					continue
				}
				break
			}
			seen |= dseen
		default:
			// Other members (dump, data_type) are checked and left.
			i = skipValid(b, i)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		var more bool
		if i, more, ok = fastNext(b, i); !ok {
			return false
		} else if more {
			continue
		}
		break
	}
	// What parse would skip or count as partial is left to it.
	const need = seenTS | seenData | seenSType | seenEvent | seenDIP | seenDPort | seenLIP | seenLPort
	if !typOK || seen&need != need || timeUnitOf(float64(ts)) != "ms" {
		return false
	}
	dir, ok := directionOf(p.strs.strs[r.event])
	proto := socketProto(p.strs.strs[r.stype])
	if !ok || proto == 0 || lport < 1 || lport > 65535 || rport < 1 || rport > 65535 {
		return false
	}
	la, ra := addr(p.strs, p.addrs, localIP), addr(p.strs, p.addrs, remoteIP)
	if !la.IsValid() || !ra.IsValid() || la.Is4() != ra.Is4() {
		return false
	}
	if stackStart >= 0 {
		raw := b[stackStart:stackAt]
		if r.stack = p.stacks.id(raw, p.stackFrame); r.stack < 0 {
			return false
		}
	}
	if p.recs.n >= math.MaxInt32 {
		return false
	}
	if !r.hasPid && hasTopPid {
		r.pid, r.hasPid = topPid, true
	}
	r.ts = float64(ts) / 1000
	p.ms++
	key := fastFlow{local: localIP, remote: remoteIP, lport: uint16(lport), rport: uint16(rport), proto: proto}
	f := fs.lastF
	if key != fs.last {
		f = p.tr.flow(proto, netip.AddrPortFrom(la, uint16(lport)), netip.AddrPortFrom(ra, uint16(rport)))
		fs.last, fs.lastF = key, f
	}
	p.tr.pend.add(sockOp{t: r.ts, group: f*2 + int32(dir), ref: int32(p.recs.n)})
	p.recs.add(r)
	p.tr.fastRecords++
	return true
}

func fastLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i <= len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// stackEnd returns where the last array of record b ends when b ends
// with "]}}" (white space allowed), else -1.
func stackEnd(b []byte) int {
	j := len(b)
	for _, c := range []byte("}}]") {
		j = skipWSBack(b, j)
		if j == 0 || b[j-1] != c {
			return -1
		}
		j--
	}
	return j + 1
}

// skipWSBack returns i less the white space before it.
func skipWSBack(b []byte, i int) int {
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t' || b[i-1] == '\r' || b[i-1] == '\n') {
		i--
	}
	return i
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// strStop marks the bytes that end a run of plain string content.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

// skipValid returns the end of the value at b[i], which the decoder has
// checked: only strings and brackets need looking at.
func skipValid(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
