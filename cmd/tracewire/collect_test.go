package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/collect"
)

// needCollect skips a test that records with eBPF where that cannot run.
func needCollect(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("collect records with eBPF on Linux only")
	}
	if err := collect.Check(); err != nil {
		t.Skipf("collect cannot run here: %v", err)
	}
}

type collectEvent struct {
	Pid         int    `json:"pid"`
	Comm        string `json:"comm"`
	CommunityID string `json:"community_id"`
	NativeStack []struct {
		Function string `json:"function"`
	} `json:"native_stack"`
}

func readCollected(t *testing.T, dir string) ([]collectEvent, collect.Summary) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, collect.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []collectEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e collectEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", collect.EventsFile, err)
		}
		evs = append(evs, e)
	}
	b, err := os.ReadFile(filepath.Join(dir, collect.ExperimentFile))
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		Collect collect.Summary `json:"collect"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("%s: %v", collect.ExperimentFile, err)
	}
	return evs, x.Collect
}

// TestCollectTrafficGen records a Go program talking to itself over
// 127.0.0.1 and ::1 (HTTP, HTTPS with a key log, HTTP/2) while this test
// process makes requests of its own, which must not be recorded.
func TestCollectTrafficGen(t *testing.T) {
	needCollect(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the traffic generator")
	}
	tmp := t.TempDir()
	gen := filepath.Join(tmp, "trafficgen")
	if out, err := exec.Command(goBin, "build", "-o", gen, "../../collect/testdata/trafficgen").CombinedOutput(); err != nil {
		t.Fatalf("building the traffic generator: %v\n%s", err, out)
	}

	// Traffic from outside the traced tree, during the whole run.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "outside") }))
	defer srv.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if resp, err := http.Get(srv.URL); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()

	dir := filepath.Join(tmp, "run")
	var stdout, stderr strings.Builder
	err = run(context.Background(), []string{"collect", "-o", dir, "--iface", "lo", "--", gen, "-n", "3"}, strings.NewReader(""), &stdout, &stderr)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 9 {
		t.Errorf("the generator printed %d responses, want 9:\n%s", n, stdout.String())
	}

	evs, sum := readCollected(t, dir)
	if sum.Lost != 0 {
		t.Errorf("%d events lost", sum.Lost)
	}
	if sum.KeyLogLines == 0 {
		t.Errorf("no key log lines recorded")
	}
	if len(evs) == 0 {
		t.Fatalf("no events:\n%s", stderr.String())
	}
	ids := map[string]bool{}
	for _, e := range evs {
		if e.Pid != sum.Pid || e.Comm != "trafficgen" {
			t.Errorf("event of pid %d (%s) outside the traced tree (pid %d)", e.Pid, e.Comm, sum.Pid)
		}
		ids[e.CommunityID] = true
	}
	// One connection per server, or more when the client dialled again
	// before a kept-alive one was back in its pool.
	if len(ids) < 3 {
		t.Errorf("events on %d flows, want at least 3 (one per server)", len(ids))
	}

	// Every flow of the events is in the capture, and the capture holds
	// only those (it is filtered to the traced flows).
	out, _, err := runCLI(t, nil, "flows", filepath.Join(dir, collect.CaptureFile), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var flows []flowJSON
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatalf("flows: %v\n%s", err, out)
	}
	inCapture := map[string]bool{}
	for _, f := range flows {
		inCapture[f.CommunityID] = true
		if !ids[f.CommunityID] {
			t.Errorf("capture flow %s → %s (%s) has no event", f.Client, f.Server, f.CommunityID)
		}
	}
	for id := range ids {
		if !inCapture[id] {
			t.Errorf("Community ID %s of the events is not in the capture", id)
		}
	}

	// enrich then detect read the folder as one analysis.
	harPath := filepath.Join(tmp, "enriched.har")
	if _, errOut, err := runCLI(t, nil, "enrich", dir, "-o", harPath); err != nil {
		t.Fatalf("enrich: %v\n%s", err, errOut)
	}
	b, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, b)
	if len(es) != 9 {
		t.Errorf("%d entries, want 9", len(es))
	}
	protos := map[string]int{}
	for i, e := range es {
		protos[e.Request.HTTPVersion]++
		st, ok := e.Request.Extra["_stacktrace"].(map[string]any)
		if !ok {
			t.Errorf("entry %d (%s %s): no request _stacktrace", i, e.Request.Method, e.Request.URL)
			continue
		}
		if p, _ := st["process"].(string); p != "trafficgen" {
			t.Errorf("entry %d: process %q, want trafficgen", i, p)
		}
		if fmt.Sprint(st["pid"]) != fmt.Sprint(sum.Pid) {
			t.Errorf("entry %d: pid %v, want %d", i, st["pid"], sum.Pid)
		}
		found := false
		frames, _ := st["nativeStack"].([]any)
		for _, f := range frames {
			if m, ok := f.(map[string]any); ok {
				if fn, _ := m["function"].(string); strings.HasPrefix(fn, "net/http.") {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("entry %d (%s): no net/http frame in %v", i, e.Request.URL, frames)
		}
	}
	if protos["HTTP/2"]+protos["HTTP/2.0"] != 3 || protos["HTTP/1.1"] != 6 {
		t.Errorf("HTTP versions %v, want 6 HTTP/1.1 and 3 HTTP/2", protos)
	}

	out, errOut, err := runCLI(t, nil, "detect", dir, "--indicator", "email=alice@example.com", "--format", "json")
	if err != nil {
		t.Fatalf("detect: %v\n%s", err, errOut)
	}
	if n := strings.Count(out, `"property":"email"`); n < 9 {
		t.Errorf("detect found the e-mail in %d places, want at least 9 (one per request body):\n%s", n, out)
	}
}

// TestCollectBackend is the server-side tracking case: a Python backend
// posts the SHA-256 of a user's e-mail in a Conversions API body over
// HTTPS; detect names the hash, where it sat, and the process that sent it.
func TestCollectBackend(t *testing.T) {
	needCollect(t)
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 for the backend")
	}
	tmp := t.TempDir()
	t.Setenv("BACKEND_SHARE", filepath.Join(tmp, "share"))
	dir := filepath.Join(tmp, "run")
	backend, _ := filepath.Abs("../../testdata/collect/backend.py")
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"collect", "-o", dir, "--", py, backend}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "answered 200") {
		t.Fatalf("the backend did not post its event:\n%s\n%s", stdout.String(), stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(tmp, "share", "users.csv")); err != nil || !strings.Contains(string(b), "alice@example.com") {
		t.Errorf("the backend wrote no file share: %v", err)
	}
	_, sum := readCollected(t, dir)
	if sum.Lost != 0 {
		t.Errorf("%d events lost", sum.Lost)
	}

	// --wide: the table with the adapter, its cells uncut.
	out, errOut, err := runCLI(t, nil, "detect", dir, "--indicator", "email=alice@example.com", "--wide")
	if err != nil {
		t.Fatalf("detect: %v\n%s", err, errOut)
	}
	h := sha256.Sum256([]byte("alice@example.com"))
	for _, want := range []string{
		hex.EncodeToString(h[:]),
		"data[0].user_data.em[0]",
		"facebook/conversions-api",
		fmt.Sprintf("python3 (pid %d", sum.Pid),
		// Without frame pointers (CPython as Debian builds it) the native
		// stack is the C library's send call.
		"libc.so",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("detect does not name %q:\n%s", want, out)
		}
	}
}

// TestCollectTLSUprobes records the backend with --tls-uprobes: the
// plaintext of its SSL calls is linked to their socket, the request body
// decrypted from the capture is found in it, and a plaintext that says
// otherwise is reported.
func TestCollectTLSUprobes(t *testing.T) {
	needCollect(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("--tls-uprobes reads x86-64 registers")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 for the backend")
	}
	tmp := t.TempDir()
	t.Setenv("BACKEND_SHARE", filepath.Join(tmp, "share"))
	dir := filepath.Join(tmp, "run")
	backend, _ := filepath.Abs("../../testdata/collect/backend.py")
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"collect", "-o", dir, "--tls-uprobes", "--", py, backend}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "answered 200") {
		t.Fatalf("the backend did not post its event:\n%s\n%s", stdout.String(), stderr.String())
	}
	evs, sum := readCollected(t, dir)
	if sum.TLSCalls == 0 || sum.TLSUnlinked != 0 || sum.TLSLost != 0 || sum.TLSTruncated != 0 || len(sum.TLSLibraries) == 0 {
		t.Errorf("TLS summary: %d calls, %d without a socket, %d lost, %d cut, libraries %v", sum.TLSCalls, sum.TLSUnlinked, sum.TLSLost, sum.TLSTruncated, sum.TLSLibraries)
	}
	flows := map[string]bool{}
	for _, e := range evs {
		flows[e.CommunityID] = true
	}
	b, err := os.ReadFile(filepath.Join(dir, collect.TLSFile))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("alice@example.com"))
	hash := hex.EncodeToString(h[:])
	var writes, reads int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			Event, Direction, Comm string
			Pid                    int
			CommunityID            string `json:"community_id"`
			Data                   []byte
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v", collect.TLSFile, err)
		}
		if r.Pid != sum.Pid || r.Comm != "python3" {
			t.Errorf("SSL call of pid %d (%s), want %d", r.Pid, r.Comm, sum.Pid)
		}
		if !flows[r.CommunityID] {
			t.Errorf("%s on flow %q, which no socket event has", r.Event, r.CommunityID)
		}
		if strings.Contains(string(r.Data), hash) {
			// The client wrote the body, the sink (same process) read it.
			switch r.Direction {
			case "out":
				writes++
			case "in":
				reads++
			}
		}
	}
	if writes != 1 || reads != 1 {
		t.Errorf("the hashed e-mail is in %d SSL writes and %d reads, want 1 and 1:\n%s", writes, reads, b)
	}

	_, errOut, err := runCLI(t, nil, "detect", dir, "--indicator", "email=alice@example.com")
	if err != nil {
		t.Fatalf("detect: %v\n%s", err, errOut)
	}
	for _, want := range []string{"tls plaintext (uprobes) (tls_plaintext.jsonl)", "HTTPS request bodies: 1", "found in the TLS plaintext: 1", "not in the TLS plaintext: 0"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("detect does not say %q:\n%s", want, errOut)
		}
	}

	// A plaintext with another hash: the decrypted body disagrees with it.
	other := sha256.Sum256([]byte("bob@example.com"))
	var tampered strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r map[string]any
		json.Unmarshal([]byte(line), &r)
		data, _ := base64.StdEncoding.DecodeString(r["data"].(string))
		r["data"] = base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(string(data), hash, hex.EncodeToString(other[:]))))
		nb, _ := json.Marshal(r)
		tampered.Write(append(nb, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, collect.TLSFile), []byte(tampered.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err = runCLI(t, nil, "detect", dir, "--indicator", "email=alice@example.com")
	if err != nil {
		t.Fatalf("detect: %v\n%s", err, errOut)
	}
	for _, want := range []string{"not in the TLS plaintext: 1", "WARNING: entry 0 (POST https://graph.facebook.com/", "is not in the plaintext libssl was given on that flow"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("detect on a tampered plaintext does not say %q:\n%s", want, errOut)
		}
	}
}
