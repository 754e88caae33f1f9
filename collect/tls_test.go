package collect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
)

// tlsRaw builds one raw TLS ring buffer record.
func tlsRaw(mono uint64, tid uint32, fn uint8, total int64, offset int, data string, last bool, local, remote string) []byte {
	b := make([]byte, tlsOffData+len(data))
	le := binary.LittleEndian
	le.PutUint64(b[tlsOffMono:], mono)
	le.PutUint64(b[tlsOffSSL:], 0x5628bac28690)
	le.PutUint32(b[tlsOffPid:], 42)
	le.PutUint32(b[tlsOffTid:], tid)
	le.PutUint64(b[tlsOffBytes:], uint64(total))
	le.PutUint32(b[tlsOffOffset:], uint32(offset))
	le.PutUint32(b[tlsOffLen:], uint32(len(data)))
	b[tlsOffFn] = fn
	if last {
		b[tlsOffLast] = 1
	}
	if local != "" {
		b[tlsOffLinked] = 1
		l, r := netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote)
		le.PutUint16(b[tlsOffTuple:], afInet)
		le.PutUint16(b[tlsOffTuple+2:], l.Port())
		le.PutUint16(b[tlsOffTuple+4:], r.Port())
		copy(b[tlsOffTuple+8:], l.Addr().AsSlice())
		copy(b[tlsOffTuple+24:], r.Addr().AsSlice())
	}
	copy(b[tlsOffComm:], "python3")
	copy(b[tlsOffData:], data)
	return b
}

// TestWriteTLS joins the chunks of each call, interleaved with another
// thread's, and marks calls cut at the cap, with a chunk lost, or without
// a socket.
func TestWriteTLS(t *testing.T) {
	var raw bytes.Buffer
	w := bufio.NewWriter(&raw)
	const c, s = "127.0.0.1:38116", "127.0.0.1:443"
	for _, rec := range [][]byte{
		tlsRaw(100, 1, 1, 5, 0, "hello", true, c, s),                                                 // SSL_write, whole
		tlsRaw(200, 1, 3, 200000, 0, strings.Repeat("a", tlsChunk), false, c, s),                     // SSL_write_ex, 4 chunks of 200000 bytes
		tlsRaw(210, 2, 2, 3, 0, "abc", true, "", ""),                                                 // SSL_read of another thread, no socket
		tlsRaw(200, 1, 3, 200000, tlsChunk, strings.Repeat("b", tlsChunk), false, c, s),              //
		tlsRaw(200, 1, 3, 200000, 2*tlsChunk, strings.Repeat("c", tlsChunk), false, c, s),            //
		tlsRaw(200, 1, 3, 200000, 3*tlsChunk, strings.Repeat("d", tlsChunk), true, c, s),             //
		tlsRaw(300, 1, 4, 2*tlsChunk, tlsChunk, strings.Repeat("e", tlsChunk), true, s, "1.2.3.4:5"), // SSL_read_ex whose first chunk was lost
		tlsRaw(400, 1, 1, 2*tlsChunk, 0, strings.Repeat("f", tlsChunk), false, c, s),                 // its last chunk was lost
	} {
		if err := writeRaw(w, rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	out := filepath.Join(t.TempDir(), TLSFile)
	st, err := writeTLS(&raw, out, map[uint32]*procInfo{42: {exe: "/usr/bin/python3"}}, 1_700_000_000_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if st != (tlsStats{calls: 5, unlinked: 1, truncated: 1, incomplete: 2}) {
		t.Errorf("stats %+v", st)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var recs []tlsRecord
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r tlsRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		recs = append(recs, r)
	}
	type short struct {
		event, dir, cid      string
		bytes                int64
		captured             int
		truncated, incomplte bool
	}
	var got []short
	for _, r := range recs {
		got = append(got, short{r.Event, r.Direction, r.CommunityID, r.Bytes, r.Captured, r.Truncated, r.Incomplete})
	}
	cid := "1:" // a Community ID, checked below
	want := []short{
		{"SSL_write", "out", cid, 5, 5, false, false},
		{"SSL_read", "in", "", 3, 3, false, false},
		{"SSL_write_ex", "out", cid, 200000, 4 * tlsChunk, true, false},
		{"SSL_read_ex", "in", cid, 2 * tlsChunk, 0, false, true},
		{"SSL_write", "out", cid, 2 * tlsChunk, tlsChunk, false, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		if strings.HasPrefix(g.cid, "1:") {
			g.cid = "1:"
		}
		if g != want[i] {
			t.Errorf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if string(recs[0].Data) != "hello" || recs[0].TsNs != 1_700_000_000_000_000_100 || recs[0].Exe != "/usr/bin/python3" || recs[0].Comm != "python3" || recs[0].SSL != "0x5628bac28690" {
		t.Errorf("first record %+v", recs[0])
	}
	if recs[0].LocalAddr != "127.0.0.1" || recs[0].LocalPort != 38116 || recs[0].RemotePort != 443 {
		t.Errorf("first record's socket %s:%d → %s:%d", recs[0].LocalAddr, recs[0].LocalPort, recs[0].RemoteAddr, recs[0].RemotePort)
	}
	if d := recs[2].Data; string(d[:1])+string(d[tlsChunk:tlsChunk+1])+string(d[3*tlsChunk:3*tlsChunk+1]) != "abd" {
		t.Errorf("chunks joined out of order")
	}
	if recs[1].LocalAddr != "" || recs[1].CommunityID != "" {
		t.Errorf("a call without a socket has one: %+v", recs[1])
	}
}
