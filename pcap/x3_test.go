package pcap

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

// x3PDU wraps an IPv4 packet in an X3 PDU with one conditional attribute.
func x3PDU(typ uint16, packet []byte) []byte {
	attr := []byte{0, 9, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8} // a timestamp-like TLV
	b := make([]byte, 0, x3FixedHeader+len(attr)+len(packet))
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(x3FixedHeader+len(attr)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(packet)))
	b = binary.BigEndian.AppendUint16(b, x3FormatIPv4)
	b = binary.BigEndian.AppendUint16(b, 3)
	b = append(b, make([]byte, 24)...) // XID, correlation ID
	b = append(b, attr...)
	return append(b, packet...)
}

// The tracking sample's packets, handed over in X3 PDUs on one cleartext
// TCP connection split at arbitrary points, come out as the sample's
// entries (the TLS ones decrypted with the sample's keys), on flows of
// their own.
func TestX3Tunnel(t *testing.T) {
	r, err := capture.Open(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var stream3 []byte
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stream3 = append(stream3, x3PDU(3, nil)...) // keepalives are skipped
		stream3 = append(stream3, x3PDU(x3TypeCC, p.Data[14:])...)
	}

	d := &dispatcher{keys: tls.NewKeys(), limits: httpmsg.DefaultLimits}
	secrets, err := capture.Secrets(sample(t)) // the TLS keys, from the DSB
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		d.keys.AddKeyLog(s)
	}
	var next uint64 = 1
	var ended []stream.Conn
	d.tunnel.newIndex = func() uint64 { next++; return next - 1 }
	d.tunnel.ended = func(c *stream.Conn) { ended = append(ended, *c) }
	outer := &stream.Conn{Client: netip.MustParseAddrPort("192.0.2.1:40000"), Server: netip.MustParseAddrPort("192.0.2.2:9999")}
	sink := &sinkRec{}
	p := d.factory(0)(outer, sink)
	t0 := gencap.DefaultStart
	for i := 0; len(stream3) > 0; i++ {
		n := min(len(stream3), 1+(i*7919)%1400)
		p.Feed(&stream.Chunk{Dir: stream.ClientToServer, Data: stream3[:n], Time: t0.Add(time.Duration(i) * time.Millisecond), Frame: uint64(i + 1)})
		stream3 = stream3[n:]
	}
	p.End(t0.Add(time.Hour), stream.EndFIN)

	if outer.Protocol != "x3" {
		t.Errorf("outer protocol %q", outer.Protocol)
	}
	want := gencap.TrackingRequests()
	if len(sink.entries) != len(want) {
		t.Fatalf("%d entries, want %d; notes %+v", len(sink.entries), len(want), sink.notes)
	}
	for i, w := range want {
		if sink.entries[i].Request.URL != w.URL {
			t.Errorf("entry %d: %s, want %s", i, sink.entries[i].Request.URL, w.URL)
		}
	}
	if len(ended) != 6 {
		t.Errorf("%d inner connections ended, want 6", len(ended))
	}
	for _, c := range ended {
		if c.Index == 0 || (c.Protocol != "http/1" && c.Protocol != "tls→http/1" && c.Protocol != "tls→h2") || c.CommunityID != (communityid.Config{}).ID(communityid.Flow{
			Proto: 6, Src: c.Client.Addr(), Dst: c.Server.Addr(), SrcPort: c.Client.Port(), DstPort: c.Server.Port()}) {
			t.Errorf("inner connection %+v", c)
		}
	}
	for _, n := range sink.notes {
		t.Errorf("note: %+v", n)
	}
}

// A corrupt PDU stops the direction with a note, not a panic.
func TestX3Corrupt(t *testing.T) {
	d := &dispatcher{keys: tls.NewKeys(), limits: httpmsg.DefaultLimits}
	d.tunnel.newIndex = func() uint64 { return 1 }
	c := &stream.Conn{}
	sink := &sinkRec{}
	p := d.factory(0)(c, sink)
	good := x3PDU(x3TypeCC, []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	p.Feed(&stream.Chunk{Data: good, Frame: 1})
	p.Feed(&stream.Chunk{Data: []byte("garbage that is no PDU header at all"), Frame: 2})
	p.Feed(&stream.Chunk{Data: good, Frame: 3})
	p.End(time.Time{}, stream.EndFIN)
	if len(sink.notes) == 0 || !strings.Contains(sink.notes[0].Reason, "frame 2") {
		t.Fatalf("notes %+v", sink.notes)
	}
}

// wireshark/tls-over-tls.pcapng.gz: the decrypted TLS stream is an X3
// handover of a phone's packets; tshark (with the RSA key) shows one HTTP
// request in it, GET /generate_204 to connectivitycheck.gstatic.com.
func TestX3InTLSCorpus(t *testing.T) {
	in := testutil.Corpus(t, "wireshark", "tls-over-tls.pcapng.gz")
	key := testutil.Corpus(t, "wireshark", "tls-over-tls.key")
	out, sum := convertFiles(t, Options{RSAKeyFiles: []string{key}, ListFlows: true}, in)
	h := readHAR(t, out)
	if len(h.Log.Entries) != 1 {
		t.Fatalf("%d entries", len(h.Log.Entries))
	}
	e := h.Log.Entries[0]
	if e.Request.URL != "http://connectivitycheck.gstatic.com/generate_204" || e.Response.Status != 204 {
		t.Errorf("entry %s → %d", e.Request.URL, e.Response.Status)
	}
	// The entry's flow is the phone's, not the handover's.
	want := communityid.Flow{Proto: 6, Src: netip.MustParseAddr("10.157.254.29"), Dst: netip.MustParseAddr("74.125.24.94"), SrcPort: 46180, DstPort: 80}.ID()
	if e.CommunityID != want {
		t.Errorf("community id %s, want %s", e.CommunityID, want)
	}
	if len(sum.Flows) < 2 || sum.Flows[0].Protocol != "tls→x3" || !sum.Flows[0].Decrypted {
		t.Errorf("flows %+v", sum.Flows)
	}
	writeAndValidate(t, out)
}
