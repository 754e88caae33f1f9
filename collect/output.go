package collect

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"

	json "github.com/go-json-experiment/json/v1"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/internal/atomicfile"
)

// procInfo is what user space learned about a traced process while it ran.
type procInfo struct {
	exe  string
	maps [][]mapping // snapshots of /proc/PID/maps, newest last
}

func (p *procInfo) find(ip uint64) []mapping {
	for i := len(p.maps) - 1; i >= 0; i-- {
		if findMapping(p.maps[i], ip) != nil {
			return p.maps[i]
		}
	}
	return nil
}

// flowKey is a flow without direction: the smaller endpoint first.
type flowKey struct {
	proto uint8
	a, b  netip.AddrPort
}

func keyOf(proto uint8, x, y netip.AddrPort) flowKey {
	if y.Addr().Less(x.Addr()) || y.Addr() == x.Addr() && y.Port() < x.Port() {
		x, y = y, x
	}
	return flowKey{proto, x, y}
}

// jsonEvent is one line of socket_events.jsonl (docs/ebpf-socket-events.md).
type jsonEvent struct {
	TsNs        int64   `json:"ts_ns"`
	MonoNs      uint64  `json:"mono_ns"`
	Event       string  `json:"event"`
	Direction   string  `json:"direction"`
	Protocol    string  `json:"protocol"`
	LocalAddr   string  `json:"local_addr"`
	LocalPort   uint16  `json:"local_port"`
	RemoteAddr  string  `json:"remote_addr"`
	RemotePort  uint16  `json:"remote_port"`
	CommunityID string  `json:"community_id"`
	Pid         uint32  `json:"pid"`
	Tid         uint32  `json:"tid"`
	Comm        string  `json:"comm"`
	Exe         string  `json:"exe,omitempty"`
	Bytes       int32   `json:"bytes"`
	Cached      bool    `json:"tuple_cached,omitempty"`
	NativeStack []Frame `json:"native_stack"`
}

// writeRaw appends one ring buffer record to the raw event file.
func writeRaw(w *bufio.Writer, rec []byte) error {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(rec)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(rec)
	return err
}

// eventStats counts what writeEvents wrote and skipped.
type eventStats struct {
	events, unconnected, frames, named int
	pids                               map[uint32]bool
}

// writeEvents symbolises the raw events and writes socket_events.jsonl.
// bootNs is CLOCK_REALTIME − CLOCK_MONOTONIC. It returns the flows seen.
func writeEvents(raw io.Reader, out string, procs map[uint32]*procInfo, bootNs int64) (map[flowKey]bool, eventStats, error) {
	st := eventStats{pids: map[uint32]bool{}}
	flows := map[flowKey]bool{}
	sym := newSymbolizer()
	for _, p := range procs {
		for _, m := range p.maps {
			sym.addPaths(m)
		}
	}
	f, err := atomicfile.Create(out, 0o644)
	if err != nil {
		return nil, st, err
	}
	defer f.Abort()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	br := bufio.NewReaderSize(raw, 1<<20)
	var hdr [4]byte
	var buf []byte
	for rec := 0; ; rec++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, st, fmt.Errorf("raw events, record %d: %w", rec, err)
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n > 1<<20 {
			return nil, st, fmt.Errorf("raw events, record %d: length %d", rec, n)
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, st, fmt.Errorf("raw events, record %d: %w", rec, err)
		}
		e, err := decodeEvent(buf)
		if err != nil {
			return nil, st, fmt.Errorf("raw events, record %d: %w", rec, err)
		}
		if e.local.Port() == 0 || e.remote.Port() == 0 || !e.remote.Addr().IsValid() || e.remote.Addr().IsUnspecified() {
			// An unconnected UDP socket: the peer is in the call's
			// message, which the tracepoint does not see.
			st.unconnected++
			continue
		}
		je := jsonEvent{
			TsNs:       int64(e.mono) + bootNs,
			MonoNs:     e.mono,
			Pid:        e.pid,
			Tid:        e.tid,
			Comm:       e.comm,
			Bytes:      e.bytes,
			Cached:     e.cached,
			LocalAddr:  e.local.Addr().String(),
			LocalPort:  e.local.Port(),
			RemoteAddr: e.remote.Addr().String(),
			RemotePort: e.remote.Port(),
		}
		proto := uint8(communityid.ProtoTCP)
		je.Protocol = "tcp"
		if e.protocol == communityid.ProtoUDP {
			proto, je.Protocol = communityid.ProtoUDP, "udp"
		}
		if e.dir == dirOut {
			je.Event, je.Direction = "sock_sendmsg", "out"
		} else {
			je.Event, je.Direction = "sock_recvmsg", "in"
		}
		je.CommunityID = communityid.Flow{Proto: proto, Src: e.local.Addr(), Dst: e.remote.Addr(), SrcPort: e.local.Port(), DstPort: e.remote.Port()}.ID()
		flows[keyOf(proto, e.local, e.remote)] = true
		p := procs[e.pid]
		if p != nil {
			je.Exe = p.exe
		}
		je.NativeStack = make([]Frame, 0, len(e.stack))
		for _, fr := range e.stack {
			var maps []mapping
			if p != nil && fr.status != stackValid {
				maps = p.find(fr.off)
			}
			je.NativeStack = append(je.NativeStack, sym.frame(fr, maps))
		}
		if err := enc.Encode(&je); err != nil {
			return nil, st, err
		}
		st.events++
		st.pids[e.pid] = true
	}
	st.frames, st.named = sym.total, sym.named
	if err := w.Flush(); err != nil {
		return nil, st, err
	}
	return flows, st, f.Commit()
}

