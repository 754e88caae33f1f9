package collect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// The layout of struct event in bpf/collect.c (little-endian; the
// generated collectEvent checks it in TestEventLayout).
const (
	offMono       = 0
	offPid        = 8
	offTid        = 12
	offBytes      = 16
	offStackBytes = 20
	offProtocol   = 24
	offDir        = 26
	offCached     = 27
	offFamily     = 32
	offLport      = 34
	offRport      = 36
	offLaddr      = 40
	offRaddr      = 56
	offComm       = 72
	offStack      = 88
	frameSize     = 32
	maxFrames     = 48

	dirOut = 1
	dirIn  = 2

	afInet  = 2
	afInet6 = 10

	// bpf_stack_build_id.status
	stackEmpty = 0
	stackValid = 1 // build ID and file offset
	stackIP    = 2 // only the address: no build ID could be read
)

// rawFrame is one frame of a user stack as the kernel gave it.
type rawFrame struct {
	status  int32
	buildID [20]byte
	off     uint64 // file offset (stackValid) or address (stackIP)
}

// rawEvent is one socket call as the BPF program recorded it.
type rawEvent struct {
	mono     uint64
	pid, tid uint32
	bytes    int32
	protocol uint16
	dir      uint8
	cached   bool
	local    netip.AddrPort
	remote   netip.AddrPort
	comm     string
	stack    []rawFrame
}

var errShortEvent = errors.New("event record too short")

// decodeEvent reads one ring buffer record.
func decodeEvent(b []byte) (rawEvent, error) {
	var e rawEvent
	if len(b) < offStack {
		return e, fmt.Errorf("%w: %d bytes", errShortEvent, len(b))
	}
	le := binary.LittleEndian
	e.mono = le.Uint64(b[offMono:])
	e.pid = le.Uint32(b[offPid:])
	e.tid = le.Uint32(b[offTid:])
	e.bytes = int32(le.Uint32(b[offBytes:]))
	sb := int(int32(le.Uint32(b[offStackBytes:])))
	e.protocol = le.Uint16(b[offProtocol:])
	e.dir = b[offDir]
	e.cached = b[offCached] != 0
	fam := le.Uint16(b[offFamily:])
	lp, rp := le.Uint16(b[offLport:]), le.Uint16(b[offRport:])
	var la, ra netip.Addr
	switch fam {
	case afInet:
		la = netip.AddrFrom4([4]byte(b[offLaddr : offLaddr+4]))
		ra = netip.AddrFrom4([4]byte(b[offRaddr : offRaddr+4]))
	case afInet6:
		la = netip.AddrFrom16([16]byte(b[offLaddr : offLaddr+16])).Unmap()
		ra = netip.AddrFrom16([16]byte(b[offRaddr : offRaddr+16])).Unmap()
	default:
		return e, fmt.Errorf("event of pid %d: address family %d", e.pid, fam)
	}
	e.local = netip.AddrPortFrom(la, lp)
	e.remote = netip.AddrPortFrom(ra, rp)
	comm := b[offComm : offComm+16]
	for i, c := range comm {
		if c == 0 {
			comm = comm[:i]
			break
		}
	}
	e.comm = string(comm)
	if sb < 0 {
		sb = 0
	}
	n := sb / frameSize
	if avail := (len(b) - offStack) / frameSize; n > avail {
		n = avail
	}
	e.stack = make([]rawFrame, 0, n)
	for i := 0; i < n; i++ {
		f := b[offStack+i*frameSize:]
		st := int32(le.Uint32(f))
		if st == stackEmpty {
			break
		}
		var fr rawFrame
		fr.status = st
		copy(fr.buildID[:], f[4:24])
		fr.off = le.Uint64(f[24:])
		e.stack = append(e.stack, fr)
	}
	return e, nil
}
