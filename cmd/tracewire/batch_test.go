package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/parquet-go/parquet-go"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/batch"
	"github.com/tracewire/tracewire/internal/testutil"
	rep "github.com/tracewire/tracewire/report"
)

// batchTree builds a study folder: a capture, a backend HAR with its
// provenance log, an empty capture and a truncated HAR.
func batchTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "study")
	put := func(name string, b []byte) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("apps/weather/tracking.pcapng", mustRead(t, samplePath()))
	put("backend/shop-backend.har", mustRead(t, shopHAR()))
	put("backend/provenance.jsonl", mustRead(t, shopProv()))
	put("bad/empty.pcap", nil)
	h := mustRead(t, shopHAR())
	put("bad/cut.har", h[:len(h)*2/3])
	return root
}

func runBatchCLI(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	out, errb, err := runCLI(t, stdin, append([]string{"batch"}, args...)...)
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee) || errors.Is(err, tracewire.ErrIncomplete):
		code = exitStatus(err)
	default:
		t.Fatalf("batch: %v\n%s", err, errb)
	}
	return out, errb, code
}

// outputs returns every file under dir with its content.
func outputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		r, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(r)] = string(mustRead(t, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func failedLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, " FAILED ") {
			out = append(out, l)
		}
	}
	return out
}

