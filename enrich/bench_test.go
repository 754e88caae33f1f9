package enrich

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/pcap"
)

// The benchmark of issue 5: 100,000 entries enriched with 1,000,000 socket
// records. 10,000 flows carry 10 requests each, one second apart; each
// request was written by 5 socket writes in the 50 ms before it and its
// response read by 5 reads in the 50 ms after it. Half the records carry
// a 12-frame Java stack (from 100 distinct call paths), the others none,
// as native threads write. The trace is written to a temporary file once.
const (
	benchFlows          = 10_000
	benchEntriesPerFlow = 10
	benchOpsPerSide     = 5
)

func benchFlow(i int) communityid.Flow {
	dev := netip.AddrFrom4([4]byte{10, 8, byte(i >> 8), byte(i)})
	srv := netip.AddrFrom4([4]byte{93, 184, byte(i >> 8 % 7), byte(i % 251)})
	return communityid.Flow{Proto: 6, Src: dev, Dst: srv, SrcPort: uint16(40000 + i%20000), DstPort: 443}
}

// benchSetup writes the trace into a temporary folder of b (removed when
// the benchmark ends) and builds the entries.
func benchSetup(b *testing.B) (file string, size int64, entries []*har.Entry) {
	file = filepath.Join(b.TempDir(), "socket_trace.json")
	if err := writeBenchTrace(file); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	for f := 0; f < benchFlows; f++ {
		fl := benchFlow(f)
		for k := 0; k < benchEntriesPerFlow; k++ {
			t := baseSec + float64(f%600) + float64(k)
			entries = append(entries, entry(fl, t, t+0.2, "HTTP/1.1"))
		}
	}
	return file, st.Size(), entries
}

func writeBenchTrace(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	stacks := make([]string, 100)
	for i := range stacks {
		buf := []byte(`[`)
		for fr := 0; fr < 12; fr++ {
			if fr > 0 {
				buf = append(buf, ',')
			}
			cls := fmt.Sprintf("com.vendor%d.sdk.net.Client%d", i%17, fr)
			buf = fmt.Appendf(buf, `{"class":%q,"file":"Client%d.java","line":%d,"method":"send%d","is_native":false,"str":"%s.send%d(Client%d.java:%d)"}`,
				cls, fr, 100+fr, i, cls, i, fr, 100+fr)
		}
		stacks[i] = string(append(buf, ']'))
	}
	w.WriteString("[\n")
	n := 0
	rec := make([]byte, 0, 4096)
	for fl := 0; fl < benchFlows; fl++ {
		flow := benchFlow(fl)
		for k := 0; k < benchEntriesPerFlow; k++ {
			t := baseSec + float64(fl%600) + float64(k)
			for side := 0; side < 2; side++ {
				for o := 0; o < benchOpsPerSide; o++ {
					ts, ev := t-0.05+float64(o)*0.01, "write"
					if side == 1 {
						ts, ev = t+0.2+0.001+float64(o)*0.01, "read"
					}
					rec = rec[:0]
					if n > 0 {
						rec = append(rec, ",\n"...)
					}
					rec = append(rec, `{"type":"socket_trace_log","dump":"socket_trace.json","data_type":"json","timestamp":`...)
					rec = strconv.AppendInt(rec, int64(ts*1000), 10)
					rec = append(rec, `,"pid":4242,"process":"com.example.app","data":{"socket_fd":87,"socket_type":"tcp6","pid":4242,"thread_id":`...)
					rec = strconv.AppendInt(rec, int64(4250+o), 10)
					rec = append(rec, `,"socket_event_type":"`...)
					rec = append(rec, ev...)
					rec = append(rec, `","dest_ip":"::ffff:`...)
					rec = append(rec, flow.Dst.String()...)
					rec = append(rec, `","dest_port":443,"local_ip":"::ffff:`...)
					rec = append(rec, flow.Src.String()...)
					rec = append(rec, `","local_port":`...)
					rec = strconv.AppendInt(rec, int64(flow.SrcPort), 10)
					if rng.IntN(2) == 0 {
						rec = append(rec, `,"stack":`...)
						rec = append(rec, stacks[rng.IntN(len(stacks))]...)
					}
					rec = append(rec, "}}"...)
					w.Write(rec)
					n++
				}
			}
		}
	}
	w.WriteString("\n]\n")
	return w.Flush()
}

