package enrich

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tracewire/tracewire/har"
)

// Every reader must either fail with an *InputError (or another error that
// says which file) or give records that enrich entries without panicking.

func checkReadErr(t *testing.T, err error) {
	t.Helper()
	var ie *InputError
	if err != nil && !errors.As(err, &ie) {
		t.Fatalf("error is %T, not *InputError: %v", err, err)
	}
}

// sameRead fails when two reads of the same bytes differ.
func sameRead(t *testing.T, err, err1 error, tr, tr1 *SocketTrace) {
	t.Helper()
	if (err == nil) != (err1 == nil) || (err != nil && err.Error() != err1.Error()) {
		t.Fatalf("whole read: %v; byte by byte: %v", err, err1)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(tr.Stats, tr1.Stats) || !reflect.DeepEqual(tr.ops, tr1.ops) {
		t.Fatalf("whole read: %+v %v\nbyte by byte: %+v %v", tr.Stats, tr.ops, tr1.Stats, tr1.ops)
	}
}

// sameTrace fails when two reads differ in anything an enricher uses:
// the stats, the operations, the flows and the _stacktrace of each
// operation.
func sameTrace(t *testing.T, what string, err, err1 error, tr, tr1 *SocketTrace) {
	t.Helper()
	if (err == nil) != (err1 == nil) || (err != nil && err.Error() != err1.Error()) {
		t.Fatalf("%s: %v; other way: %v", what, err, err1)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(tr.Stats, tr1.Stats) || !reflect.DeepEqual(tr.ops, tr1.ops) || !reflect.DeepEqual(tr.cids, tr1.cids) {
		t.Fatalf("%s: %+v %v %v\nother way: %+v %v %v", what, tr.Stats, tr.ops, tr.cids, tr1.Stats, tr1.ops, tr1.cids)
	}
	for _, op := range tr.ops {
		if a, b := tr.render(op.ref), tr1.render(op.ref); !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: record %d renders as %v, other way %v", what, op.ref, a, b)
		}
	}
}

func fuzzEntries() []*har.Entry {
	e := entry(flowA, baseSec+10, baseSec+10.3, "HTTP/2")
	e.Request.PostData = &har.PostData{Text: "0123456789abcdef0123456789abcdef alice@example.com"}
	e.Response.Content.Text = "MDEyMzQ1Njc4OWFiY2RlZg=="
	e.Extra.Set("_packetComments", []any{"PID: 1\nCmd: a"})
	return []*har.Entry{e, entry(flowA, baseSec+10, baseSec+10.3, "HTTP/2"), entry(flowB, baseSec+11, 0, "HTTP/1.1")}
}

func FuzzPiRogueSocketTrace(f *testing.F) {
	f.Add([]byte(traceJSON(onFlow(flowA, baseSec+9.9, "write", "a.B", "c.D"), onFlow(flowA, baseSec+10.31, "read"))))
	f.Add([]byte(`[{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"::ffff:10.0.0.1","local_port":1,"stack":"x","extra":[{"a_b":1}]}}]`))
	f.Add([]byte(`[{"timestamp":1700000000, "data":{}}, 3, "x", null]`))
	f.Add([]byte("[\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ReadPiRogueSocketTrace(bytes.NewReader(b), "socket_trace.json")
		checkReadErr(t, err)
		// Records cut by every buffer refill read the same.
		tr1, err1 := ReadPiRogueSocketTrace(iotest.OneByteReader(bytes.NewReader(b)), "socket_trace.json")
		sameRead(t, err, err1, tr, tr1)
		// parseFast reads what it reads as parse does.
		tr2, err2 := readPiRogue(bytes.NewReader(b), "socket_trace.json", true)
		sameTrace(t, "fast", err, err2, tr, tr2)
		if err != nil {
			return
		}
		run(t, fuzzEntries(), tr.Enricher(DefaultCorrelation()))
	})
}

func FuzzEBPFEvents(f *testing.F) {
	f.Add([]byte(`{"ts_ns":1700000009990000123,"pid":1,"tid":2,"comm":"c","event":"sendmsg","protocol":"tcp","local_addr":"10.8.0.2","local_port":43210,"remote_addr":"93.184.216.34","remote_port":443,"managed_stack":[{"function":"a.B.c","line":1}],"native_stack":[{"module":"libc.so","address":"0x10"}]}` + "\n" +
		`{"ts_ns":1700000010300000000,"event":"read","protocol":"tcp6","local_addr":"::ffff:10.8.0.2","local_port":43210,"remote_addr":"93.184.216.34","remote_port":443,"native_stack":[1]}`))
	f.Add([]byte(`{"ts_ns":1.7e18,"direction":"in","protocol":"udp"}{"ts_ns":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ReadEBPFEvents(bytes.NewReader(b), "events.jsonl")
		checkReadErr(t, err)
		tr1, err1 := ReadEBPFEvents(iotest.OneByteReader(bytes.NewReader(b)), "events.jsonl")
		sameRead(t, err, err1, tr, tr1)
		if err != nil {
			return
		}
		run(t, fuzzEntries(), tr.Enricher(DefaultCorrelation()))
	})
}

func FuzzTLSPlaintext(f *testing.F) {
	f.Add([]byte(`{"ts_ns":1700000000123456789,"event":"SSL_write_ex","direction":"out","ssl":"0x1","local_addr":"127.0.0.1","local_port":38116,"remote_addr":"127.0.0.1","remote_port":443,"community_id":"1:x","pid":1,"tid":1,"comm":"p","bytes":4,"captured":4,"data":"UE9TVA=="}` + "\n" +
		`{"event":"SSL_read","direction":"in","local_addr":"::1","local_port":1,"remote_addr":"::1","remote_port":70000,"community_id":"1:y","data":"!!"}`))
	f.Add([]byte(`[{"direction":"sideways"},{"local_port":-1},3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := ReadTLSPlaintext(bytes.NewReader(b), "tls_plaintext.jsonl")
		checkReadErr(t, err)
		tp1, err1 := ReadTLSPlaintext(iotest.OneByteReader(bytes.NewReader(b)), "tls_plaintext.jsonl")
		if (err == nil) != (err1 == nil) || err == nil && !reflect.DeepEqual(tp.streams, tp1.streams) {
			t.Fatalf("whole read %v, byte by byte %v", err, err1)
		}
		if err != nil {
			return
		}
		run(t, fuzzEntries(), tp.Enricher())
	})
}

func FuzzAESInfo(f *testing.F) {
	f.Add([]byte(`[{"type":"aes_info_log","timestamp":1700000009000,"pid":1,"process":"p","data":{"alg":"AES/CBC/PKCS5Padding","key":"00","iv":"01","in":"68656c6c6f","out":"30313233343536373839616263646566"}}]`))
	f.Add([]byte(`[{"timestamp":1,"data":{"alg":"SHA-1","in":"00","out":"zz"}},{"data":{"in":"3031323334353637","out":"3031323334353637"}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadAESInfo(bytes.NewReader(b), "aes_info.json")
		checkReadErr(t, err)
		if err != nil {
			return
		}
		run(t, fuzzEntries(), a.Enricher())
	})
}

func FuzzProvenance(f *testing.F) {
	f.Add([]byte(`{"sink":"https","ts":"2023-11-14T22:13:29Z","owners":["alice@example.com"],"data":"alice@example.com"}` + "\n" +
		`{"sink":"file_write","ts":"2023-11-14T22:13:29.5+01:00","dest":"/tmp/x","owners":["bob"],"data":"b"}`))
	f.Add([]byte(`{"sink":"http","ts":"x","owners":[1,null]}{"sink":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadProvenance(bytes.NewReader(b), "provenance.jsonl")
		checkReadErr(t, err)
		if err != nil {
			return
		}
		run(t, fuzzEntries(), p.Enricher(DefaultProvenanceOptions()))
		p.Indicators()
	})
}

func FuzzPtcpdumpComments(f *testing.F) {
	f.Add("PID: 1234\nCmd: /usr/bin/curl\nArgs: curl x", "ParentPID: 1\nParentCmd: init\nContainerId: abc")
	f.Add("hello hello", "PID: x\nPID: 2\n:::")
	f.Fuzz(func(t *testing.T, a, b string) {
		procs := ParsePtcpdumpComments([]string{a, b, a})
		for _, p := range procs {
			if len(p) == 0 {
				t.Fatalf("empty process from %q %q", a, b)
			}
		}
	})
}

func FuzzExperiment(f *testing.F) {
	f.Add([]byte(`{"network":{"start_capture_time":1700000001500,"file":"traffic.pcap"},"device":{"start_capture_time":1700000000000},"socket_traces":{"file":"socket_trace.json"}}`))
	f.Add([]byte(`{"network":[],"device":{"start_capture_time":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "experiment.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		x, err := ReadExperiment(p)
		if err != nil {
			if !strings.Contains(err.Error(), "experiment.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if !x.HasTimeShift && x.TimeShift != 0 {
			t.Fatal("inconsistent time shift")
		}
	})
}

// TestDigestedReader checks that a trace read through Digested records the
// given digest, and one read plainly the SHA-256 of its bytes.
func TestDigestedReader(t *testing.T) {
	b := []byte(`[]`)
	plain, err := ReadPiRogueSocketTrace(bytes.NewReader(b), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(b)); plain.Stats.SHA256 != want {
		t.Errorf("plain read: sha256 %s, want %s", plain.Stats.SHA256, want)
	}
	const given = "given-digest"
	for _, d := range []struct {
		in   *Digested
		want string
	}{
		{&Digested{Reader: bytes.NewReader(b), SHA256: given}, given},
		{&Digested{Reader: bytes.NewReader(b)}, plain.Stats.SHA256}, // none given: hashed
	} {
		tr, err := ReadPiRogueSocketTrace(d.in, "t.json")
		if err != nil {
			t.Fatal(err)
		}
		if tr.Stats.SHA256 != d.want {
			t.Errorf("Digested %q: sha256 %s, want %s", d.in.SHA256, tr.Stats.SHA256, d.want)
		}
	}
}
