package enrich

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
)

// fastTestStacks returns stacks that share long prefixes (as real ones
// do: the same socket and TLS frames, then the caller), and long ones.
func fastTestStacks() []string {
	frame := func(cls string, i int) string {
		return fmt.Sprintf(`{"class":%q,"file":"F.java","line":%d,"method":"m","is_native":false,"str":"%s.m(F.java:%d)"}`, cls, i, cls, i)
	}
	var common []string
	for i := 0; i < 20; i++ {
		common = append(common, frame(fmt.Sprintf("java.net.SocketOutputStream%d", i), i))
	}
	var out []string
	for k := 0; k < 12; k++ {
		frames := append(append([]string(nil), common[:k+3]...), frame(fmt.Sprintf("com.vendor%d.Caller", k), 1000+k))
		out = append(out, "["+strings.Join(frames, ",")+"]")
	}
	for _, n := range []int{512, 1024, 1025, 511} {
		s := `[{"class":"x","pad":"`
		s += strings.Repeat("p", n-len(s)-3) + `"}]`
		if len(s) != n {
			panic(len(s))
		}
		out = append(out, s)
	}
	out = append(out, `[]`, `[ ]`, `[{"class":"a\"b","line":1e3}]`)
	return out
}

// fastTestTrace writes n records, mostly plain, some of every kind the
// fast path leaves to parse.
func fastTestTrace(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	stacks := fastTestStacks()
	odd := []string{
		`{"type":"socket_trace_log","timestamp":1700000000000,"process":"com.ex\u0061mple","data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000.5,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1,"pid":1.0,"extra_key":[1,{"a_b":2}]}}`,
		`{"timestamp":1700000000000,"timestamp":1700000001000,"data":{"socket_type":"tcp","socket_event_type":"read","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_type":"udp","socket_event_type":"read","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"connect","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":0,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"2001:db8::1","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"unix","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1,"stack":"oops"}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1,"stack":[1,2]}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1,"stack":null}}`,
		`{"timestamp":1700000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`,
		`{"type":"aes_info_log","timestamp":1700000000000,"data":{}}`,
		`{"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1},"timestamp":1700000000000,"pid":7,"process":"late"}`,
		`{ "type" : "socket_trace_log" , "timestamp" : 1700000000000 , "pid" : 9 , "data" : { "socket_type" : "tcp6" , "socket_event_type" : "recvfrom" , "dest_ip" : "::ffff:1.2.3.4" , "dest_port" : 443 , "local_ip" : "::ffff:10.0.0.1" , "local_port" : 2 , "stack" : [ {"class":"s"} ] } }`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443.0,"local_ip":"10.0.0.1","local_port":1}}`,
		`"not a record"`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","stack":[{"class":"java.net.SocketOutputStream0"}],"local_port":1}}`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1,"stack":[{"class":"java.net.SocketOutputStream0"}]} }`,
		`{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1,"stack":[{"class":"java.net.SocketOutputStream0"}],"stack":[]}}`,
		`{"timestamp":1700000000000,"data":{}}`,
	}
	var b strings.Builder
	b.WriteString("[\n")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		if rng.IntN(10) == 0 {
			b.WriteString(odd[rng.IntN(len(odd))])
			continue
		}
		ev := []string{"write", "read", "sendto", "recvfrom"}[rng.IntN(4)]
		fmt.Fprintf(&b, `{"type":"socket_trace_log","dump":"socket_trace.json","data_type":"json","timestamp":%d,"pid":4242,"process":"com.example.app%d","data":{"socket_fd":%d,"socket_type":"tcp6","pid":4242,"thread_id":%d,"socket_event_type":%q,"dest_ip":"::ffff:93.184.216.%d","dest_port":443,"local_ip":"::ffff:10.8.0.2","local_port":%d`,
			1700000000000+rng.IntN(100000), rng.IntN(2), 80+rng.IntN(3), 4250+rng.IntN(5), ev, rng.IntN(4), 40000+rng.IntN(6))
		if k := rng.IntN(len(stacks) + 3); k < len(stacks) {
			b.WriteString(`,"stack":`)
			b.WriteString(stacks[k])
		}
		b.WriteString("}}")
	}
	b.WriteString("\n]\n")
	return b.String()
}

// TestPiRogueFastPath: the fast path reads every record it takes exactly
// as parse does, takes the plain ones, and recognises repeated stacks.
func TestPiRogueFastPath(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		js := fastTestTrace(3000, seed)
		slow, err1 := readPiRogue(strings.NewReader(js), "t.json", true)
		fast, err := readPiRogue(strings.NewReader(js), "t.json", false)
		sameTrace(t, fmt.Sprintf("seed %d", seed), err, err1, fast, slow)
		if fast.fastRecords < 2400 || slow.fastRecords != 0 {
			t.Errorf("seed %d: %d records read the fast way, %d with it off", seed, fast.fastRecords, slow.fastRecords)
		}
		// Refills cut records and stacks anywhere.
		half, err2 := readPiRogue(iotest.HalfReader(strings.NewReader(js)), "t.json", false)
		sameTrace(t, "half reads", err, err2, fast, half)
	}
}

// TestStackEnd: where a record's last array ends, when it ends with "]}}".
func TestStackEnd(t *testing.T) {
	for _, c := range []struct {
		rec  string
		want int
	}{
		{`{"data":{"stack":[1]}}`, 20},
		{`{"data":{"stack":[1] } }`, 20},
		{"{\"data\":{\"stack\":[1]\n}\t}", 20},
		{`{"data":{"stack":[1],"x":2}}`, -1},
		{`{"data":{"stack":null}}`, -1},
		{`]}}`, 1},
		{`}}`, -1},
		{``, -1},
	} {
		if got := stackEnd([]byte(c.rec)); got != c.want {
			t.Errorf("stackEnd(%q) = %d, want %d", c.rec, got, c.want)
		}
	}
}

func BenchmarkPiRogueFastRecord(b *testing.B) {
	js := fastTestTrace(20000, 1)
	b.SetBytes(int64(len(js)))
	for i := 0; i < b.N; i++ {
		if _, err := ReadPiRogueSocketTrace(strings.NewReader(js), "t.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFinishOrder: finish gives the order of a sort by
// group, time and record, whether or not the records came in time order.
func TestFinishOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 50; round++ {
		tr := &SocketTrace{cids: make([]string, 1+rng.IntN(20))}
		var want []sockOp
		n := rng.IntN(3000)
		for ref := 0; ref < n; ref++ {
			g := int32(rng.IntN(2 * len(tr.cids)))
			ts := float64(rng.IntN(50)) / 10
			if round%2 == 0 {
				ts = float64(ref) // in time order
			}
			op := sockOp{t: ts, group: g, ref: int32(ref)}
			tr.pend.add(op)
			want = append(want, op)
		}
		sort.Slice(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if a.group != b.group {
				return a.group < b.group
			}
			if a.t != b.t {
				return a.t < b.t
			}
			return a.ref < b.ref
		})
		tr.finish()
		if len(want) == 0 {
			want = []sockOp{}
		}
		if !reflect.DeepEqual(tr.ops, want) {
			t.Fatalf("round %d: order differs", round)
		}
		for g := int32(0); g < int32(2*len(tr.cids)); g++ {
			lo, hi := tr.span(g)
			for k := lo; k < hi; k++ {
				if tr.ops[k].group != g {
					t.Fatalf("round %d: group %d's span holds group %d", round, g, tr.ops[k].group)
				}
			}
		}
	}
}

// TestPiRogueFastAndSlowFiles: reading with parseFast gives what the
// json/v2 unmarshal alone gives (records, operations, flows, stacks, stats,
// skips, errors) on whole, truncated and broken files whose records hold
// things that look like records, read in one piece or in small reads.
func TestPiRogueFastAndSlowFiles(t *testing.T) {
	// A record holding things that look like records after "},": a frame
	// list, an array of fake records, a string.
	fake := `{"type":"socket_trace_log","timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}`
	nested := `{"timestamp":1700000000000,"odd":[{"a":1}, ` + fake + `,` + fake + `],"process":"x}, {\"type\":1","data":{"socket_type":"tcp","socket_event_type":"read","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":2}}`
	var files []string
	for seed := uint64(1); seed <= 3; seed++ {
		js := fastTestTrace(2000, seed)
		files = append(files, js)
		// Every 50th record replaced by the nested one.
		recs := strings.Split(js, ",\n")
		for i := 3; i < len(recs)-1; i += 50 {
			recs[i] = nested
		}
		files = append(files, strings.Join(recs, ",\n"))
	}
	js := files[1]
	for _, k := range []int{1, 4, 7} {
		cut := len(js) * k / 8
		files = append(files, js[:cut], js[:cut]+`,]`, js[:cut]+"\n,{}]", js[:cut]+`x`+js[cut:], js[:cut]+`}`+js[cut:])
	}
	files = append(files, strings.Replace(js, ",\n", ";\n", 1500))
	fast := 0
	for i, js := range files {
		one, err1 := readPiRogue(strings.NewReader(js), "t.json", false)
		slow, err2 := readPiRogue(strings.NewReader(js), "t.json", true)
		sameTrace(t, fmt.Sprintf("file %d: fast", i), err1, err2, one, slow)
		half, err3 := readPiRogue(iotest.HalfReader(strings.NewReader(js)), "t.json", false)
		sameTrace(t, fmt.Sprintf("file %d: small reads", i), err3, err1, half, one)
		// A read error is an error, wherever it comes.
		cut := len(js) * (i % 7) / 7
		failing := io.MultiReader(strings.NewReader(js[:cut]), iotest.ErrReader(errors.New("disk on fire")))
		if _, err := readPiRogue(failing, "t.json", false); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("file %d, read error after %d bytes: %v", i, cut, err)
		}
		if one != nil {
			fast += one.fastRecords
		}
	}
	if fast < 10000 {
		t.Errorf("%d records read the fast way in all", fast)
	}
}