// writeCapture copies the raw capture to out, the key log first as a
// Decryption Secrets Block, keeping only the packets of flows when keep
// is not nil. It returns the packets read and written.
func writeCapture(in, out string, keylog []byte, keep map[flowKey]bool) (read, kept int, err error) {
	src, err := os.Open(in)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	r, err := pcapgo.NewNgReader(src, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", in, err)
	}
	f, err := atomicfile.Create(out, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer f.Abort()
	if r.NInterfaces() == 0 {
		return 0, 0, fmt.Errorf("%s: no interface in the capture", in)
	}
	first, err := r.Interface(0)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", in, err)
	}
	first.Statistics = pcapgo.NgInterfaceStatistics{}
	w, err := pcapgo.NewNgWriterInterface(f, first, pcapgo.NgWriterOptions{SectionInfo: r.SectionInfo()})
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", out, err)
	}
	if len(keylog) > 0 {
		if err := w.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, keylog); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", out, err)
		}
	}
	// The reader learns interfaces as it meets them; the writer adds them
	// before their first packet.
	nIntf := 1
	addIntf := func(idx int) error {
		for ; nIntf <= idx; nIntf++ {
			intf, err := r.Interface(nIntf)
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			intf.Statistics = pcapgo.NgInterfaceStatistics{}
			if _, err := w.AddInterface(intf); err != nil {
				return fmt.Errorf("%s: %w", out, err)
			}
		}
		return nil
	}
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var udp layers.UDP
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp)
	parser.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			return read, kept, fmt.Errorf("%s, packet %d: %w", in, read+1, err)
		}
		read++
		if keep != nil && !packetKept(parser, &decoded, data, &ip4, &ip6, &tcp, &udp, keep) {
			continue
		}
		if err := addIntf(ci.InterfaceIndex); err != nil {
			return read, kept, err
		}
		if err := w.WritePacket(ci, data); err != nil {
			return read, kept, fmt.Errorf("%s: %w", out, err)
		}
		kept++
	}
	if err := w.Flush(); err != nil {
		return read, kept, err
	}
	return read, kept, f.Commit()
}

func packetKept(p *gopacket.DecodingLayerParser, decoded *[]gopacket.LayerType, data []byte, ip4 *layers.IPv4, ip6 *layers.IPv6, tcp *layers.TCP, udp *layers.UDP, keep map[flowKey]bool) bool {
	_ = p.DecodeLayers(data, decoded)
	var src, dst netip.Addr
	var sp, dp uint16
	var proto uint8
	for _, t := range *decoded {
		switch t {
		case layers.LayerTypeIPv4:
			src, _ = netip.AddrFromSlice(ip4.SrcIP)
			dst, _ = netip.AddrFromSlice(ip4.DstIP)
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(ip6.DstIP)
		case layers.LayerTypeTCP:
			proto, sp, dp = communityid.ProtoTCP, uint16(tcp.SrcPort), uint16(tcp.DstPort)
		case layers.LayerTypeUDP:
			proto, sp, dp = communityid.ProtoUDP, uint16(udp.SrcPort), uint16(udp.DstPort)
		}
	}
	if proto == 0 || !src.IsValid() {
		return false
	}
	return keep[keyOf(proto, netip.AddrPortFrom(src.Unmap(), sp), netip.AddrPortFrom(dst.Unmap(), dp))]
}

// experiment is experiment.json: PiRogue's layout, which tracewire reads,
// plus the eBPF socket events and what the collector recorded.
type experiment struct {
	Network struct {
		File             string `json:"file"`
		StartCaptureTime int64  `json:"start_capture_time"`
	} `json:"network"`
	SocketEvents struct {
		File string `json:"file"`
	} `json:"socket_events"`
	TLSPlaintext *struct {
		File string `json:"file"`
	} `json:"tls_plaintext,omitempty"`
	Collect *Summary `json:"collect"`
}

func writeExperiment(path string, startMs int64, s *Summary, tls bool) error {
	var x experiment
	x.Network.File = CaptureFile
	x.Network.StartCaptureTime = startMs
	x.SocketEvents.File = EventsFile
	if tls {
		x.TLSPlaintext = &struct {
			File string `json:"file"`
		}{TLSFile}
	}
	x.Collect = s
	b, err := json.MarshalIndent(&x, "", "  ")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	return f.Commit()
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
