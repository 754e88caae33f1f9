package pcap

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
)

func testEntry(i int, t time.Time) *har.Entry {
	e := &har.Entry{
		StartedDateTime: t,
		Timestamp:       har.Seconds(t),
		CommunityID:     "1:abc",
		Timings:         har.NoTimings,
	}
	e.Request = har.Request{Method: "GET", URL: fmt.Sprintf("http://example.com/%d", i), HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: -1}
	e.Response = har.Response{Status: 200, HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: -1}
	e.Response.Content.SetBody(bytes.Repeat([]byte{byte('a' + i%26)}, i%300))
	e.Extra.Set("_n", int64(i))
	return e
}

// The sorter gives the same order whatever its budget, spooled or not, in
// both modes.
func TestSorterOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type in struct {
		k sortKey
		e *har.Entry
	}
	var ins []in
	for i := 0; i < 3000; i++ {
		// Nearly sorted times with ties, as captures give them.
		at := t0.Add(time.Duration(i/3+rng.IntN(50)) * time.Millisecond)
		k := sortKey{t: at.UnixNano(), conn: uint64(rng.IntN(20)), n: uint32(i)}
		ins = append(ins, in{k, testEntry(i, at)})
	}
	collect := func(raw bool, budget int64) ([]sortKey, []byte, int) {
		s := newSorter(raw, budget, t.TempDir())
		defer s.close()
		for _, x := range ins {
			if err := s.add(x.k, x.e); err != nil {
				t.Fatal(err)
			}
		}
		runs := len(s.runs)
		var keys []sortKey
		var out []byte
		err := s.each(func(it *item) error {
			keys = append(keys, it.k)
			if it.raw != nil {
				out = append(out, it.raw...)
			} else {
				out = har.AppendEntry(out, it.e)
			}
			out = append(out, '\n')
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return keys, out, runs
	}
	refKeys, ref, runs := collect(false, 1<<40)
	if runs != 0 {
		t.Fatalf("a huge budget spooled %d runs", runs)
	}
	if len(refKeys) != len(ins) {
		t.Fatalf("%d entries out of %d", len(refKeys), len(ins))
	}
	for i := 1; i < len(refKeys); i++ {
		if refKeys[i-1].cmp(refKeys[i]) >= 0 {
			t.Fatalf("out of order at %d: %+v then %+v", i, refKeys[i-1], refKeys[i])
		}
	}
	for _, raw := range []bool{false, true} {
		for _, budget := range []int64{1, 10 << 10, 1 << 20, 1 << 40} {
			_, got, runs := collect(raw, budget)
			if !bytes.Equal(got, ref) {
				t.Errorf("raw=%v budget=%d (%d runs): output differs", raw, budget, runs)
			}
			if budget == 1 && runs != len(ins) {
				t.Errorf("budget 1: %d runs", runs)
			}
		}
	}
}

func TestDecodeEntryRoundTrip(t *testing.T) {
	e := testEntry(42, time.Date(2024, 1, 1, 0, 0, 0, 123456789, time.UTC))
	raw := har.AppendEntry(nil, e)
	back, err := decodeEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	if again := har.AppendEntry(nil, back); !bytes.Equal(raw, again) {
		t.Errorf("round trip differs:\n%s\n%s", raw, again)
	}
}
