package enrich

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
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

var (
	benchOnce    sync.Once
	benchFile    string
	benchEntries []*har.Entry
	benchSize    int64
	benchErr     error
)

func benchFlow(i int) communityid.Flow {
	dev := netip.AddrFrom4([4]byte{10, 8, byte(i >> 8), byte(i)})
	srv := netip.AddrFrom4([4]byte{93, 184, byte(i >> 8 % 7), byte(i % 251)})
	return communityid.Flow{Proto: 6, Src: dev, Dst: srv, SrcPort: uint16(40000 + i%20000), DstPort: 443}
}

func benchSetup(b *testing.B) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "enrich-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchFile = filepath.Join(dir, "socket_trace.json")
		benchErr = writeBenchTrace(benchFile)
		if st, err := os.Stat(benchFile); err == nil {
			benchSize = st.Size()
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	if benchEntries == nil {
		for f := 0; f < benchFlows; f++ {
			fl := benchFlow(f)
			for k := 0; k < benchEntriesPerFlow; k++ {
				t := baseSec + float64(f%600) + float64(k)
				benchEntries = append(benchEntries, entry(fl, t, t+0.2, "HTTP/1.1"))
			}
		}
	}
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
	benchSetup(b)
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
	b.Run("correlate-100k-entries", func(b *testing.B) {
		b.ReportAllocs()
		var cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for _, e := range benchEntries {
				delete(e.Request.Extra, "_stacktrace")
				delete(e.Response.Extra, "_stacktrace")
			}
			c0 := cpuTime()
			b.StartTimer()
			p := &Pipeline{Enrichers: []Enricher{tr.Enricher(DefaultCorrelation())}}
			s, err := p.Run(context.Background(), SliceSource(benchEntries), func(*har.Entry) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			r := s.Source(PiRogueSocketTraceName)
			if got := r.Count("requests with a stack trace") + r.Count("responses with a stack trace"); got != 2*len(benchEntries) {
				b.Fatalf("%d requests and responses paired, want %d: %v", got, 2*len(benchEntries), r.Counts)
			}
			b.StopTimer()
			cpu += cpuTime() - c0
			b.StartTimer()
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
}