func TestBatch(t *testing.T) {
	root := batchTree(t)
	out1 := filepath.Join(t.TempDir(), "out")
	_, stderr, code := runBatchCLI(t, nil, root, "-o", out1, "--jobs", "2", "--format", "html,md", "--indicators-everywhere")
	if code != 1 {
		t.Errorf("exit status %d with failed inputs, want 1", code)
	}
	fails := failedLines(stderr)
	if len(fails) != 2 || !strings.Contains(stderr, "FAILED study/bad/empty.pcap: empty file") || !strings.Contains(stderr, "FAILED study/bad/cut.har: ") {
		t.Errorf("failure lines:\n%s", stderr)
	}
	if !strings.Contains(stderr, "4 analyses: 2 done, 0 skipped (unchanged), 2 failed") {
		t.Errorf("summary:\n%s", stderr)
	}
	files := outputs(t, out1)
	for _, want := range []string{
		"study/apps/weather/tracking.pcapng/analysis.har", "study/apps/weather/tracking.pcapng/findings.json",
		"study/apps/weather/tracking.pcapng/report.html", "study/apps/weather/tracking.pcapng/report.md",
		"study/apps/weather/tracking.pcapng/manifest.json",
		// The backend HAR is enriched with its provenance log, so written.
		"study/backend/shop-backend.har/analysis.har", "study/backend/shop-backend.har/report.md",
		"study/bad/empty.pcap/manifest.json", "findings.jsonl", "findings.parquet",
	} {
		if _, ok := files[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	if strings.Contains(files["study/backend/shop-backend.har/analysis.har"], `"_owners"`) == false {
		t.Error("the enriched HAR has no _owners")
	}
	var m batch.Manifest
	if err := json.Unmarshal([]byte(files["study/bad/empty.pcap/manifest.json"]), &m); err != nil || m.Status != string(batch.Failed) || m.Error != "empty file" {
		t.Errorf("manifest of the failure: %v %+v", err, m)
	}
	// The tables hold every finding of both analyses, in job order.
	var total int
	var order []string
	for _, id := range []string{"study/apps/weather/tracking.pcapng", "study/backend/shop-backend.har"} {
		a, err := rep.ReadAnalysis(strings.NewReader(files[id+"/findings.json"]), id)
		if err != nil {
			t.Fatal(err)
		}
		total += len(a.Findings)
		for range a.Findings {
			order = append(order, id)
		}
	}
	lines := strings.Split(strings.TrimSpace(files["findings.jsonl"]), "\n")
	if len(lines) != total || total == 0 {
		t.Fatalf("%d JSONL rows, %d findings", len(lines), total)
	}
	for i, l := range lines {
		var r rep.Row
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.InputFile != order[i] {
			t.Fatalf("row %d: %v %s", i, err, l)
		}
	}
	rows, err := parquet.ReadFile[rep.Row](filepath.Join(out1, "findings.parquet"))
	if err != nil || len(rows) != total || rows[len(rows)-1].Owner != "alice@example.com" {
		t.Errorf("parquet: %v, %d rows", err, len(rows))
	}

	// A second run skips everything, failures included, and changes nothing.
	_, stderr, code = runBatchCLI(t, nil, root, "-o", out1, "--jobs", "2", "--format", "html,md", "--indicators-everywhere")
	if code != 1 || !strings.Contains(stderr, "4 analyses: 0 done, 2 skipped (unchanged), 2 failed") || len(failedLines(stderr)) != 2 {
		t.Errorf("second run (%d):\n%s", code, stderr)
	}
	if again := outputs(t, out1); !equalMaps(files, again) {
		t.Error("the second run changed the outputs")
	}

	// An output that is not what was written (a crash before it reached
	// the disk, an edit) makes its analysis run again.
	rp := filepath.Join(out1, "study", "apps", "weather", "tracking.pcapng", "report.html")
	if err := os.WriteFile(rp, []byte("<html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ = runBatchCLI(t, nil, root, "-o", out1, "--jobs", "2", "--format", "html,md", "--indicators-everywhere")
	if !strings.Contains(stderr, "4 analyses: 1 done, 1 skipped (unchanged), 2 failed") {
		t.Errorf("after damaging an output:\n%s", stderr)
	}
	if again := outputs(t, out1); !equalMaps(files, again) {
		t.Error("the outputs were not made again as before")
	}

	// One job or two: the same bytes.
	out2 := filepath.Join(t.TempDir(), "out")
	runBatchCLI(t, nil, root, "-o", out2, "--jobs", "1", "--format", "html,md", "--indicators-everywhere")
	if one := outputs(t, out2); !equalMaps(files, one) {
		t.Error("--jobs 1 and --jobs 2 give different outputs")
	}

	// A changed input runs again; other options are another run.
	if err := os.WriteFile(filepath.Join(root, "backend", "provenance.jsonl"), mustRead(t, shopProv())[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ = runBatchCLI(t, nil, root, "-o", out1, "--format", "html,md", "--indicators-everywhere")
	if !strings.Contains(stderr, "1 done, 1 skipped") {
		t.Errorf("after changing an input:\n%s", stderr)
	}
	_, stderr, _ = runBatchCLI(t, nil, root, "-o", out1, "--format", "html,md", "--indicators-everywhere", "--lang", "de", "--retry-failed")
	if !strings.Contains(stderr, "2 done, 0 skipped") || len(failedLines(stderr)) != 2 || strings.Contains(stderr, "earlier run") {
		t.Errorf("other options, --retry-failed:\n%s", stderr)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestBatchStream is the map-step mode: paths on standard input, finding
// rows as JSON Lines on standard output, in input order.
func TestBatchStream(t *testing.T) {
	root := batchTree(t)
	list := strings.Join([]string{
		filepath.Join(root, "backend"), filepath.Join(root, "bad", "empty.pcap"), filepath.Join(root, "apps"),
	}, "\n") + "\n"
	stdout, stderr, code := runBatchCLI(t, []byte(list), "-", "-o", "-", "--jobs", "2")
	if code != 1 || len(failedLines(stderr)) != 1 {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r rep.Row
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if len(ids) == 0 || ids[len(ids)-1] != r.InputFile {
			ids = append(ids, r.InputFile)
		}
	}
	// Jobs come sorted by ID: apps/... before backend/...; rows name the
	// paths as found.
	want := filepath.Join(root, "apps", "weather", "tracking.pcapng") + " " + filepath.Join(root, "backend", "shop-backend.har")
	if strings.Join(ids, " ") != want {
		t.Errorf("row order %v", ids)
	}
	again, _, _ := runBatchCLI(t, []byte(list), "-", "-o", "-", "--jobs", "1")
	if again != stdout {
		t.Error("the rows differ between --jobs 1 and 2")
	}
}

// TestBatchCorpus runs over the whole external corpus: every readable
// capture and HAR gets a report, every unreadable file one failure line,
// and a second run skips everything.
func TestBatchCorpus(t *testing.T) {
	corpus := testutil.Corpus(t)
	out := filepath.Join(t.TempDir(), "out")
	_, stderr, _ := runBatchCLI(t, nil, corpus, "-o", out, "--jobs", "2")
	jobs, err := tracewire.Discover([]string{corpus})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	noPackets := map[string]bool{}
	for _, l := range failedLines(stderr) {
		id := strings.TrimPrefix(l, "tracewire: batch: FAILED ")
		id = id[:strings.Index(id, ":")]
		if failed[id] {
			t.Errorf("two failure lines for %s", id)
		}
		failed[id] = true
		noPackets[id] = strings.HasSuffix(l, "holds no packets: nothing to analyse")
	}
	var noReport []string
	for _, j := range jobs {
		dir := filepath.Join(out, filepath.FromSlash(j.ID))
		_, err := os.Stat(filepath.Join(dir, "report.html"))
		switch {
		case failed[j.ID]:
			// Only files that cannot be read as captures or HAR files
			// may fail; each is empty or not what its name says, or a
			// capture with only its headers (no packets).
			if st, err := os.Stat(j.Input.Files[0]); err != nil || st.Size() > 0 && !noPackets[j.ID] {
				t.Errorf("%s failed but is not empty", j.ID)
			}
		case err != nil:
			noReport = append(noReport, j.ID)
		}
	}
	if len(noReport) > 0 {
		t.Errorf("no report for %v", noReport)
	}
	if len(failed) == 0 || len(jobs) < 100 {
		t.Errorf("%d jobs, %d failures: the corpus has changed; check the test", len(jobs), len(failed))
	}
	want := fmt.Sprintf("%d analyses: 0 done, %d skipped (unchanged), %d failed", len(jobs), len(jobs)-len(failed), len(failed))
	_, stderr, _ = runBatchCLI(t, nil, corpus, "-o", out, "--jobs", "2")
	if !strings.Contains(stderr, want) {
		t.Errorf("second run: want %q in\n%s", want, stderr)
	}
}

// BenchmarkBatch measures batch throughput with one and two jobs over a
// set of corpus captures and HAR files (see BENCHMARKS.md, "Batch").
func BenchmarkBatch(b *testing.B) {
	corpus := testutil.Corpus(b)
	src := filepath.Join(b.TempDir(), "bench")
	// Medium-sized inputs of every kind, each linked several times so
	// both workers stay busy to the end.
	inputs := []string{
		"pcap2har/out-of-order.pcap", "pcap2har/pcapr.net.pcap", "pcap2har/fhs.pcap", "pcap2har/github.pcap",
		"har/pagexray/www.nytimes.com.har", "har/pagexray/contentTypes_ferguson.har", "har/reporthar/android_first-run.har",
		"har/perfcascade/firefox_h2_filamentgroup.com.har", "tls-extra/test301-baidu-tls12-dsb.pcapng", "wireshark/quic_follow_multistream.pcapng",
		"zeek/http_http-post-large.pcap",
	}
	var size int64
	for copyN := 0; copyN < 8; copyN++ {
		for _, in := range inputs {
			p := filepath.Join(corpus, filepath.FromSlash(in))
			st, err := os.Stat(p)
			if err != nil {
				b.Skipf("corpus file %s missing", in)
			}
			size += st.Size()
			dst := filepath.Join(src, fmt.Sprintf("copy%d", copyN), strings.ReplaceAll(in, "/", "_"))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.Symlink(p, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			b.SetBytes(size)
			for i := 0; i < b.N; i++ {
				out := filepath.Join(b.TempDir(), "out")
				var errb bytes.Buffer
				err := run(context.Background(), []string{"batch", src, "-o", out, "--jobs", fmt.Sprint(jobs)}, strings.NewReader(""), &bytes.Buffer{}, &errb)
				if err != nil {
					b.Fatalf("%v\n%s", err, errb.String())
				}
			}
		})
	}
}

// TestBatchOutputInsideInput: the output folder inside the folder
// analysed is not analysed itself on the next run.
func TestBatchOutputInsideInput(t *testing.T) {
	root := batchTree(t)
	out := filepath.Join(root, "results")
	runBatchCLI(t, nil, root, "-o", out)
	_, stderr, _ := runBatchCLI(t, nil, root, "-o", out)
	if !strings.Contains(stderr, "4 analyses: 0 done, 2 skipped (unchanged), 2 failed") {
		t.Errorf("second run:\n%s", stderr)
	}
	if _, _, err := runCLI(t, nil, "batch", root, "-o", out, "--lang", "fr"); err == nil || !strings.Contains(err.Error(), "--lang") {
		t.Errorf("--lang fr: %v", err)
	}
}

// BenchmarkCeiling is the same fixed amount of pure CPU work (SHA-256) on
// one and two goroutines: on a machine shared with other processes it
// shows how much of a second core is free, the ceiling for BenchmarkBatch's
// speed-up at the time.
func BenchmarkCeiling(b *testing.B) {
	buf := make([]byte, 32<<20)
	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				done := make(chan struct{})
				for k := 0; k < g; k++ {
					go func() {
						for n := 0; n < 8/g; n++ {
							sha256.Sum256(buf)
						}
						done <- struct{}{}
					}()
				}
				for k := 0; k < g; k++ {
					<-done
				}
			}
		})
	}
}

// TestBatchJobsCapCPUs checks that --jobs N runs with at most N CPUs
// running Go code, and that the setting is given back afterwards.
func TestBatchJobsCapCPUs(t *testing.T) {
	root := batchTree(t)
	before := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		jobs string
		want []int // the values set, in order
	}{
		{"1", []int{1, before}},
		{strconv.Itoa(before), nil},
		{strconv.Itoa(before + 3), nil},
	} {
		var set []int
		setProcs = func(n int) int {
			set = append(set, n)
			return runtime.GOMAXPROCS(n)
		}
		runBatchCLI(t, nil, root, "-o", filepath.Join(t.TempDir(), "out"), "--jobs", tc.jobs)
		setProcs = runtime.GOMAXPROCS
		if before == 1 && tc.jobs == "1" {
			tc.want = nil
		}
		if !slices.Equal(set, tc.want) {
			t.Errorf("--jobs %s on %d CPUs: GOMAXPROCS set to %v, want %v", tc.jobs, before, set, tc.want)
		}
		if got := runtime.GOMAXPROCS(0); got != before {
			t.Fatalf("--jobs %s: GOMAXPROCS %d after the run, want %d", tc.jobs, got, before)
		}
	}
}

// TestBatchFormatOnly: changing --format alone renders the reports again
// from the stored analyses, without analysing, and removes the reports of
// formats no longer asked for; the manifests list what is there.
func TestBatchFormatOnly(t *testing.T) {
	root := batchTree(t)
	out := filepath.Join(t.TempDir(), "out")
	runBatchCLI(t, nil, root, "-o", out, "--format", "html,md")
	first := outputs(t, out)
	const dir = "study/apps/weather/tracking.pcapng/"

	_, stderr, code := runBatchCLI(t, nil, root, "-o", out, "--format", "html")
	if code != 1 || !strings.Contains(stderr, "4 analyses: 0 done, 2 reports rendered again (analysis unchanged), 0 skipped (unchanged), 2 failed") ||
		!strings.Contains(stderr, "tracewire: batch: rendered "+dir[:len(dir)-1]+" (") {
		t.Errorf("--format html after html,md (exit %d):\n%s", code, stderr)
	}
	now := outputs(t, out)
	for _, name := range []string{dir + "report.md", "study/backend/shop-backend.har/report.md"} {
		if _, ok := now[name]; ok {
			t.Errorf("the stale %s is still there", name)
		}
	}
	for _, name := range []string{dir + "analysis.har", dir + "findings.json", dir + "report.html"} {
		if now[name] != first[name] {
			t.Errorf("%s changed", name)
		}
	}
	if m := now[dir+"manifest.json"]; strings.Contains(m, "report.md") || !strings.Contains(m, `"report.html"`) {
		t.Errorf("manifest after --format html:\n%s", m)
	}

	// Back to both: the same bytes as the first run, manifests included.
	_, stderr, _ = runBatchCLI(t, nil, root, "-o", out, "--format", "md,html")
	if !strings.Contains(stderr, "2 reports rendered again") {
		t.Errorf("--format md,html:\n%s", stderr)
	}
	_, stderr, _ = runBatchCLI(t, nil, root, "-o", out, "--format", "html,md")
	if !strings.Contains(stderr, "0 done, 2 reports rendered again") {
		t.Errorf("--format html,md:\n%s", stderr)
	}
	if again := outputs(t, out); !equalMaps(first, again) {
		t.Error("the reports rendered again differ from the first run's")
	}
}