// cpuTime returns the user and system CPU time used by the process, which
// on a shared machine says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEnrich/read-1M-socket-records reads the trace file;
// correlate-100k-entries pairs and attaches the operations of an already
// read trace to the entries (both passes of the pipeline).
func BenchmarkEnrich(b *testing.B) {
	benchFile, benchSize, benchEntries := benchSetup(b)
	b.Run("read-1M-socket-records", func(b *testing.B) {
		b.SetBytes(benchSize)
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			f, err := os.Open(benchFile)
			if err != nil {
				b.Fatal(err)
			}
			tr, err := ReadPiRogueSocketTrace(f, "socket_trace.json")
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			if tr.Len() != benchFlows*benchEntriesPerFlow*2*benchOpsPerSide {
				b.Fatalf("%d operations", tr.Len())
			}
			b.StopTimer()
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(tr.Len()), "retained-B/record")
			runtime.KeepAlive(tr)
			b.StartTimer()
		}
		// The CPU of the GCs around the measurement is included: an upper bound.
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
	f, err := os.Open(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := ReadPiRogueSocketTrace(f, "socket_trace.json")
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("correlate-100k-entries", func(b *testing.B) { benchPair(b, tr, benchEntries, true) })
}

// benchPair pairs and attaches the operations of tr to entries held in
// memory, the enrichment proper; every request (and with responses,
// every response) must get a stack.
func benchPair(b *testing.B, tr *SocketTrace, entries []*har.Entry, responses bool) {
	b.ReportAllocs()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, e := range entries {
			delete(e.Request.Extra, "_stacktrace")
			delete(e.Response.Extra, "_stacktrace")
		}
		c0 := cpuTime()
		b.StartTimer()
		p := &Pipeline{Enrichers: []Enricher{tr.Enricher(DefaultCorrelation())}}
		s, err := pipe(context.Background(), p, slice(entries), func(*har.Entry) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		r := s.Source(PiRogueSocketTraceName)
		got, want := r.Count("requests with a stack trace"), len(entries)
		if responses {
			got += r.Count("responses with a stack trace")
			want *= 2
		}
		if got != want {
			b.Fatalf("%d paired, want %d: %v", got, want, r.Counts)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkEnrichCapture compares enrichment with the conversion it
// follows, on the same traffic: a generated capture of about 100,000
// HTTP/1.1 requests (165 MB, 23,000 connections), converted to a HAR file,
// and 10 socket records per request (1 M records, half with a 12-frame
// stack) written on the capture's own flows. Sub-benchmarks:
// convert-capture is pcap.ConvertHAR of the capture; read-trace reads the
// socket_trace.json (read-trace-digest-known without hashing it, as in
// tracewire.Analyze); pair-attach pairs the operations with the converted
// entries held in memory; enrich-har is the enrich command's work after
// reading the trace:
// both passes over the converted HAR file, pairing, and writing the
// enriched HAR (to io.Discard).
//
// With TRACEWIRE_ENRICH_BENCH_DIR set, the files are written there and
// kept, for timing the commands on them (BENCHMARKS.md).
func BenchmarkEnrichCapture(b *testing.B) {
	dir := os.Getenv("TRACEWIRE_ENRICH_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	capPath := filepath.Join(dir, "traffic.pcap")
	harPath := filepath.Join(dir, "traffic.har")
	tracePath := filepath.Join(dir, "socket_trace.json")
	if os.Getenv("TRACEWIRE_ENRICH_BENCH_REUSE") != "" {
		// The files of an earlier run (same seeds, so the same bytes).
		benchEnrichCapture(b, capPath, harPath, tracePath, -1)
		return
	}
	f, err := os.Create(capPath)
	if err != nil {
		b.Fatal(err)
	}
	st, err := gencap.Write(f, gencap.Config{Seed: 1, Size: 160 << 20, MaxBody: 2000})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	hf, err := os.Create(harPath)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(hf, 1<<20)
	sum, err := pcap.ConvertHAR(context.Background(), []string{capPath}, pcap.Options{ListFlows: true}, bw)
	if err == nil {
		err = bw.Flush()
	}
	hf.Close()
	if err != nil {
		b.Fatal(err)
	}
	flows := map[string]pcap.FlowInfo{}
	for _, fl := range sum.Flows {
		flows[fl.CommunityID] = fl
	}
	nrec, err := writeCaptureTrace(harPath, tracePath, flows)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("capture: %d bytes, %d packets, %d connections, %d entries; trace: %d records", st.Bytes, st.Packets, st.Conns, sum.Entries, nrec)
	benchEnrichCapture(b, capPath, harPath, tracePath, nrec)
}

// benchEnrichCapture runs the sub-benchmarks of BenchmarkEnrichCapture;
// nrec < 0 means the number of records is not known beforehand.
func benchEnrichCapture(b *testing.B, capPath, harPath, tracePath string, nrec int) {
	b.Run("convert-capture", func(b *testing.B) {
		if st, err := os.Stat(capPath); err == nil {
			b.SetBytes(st.Size())
		}
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := pcap.ConvertHAR(context.Background(), []string{capPath}, pcap.Options{}, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
	// read reads the trace; with a known digest (as tracewire.Analyze,
	// which hashes its inputs anyway, passes it), without hashing it.
	read := func(digest string) *SocketTrace {
		fh, err := os.Open(tracePath)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		tr, err := ReadPiRogueSocketTrace(&Digested{Reader: fh, SHA256: digest}, "socket_trace.json")
		if err != nil {
			b.Fatal(err)
		}
		return tr
	}
	for _, v := range []struct{ name, digest string }{{"read-trace", ""}, {"read-trace-digest-known", "known"}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if tr := read(v.digest); nrec >= 0 && tr.Len() != nrec {
					b.Fatalf("%d operations, want %d", tr.Len(), nrec)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
	tr := read("")
	b.Run("pair-attach", func(b *testing.B) {
		b.StopTimer()
		fh, err := os.Open(harPath)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		var entries []*har.Entry
		for e, err := range har.NewReader(bufio.NewReaderSize(fh, 1<<20)).Entries() {
			if err != nil {
				b.Fatal(err)
			}
			entries = append(entries, e)
		}
		b.StartTimer()
		benchPair(b, tr, entries, false)
	})
	b.Run("enrich-har", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			src := &HARFile{Path: harPath}
			var w *har.Writer
			p := &Pipeline{Enrichers: []Enricher{Ptcpdump(), tr.Enricher(DefaultCorrelation())}, Skim: src.Skim()}
			s, err := pipe(context.Background(), p, src.All(), func(e *har.Entry) error {
				if w == nil {
					w = har.NewWriter(io.Discard, src.Log())
				}
				return w.Write(e)
			})
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			r := s.Source(PiRogueSocketTraceName)
			if got := r.Count("requests with a stack trace"); got != s.Entries {
				b.Fatalf("%d of %d requests paired: %v", got, s.Entries, r.Counts)
			}
		}
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
}

// writeCaptureTrace writes 5 writes before each request and 5 reads after
// each response of the HAR, on the entries' flows.
func writeCaptureTrace(harPath, tracePath string, flows map[string]pcap.FlowInfo) (int, error) {
	hf, err := os.Open(harPath)
	if err != nil {
		return 0, err
	}
	defer hf.Close()
	out, err := os.Create(tracePath)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	stack := `[{"class":"com.vendor.sdk.net.Client","file":"Client.java","line":100,"method":"send","is_native":false,"str":"com.vendor.sdk.net.Client.send(Client.java:100)"}`
	for fr := 1; fr < 12; fr++ {
		stack += fmt.Sprintf(`,{"class":"com.vendor.sdk.Layer%d","file":"Layer%d.java","line":%d,"method":"call","is_native":false,"str":"com.vendor.sdk.Layer%d.call(Layer%d.java:%d)"}`, fr, fr, fr, fr, fr, fr)
	}
	stack += "]"
	r := har.NewReader(hf)
	n := 0
	w.WriteString("[\n")
	for e, err := range r.Entries() {
		if err != nil {
			return n, err
		}
		fl := flows[e.CommunityID]
		for side, t0 := range []float64{e.Request.Timestamp - 0.05, e.Response.Timestamp + 0.001} {
			if t0 < 1e9 {
				continue
			}
			for o := 0; o < benchOpsPerSide; o++ {
				ev := "write"
				if side == 1 {
					ev = "read"
				}
				if n > 0 {
					w.WriteString(",\n")
				}
				fmt.Fprintf(w, `{"type":"socket_trace_log","dump":"socket_trace.json","data_type":"json","timestamp":%d,"pid":4242,"process":"com.example.app","data":{"socket_fd":87,"socket_type":"tcp","pid":4242,"thread_id":4250,"socket_event_type":%q,"dest_ip":%q,"dest_port":%d,"local_ip":%q,"local_port":%d`,
					int64((t0+float64(o)*0.009)*1000), ev, fl.Server.Addr(), fl.Server.Port(), fl.Client.Addr(), fl.Client.Port())
				if rng.IntN(2) == 0 {
					w.WriteString(`,"stack":`)
					w.WriteString(stack)
				}
				w.WriteString("}}")
				n++
			}
		}
	}
	w.WriteString("\n]\n")
	return n, w.Flush()
}
