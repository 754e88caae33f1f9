package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap"
)

// TestReportOutputExtension: the report's format follows -o's extension;
// an extension no report format has is a usage error (exit 2) that lists
// the valid ones and writes nothing, and so is an extension that
// contradicts --format. No extension, or --format with an extension that
// names no format, still writes.
func TestReportOutputExtension(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		out    string
		format string
		code   int
		want   []string // in stderr, or the written file's start
	}{
		{"r.txt", "", exitFailed, []string{"-o " + filepath.Join(dir, "r.txt"), "cannot write .txt", ".html", ".md", ".pdf", ".jsonl", ".parquet", "--format"}},
		{"r.HAR", "", exitFailed, []string{"cannot write .HAR"}},
		{"r.html", "pdf", exitFailed, []string{"the extension .html is that of html, but --format is pdf", "r.pdf"}},
		{"r.markdown", "", 0, []string{"# Technical report"}},
		{"r.htm", "", 0, []string{"<!DOCTYPE html>"}},
		{"report", "", 0, []string{"<!DOCTYPE html>"}},
		{"r.txt", "md", 0, []string{"# Technical report"}},
		{"r2.ndjson", "jsonl", 0, []string{`{"analysis_id":`}},
	} {
		t.Run(tc.out+"/"+tc.format, func(t *testing.T) {
			p := filepath.Join(dir, tc.out)
			os.Remove(p)
			args := []string{"report", shopHAR(), "-o", p}
			if tc.format != "" {
				args = append(args, "--format", tc.format)
			}
			_, stderr, err := runCLI(t, nil, args...)
			if got := exitStatus(err); got != tc.code {
				t.Fatalf("exit %d, want %d (%v)\n%s", got, tc.code, err, stderr)
			}
			b, rerr := os.ReadFile(p)
			if tc.code != 0 {
				if rerr == nil {
					t.Errorf("%s written although refused", tc.out)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if !strings.HasPrefix(string(b), tc.want[0]) {
				t.Errorf("%s starts with %.40q, want %q", tc.out, b, tc.want[0])
			}
		})
	}
}

// TestInputKindMessages: a file a command cannot read is refused with
// exit status 2 and a message that says what the file looks like (from
// internal/filekind, the one sniffer) and which commands read it, never a
// parser's first complaint (a pcap magic number in hex, a JSON syntax
// error at byte 0).
func TestInputKindMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	text := write("text.pcap", []byte("hello world\n"))
	empty := write("empty.pcap", nil)
	zip := write("z.pcapng", []byte{0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0})
	harGz := write("x.har.gz", gzipped(t, mustRead(t, shopHAR())))
	for _, tc := range []struct {
		args  []string
		stdin string
		want  []string
	}{
		{[]string{"detect", text}, "", []string{text + " is a text file (it starts \"hello world\")", "detect reads only pcap and pcapng captures and HAR files"}},
		{[]string{"detect", "--format", "json", text}, "", []string{"is a text file", `"error": "`}},
		{[]string{"convert", shopHAR()}, "", []string{shopHAR() + " is a HAR file", "convert reads only pcap and pcapng captures", "detect, enrich, report and batch read HAR files"}},
		{[]string{"flows", shopHAR()}, "", []string{"is a HAR file", "flows reads only pcap and pcapng captures"}},
		{[]string{"convert", text}, "", []string{"is a text file", "convert reads only"}},
		{[]string{"convert", samplePath(), empty}, "", []string{empty + " is an empty file: nothing to analyse"}},
		{[]string{"detect", empty}, "", []string{"is an empty file"}},
		{[]string{"report", zip, "-o", filepath.Join(dir, "r.html")}, "", []string{"is a file of unknown format (its first bytes: 50 4b 03 04", "report reads only pcap and pcapng captures, HAR files and findings files"}},
		{[]string{"enrich", text}, "", []string{"is a text file", "enrich reads only"}},
		{[]string{"detect", harGz}, "", []string{"is a gzip-compressed HAR file", "decompress it first"}},
		{[]string{"convert", "-"}, "hi there", []string{"standard input is a text file (it starts \"hi there\")"}},
		{[]string{"detect", "-"}, "hi there", []string{"standard input is a text file"}},
	} {
		t.Run(strings.Join(tc.args[:1], " "), func(t *testing.T) {
			out, stderr, err := runCLI(t, []byte(tc.stdin), tc.args...)
			if exitStatus(err) != exitFailed {
				t.Fatalf("%v: exit %d, want 2 (%v)", tc.args, exitStatus(err), err)
			}
			msg := err.Error() + "\n" + stderr + "\n" + out
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%v: %q lacks %q", tc.args, msg, w)
				}
			}
			for _, bad := range []string{"magic", "invalid character", "byte 0"} {
				if strings.Contains(msg, bad) {
					t.Errorf("%v: %q says %q", tc.args, msg, bad)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "r.html")); err == nil {
		t.Error("report wrote its output for an input it cannot read")
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUsageErrors: a missing or extra argument, an unknown flag, a flag
// without its value and an unknown command are usage errors: exit status
// 2 and the command's usage line with the error.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"convert"}, []string{"convert: requires at least 1 arg(s)", "Usage: tracewire convert IN... [flags]", "tracewire convert --help"}},
		{[]string{"report"}, []string{"report: requires at least 1 arg(s)", "Usage: tracewire report IN... -o OUT [flags]"}},
		{[]string{"detect", "a", "b"}, []string{"detect: accepts 1 arg(s), received 2", "Usage: tracewire detect "}},
		{[]string{"flows", "--bogus", "x"}, []string{"flows: unknown flag: --bogus", "Usage: tracewire flows IN... [flags]"}},
		{[]string{"flows", "x", "--format"}, []string{"flag needs an argument: --format", "Usage: tracewire flows IN... [flags]"}},
		{[]string{"detect", "--workers", "x", "y"}, []string{`invalid argument "x" for "--workers"`, "Usage: tracewire detect "}},
		{[]string{"adapters", "list", "extra"}, []string{"adapters list: ", "Usage: tracewire adapters list"}},
		{[]string{"bogus"}, []string{`unknown command "bogus"`, "Usage: tracewire [command]", "tracewire --help"}},
		{[]string{"--bogus"}, []string{"unknown flag: --bogus", "Usage: tracewire [command]"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runCLI(t, nil, tc.args...)
			if exitStatus(err) != exitFailed {
				t.Fatalf("exit %d, want 2 (%v)", exitStatus(err), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Count(err.Error(), "Usage:") != 1 {
				t.Errorf("%q: want one usage line", err)
			}
		})
	}
}

// TestTruncatedCaptureExit (issue 10): a capture cut short is read up to
// the cut, its output written and the cut named in a warning, with exit
// status 1 (not everything could be analysed) in every command that
// reads captures; the whole capture exits 0.
func TestTruncatedCaptureExit(t *testing.T) {
	dir := t.TempDir()
	whole := mustRead(t, samplePath())
	cut := filepath.Join(dir, "cut.pcapng")
	if err := os.WriteFile(cut, whole[:len(whole)-30], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		out  string // a file the command writes, "" for standard output
	}{
		{[]string{"convert", cut}, ""},
		{[]string{"convert", cut, "--out-dir", filepath.Join(dir, "hars")}, filepath.Join(dir, "hars", "cut.har")},
		{[]string{"flows", cut}, ""},
		{[]string{"detect", cut}, ""},
		{[]string{"detect", "--format", "json", cut}, ""},
		{[]string{"report", cut, "-o", filepath.Join(dir, "r.md")}, filepath.Join(dir, "r.md")},
		{[]string{"enrich", cut, "-o", filepath.Join(dir, "e.har")}, filepath.Join(dir, "e.har")},
	} {
		t.Run(strings.Join(tc.args[:1], " "), func(t *testing.T) {
			stdout, stderr, err := runCLI(t, nil, tc.args...)
			if exitStatus(err) != exitIncomplete {
				t.Fatalf("%v: exit %d, want 1 (%v)\n%s", tc.args, exitStatus(err), err, stderr)
			}
			if !strings.Contains(stderr, "tracewire: warning: ") || !strings.Contains(stderr, "cut.pcapng: frame ") || !strings.Contains(stderr, "file ends inside") {
				t.Errorf("%v: stderr does not name the cut: %q", tc.args, stderr)
			}
			got := stdout
			if tc.out != "" {
				got = string(mustRead(t, tc.out))
			}
			if len(got) == 0 {
				t.Errorf("%v: nothing written of what was read before the cut", tc.args)
			}
			if tc.args[0] == "convert" && len(entries(t, []byte(got))) == 0 {
				t.Errorf("%v: no entries before the cut", tc.args)
			}
		})
	}
	for _, cmd := range []string{"convert", "flows", "detect"} {
		if _, stderr, err := runCLI(t, nil, cmd, samplePath()); exitStatus(err) != 0 && !(cmd == "detect" && exitStatus(err) == exitIncomplete && strings.Contains(stderr, "skipped")) {
			t.Errorf("%s of the whole sample: exit %d (%v)\n%s", cmd, exitStatus(err), err, stderr)
		}
	}
}

// TestBatchTruncatedCapture: batch analyses what a capture cut short holds,
// says so, lists it in the analysis's manifest and exits 1, as the other
// commands do.
func TestBatchTruncatedCapture(t *testing.T) {
	dir := t.TempDir()
	whole := mustRead(t, samplePath())
	cut := filepath.Join(dir, "cut.pcapng")
	if err := os.WriteFile(cut, whole[:len(whole)-30], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	_, stderr, err := runCLI(t, nil, "batch", cut, "-o", out)
	if exitStatus(err) != exitIncomplete {
		t.Fatalf("exit %d, want 1 (%v)\n%s", exitStatus(err), err, stderr)
	}
	if !strings.Contains(stderr, "could not be read to its end") || !strings.Contains(stderr, "input not read whole in 1 analysis") {
		t.Errorf("stderr does not say the capture was cut: %q", stderr)
	}
	ms, _ := filepath.Glob(filepath.Join(out, "*", "manifest.json"))
	if len(ms) != 1 {
		t.Fatalf("manifests: %v", ms)
	}
	if m := string(mustRead(t, ms[0])); !strings.Contains(m, `"truncated": true`) {
		t.Errorf("manifest does not say the capture was cut:\n%s", m)
	}
}

// TestFlowsTLSReason: flows' table says per TLS connection why it was not
// decrypted (from pcap.TLSError.Cause), and the JSON gives the cause with
// the full reason; corpus captures with no key log, another capture's key
// log, TLS 1.3 keys without the traffic secrets, and keys without the
// 0-RTT secret.
func TestFlowsTLSReason(t *testing.T) {
	ws := func(name string) string { return testutil.Corpus(t, "wireshark", name) }
	dir := t.TempDir()
	var partial []string
	for _, l := range strings.SplitAfter(string(mustRead(t, ws("tls13-20-chacha20poly1305.keys"))), "\n") {
		if !strings.Contains(l, "TRAFFIC_SECRET_0") {
			partial = append(partial, l)
		}
	}
	part := filepath.Join(dir, "part.keys")
	if err := os.WriteFile(part, []byte(strings.Join(partial, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		cell  string
		cause pcap.TLSCause
	}{
		{"no key log", []string{ws("tls12-chacha20poly1305.pcap")}, "no: no key log given", pcap.TLSNoKeyLog},
		{"another capture's key log", []string{ws("tls12-chacha20poly1305.pcap"), "--keylog", ws("dhe1_keylog.dat")}, "no: no key for this session", pcap.TLSNoKey},
		{"TLS 1.3 traffic secrets missing", []string{ws("tls13-20-chacha20poly1305.pcap"), "--keylog", part}, "no: TLS 1.3 keys missing", pcap.TLSKeysMissing},
		{"0-RTT secret missing", []string{ws("tls13-rfc8446.pcap"), "--keylog", ws("tls13-rfc8446-noearly.keys")}, "partly: 0-RTT data", pcap.TLSEarlyData},
		{"all keys", []string{ws("tls13-20-chacha20poly1305.pcap"), "--keylog", ws("tls13-20-chacha20poly1305.keys")}, "yes", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := runCLI(t, nil, append([]string{"flows"}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if !strings.Contains(out, "│ "+tc.cell+" ") {
				t.Errorf("table has no Decrypted cell %q:\n%s", tc.cell, out)
			}
			js, _, err := runCLI(t, nil, append([]string{"flows", "--format", "json"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var flows []flowJSON
			if err := json.Unmarshal([]byte(js), &flows); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range flows {
				if f.Decrypted == nil {
					continue
				}
				if f.TLSCause == string(tc.cause) && (tc.cause == "") == (f.TLSError == "") {
					found = true
				}
			}
			if !found {
				t.Errorf("JSON has no TLS flow with tlsErrorCause %q: %s", tc.cause, js)
			}
		})
	}
}

// TestBadValues: a flag's value that cannot be used is exit status 2 with
// a message naming the flag and what it wants, not Go's parser ("time:
// invalid duration").
func TestBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enrich", "--time-shift", "abc", samplePath()}, `--time-shift "abc": want seconds (e.g. -1.5) or a duration (e.g. 5h, 300ms), not "abc"`},
		{[]string{"detect", "--provenance-time-shift", "1x", samplePath()}, `--provenance-time-shift "1x": want seconds`},
		{[]string{"detect", "--request-window", "5s,x", samplePath()}, `--request-window: "5s,x": want seconds (e.g. -1.5) or a duration (e.g. 5h, 300ms), not "x"`},
		{[]string{"detect", "--lang", "fr", samplePath()}, `--lang "fr": not a supported language`},
	} {
		_, _, err := runCLI(t, nil, tc.args...)
		if exitStatus(err) != exitFailed || !strings.Contains(errText(err), tc.want) || strings.Contains(errText(err), "time: ") {
			t.Errorf("%v: exit %d, %v; want 2 and %q", tc.args, exitStatus(err), err, tc.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestUnreadableCaptureExit: a capture nothing could be read from (cut
// inside its first block) is an input that cannot be read, exit status 2
// in every command that reads captures, as the help says; convert leaves
// no empty HAR behind (it exited 1 and wrote one).
func TestUnreadableCaptureExit(t *testing.T) {
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.pcapng")
	if err := os.WriteFile(cut, mustRead(t, samplePath())[:20], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.har")
	for _, args := range [][]string{
		{"convert", cut},
		{"convert", cut, "-o", out},
		{"convert", cut, "--out-dir", filepath.Join(dir, "hars")},
		{"flows", cut},
		{"detect", cut},
		{"enrich", cut, "-o", out},
	} {
		_, stderr, err := runCLI(t, nil, args...)
		if exitStatus(err) != exitFailed || !strings.Contains(errText(err), "cut.pcapng: no packet could be read (") {
			t.Errorf("%v: exit %d, %v; want 2, no packet could be read\n%s", args, exitStatus(err), err, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", args, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "hars", "cut.har")); err == nil {
			t.Errorf("%v: wrote hars/cut.har", args)
		}
	}
}

// TestAdaptersListGerman: "adapters list --lang de" is German (headers,
// names, counts), as "show" is; it was English.
func TestAdaptersListGerman(t *testing.T) {
	out, _, err := runCLI(t, nil, "adapters", "list", "--lang", "de")
	for _, w := range []string{" Endpunkte ", " Datenarten ", "Prebid-Integration von Adagio", " Tracker, ", " Adapter\n"} {
		if err != nil || !strings.Contains(out, w) {
			t.Errorf("adapters list --lang de: %v; lacks %q", err, w)
		}
	}
}

// TestAdapterFolder: --adapters names a missing folder, a file or a
// folder without adapters, and refuses it (exit 2), rather than "open .:
// no such file or directory" or a database that finds nothing.
func TestAdapterFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{filepath.Join(dir, "missing"), "adapter folder " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{file, "adapter folder " + file + ": not a folder"},
		{dir, "adapter folder " + dir + " holds no adapters"},
	} {
		for _, args := range [][]string{{"adapters", "list", "--adapters", tc.dir}, {"detect", samplePath(), "--adapters", tc.dir}} {
			out, _, err := runCLI(t, nil, args...)
			if exitStatus(err) != exitFailed || !strings.Contains(errText(err), tc.want) || strings.Contains(out, "No transmissions") {
				t.Errorf("%v: exit %d, %v; want 2 and %q", args, exitStatus(err), err, tc.want)
			}
		}
	}
}

// TestFindingsFileGivenToDetect: detect and enrich refuse a findings file
// (exit 2) saying which command reads it, not which Go function
// ("read it with report.ReadAnalysis").
func TestFindingsFileGivenToDetect(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f.json")
	if _, _, err := runCLI(t, nil, "detect", samplePath(), "--format", "json", "-o", f); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"detect", "enrich"} {
		_, _, err := runCLI(t, nil, cmd, f)
		if exitStatus(err) != exitFailed || !strings.Contains(errText(err), "f.json is a findings file, not a capture or HAR (tracewire report reads it") || strings.Contains(errText(err), "ReadAnalysis") {
			t.Errorf("%s F.json: exit %d, %v", cmd, exitStatus(err), err)
		}
	}
}

// TestReportMaxBodyCapture: a body cut by --max-body in the report of a
// capture points to the HAR convert writes, not to "the HAR file", which
// a capture's analysis does not have.
func TestReportMaxBodyCapture(t *testing.T) {
	for _, lang := range []string{"en", "de"} {
		out, _, err := runCLI(t, nil, "report", samplePath(), "--max-body", "10", "--format", "md", "--lang", lang)
		want := map[string]string{"en": "; tracewire convert writes it in full into a HAR file, and --max-body shows more.", "de": "; tracewire convert schreibt ihn vollständig in eine HAR-Datei, --max-body zeigt mehr."}[lang]
		if err != nil || !strings.Contains(out, want) || strings.Contains(out, "the HAR file holds") || strings.Contains(out, "die HAR-Datei enthält") {
			t.Errorf("--lang %s: %v; the note on cut bodies is not %q", lang, err, want)
		}
	}
}

// TestExperimentNotExperiment: --experiment given another JSON file (a
// HAR, a list) is refused, exit 2, saying it is not an experiment.json;
// a HAR passed for an experiment that names nothing, and a list gave Go's
// "cannot unmarshal array into Go value of type map[string]interface {}".
func TestExperimentNotExperiment(t *testing.T) {
	list := filepath.Join(t.TempDir(), "list.json")
	if err := os.WriteFile(list, []byte("[1]"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"../../testdata/report/shop-backend.har", list} {
		_, _, err := runCLI(t, nil, "detect", samplePath(), "--experiment", f)
		if exitStatus(err) != exitFailed || !strings.Contains(errText(err), f+": not an experiment.json") || strings.Contains(errText(err), "Go value") {
			t.Errorf("--experiment %s: exit %d, %v", f, exitStatus(err), err)
		}
	}
}

// TestReportMaxBody: --max-body cuts bodies in the appendix at its value
// (4 KiB by default, as the help now says; it said 256 KiB), and a
// negative value shows them whole (it panicked: slice bounds out of range).
func TestReportMaxBody(t *testing.T) {
	dir := testutil.Corpus(t, "har", "reporthar")
	in := filepath.Join(dir, "android_first-run.har")
	for _, tc := range []struct {
		max  string
		want string // in the note on a cut body; "" for none
	}{
		{"", "… 123,852 more bytes of the body are not shown. The whole body has 127,948 bytes"},
		{"100000", "… 27,948 more bytes of the body are not shown. The whole body has 127,948 bytes"},
		{"-1", ""},
	} {
		args := []string{"report", in, "--format", "md"}
		if tc.max != "" {
			args = append(args, "--max-body", tc.max)
		}
		out, _, err := runCLI(t, nil, args...)
		if err != nil || tc.want != "" && !strings.Contains(out, tc.want) || tc.want == "" && strings.Contains(out, "more bytes of the body are not shown") {
			t.Errorf("--max-body %q: %v; want note %q", tc.max, err, tc.want)
		}
	}
}

// TestFlagValueMessages: a flag value its type refuses is a usage error
// that says what the flag wants, not which Go parser refused it
// ("strconv.ParseInt: parsing "x": invalid syntax").
func TestFlagValueMessages(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"detect", "x", "--workers", "many"}, `invalid argument "many" for "--workers" flag: not a number`},
		{[]string{"detect", "x", "--wide=maybe"}, `invalid argument "maybe" for "--wide" flag: want true or false`},
		{[]string{"convert", "x", "--community-id-seed", "70000"}, `invalid argument "70000" for "--community-id-seed" flag: out of range`},
		{[]string{"collect", "-o", "x", "--duration", "5x", "--", "true"}, `invalid argument "5x" for "--duration" flag: want a duration such as 30s or 5m`},
	} {
		_, _, err := runCLI(t, nil, tc.args...)
		if exitStatus(err) != exitFailed || !strings.Contains(errText(err), tc.want) || strings.Contains(errText(err), "strconv.") || strings.Contains(errText(err), "time: ") {
			t.Errorf("%v: exit %d, %v; want %q", tc.args, exitStatus(err), err, tc.want)
		}
	}
}

// TestDeviceReportNotDeviceReport: a JSON file that is not an App Privacy
// Report (a findings file) given as --device-report is refused, exit 2,
// named once; it was listed in the report as an App Privacy Report with
// 0 contacts.
func TestDeviceReportNotDeviceReport(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f.json")
	if _, _, err := runCLI(t, nil, "detect", samplePath(), "--format", "json", "-o", f); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, nil, "report", samplePath(), "--device-report", f, "--app-id", "com.example.weatherapp", "--format", "md")
	want := f + ": not a TrackerControl CSV export nor an App Privacy Report"
	if exitStatus(err) != exitFailed || !strings.HasPrefix(errText(err), want) || out != "" {
		t.Errorf("exit %d, %v; want 2 and %q", exitStatus(err), err, want)
	}
}

// TestBatchTableFormats: --format jsonl or parquet writes no report per
// analysis but is accepted, as the help says: the rows of all analyses
// are in OUTDIR/findings.jsonl and findings.parquet anyway.
func TestBatchTableFormats(t *testing.T) {
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(filepath.Join(in, "s.pcapng"), mustRead(t, samplePath()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCLI(t, nil, "batch", in, "-o", out, "--format", "jsonl,parquet", "--jobs", "1"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	ents, _ := os.ReadDir(filepath.Join(out, filepath.Base(in), "s.pcapng"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "report.") {
			t.Errorf("wrote %s", e.Name())
		}
	}
	for _, f := range []string{"findings.jsonl", "findings.parquet"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if help, _, err := runCLI(t, nil, "batch", "--help"); err != nil || !strings.Contains(help, "jsonl and parquet rows are always in OUTDIR/findings.*") {
		t.Errorf("batch --help does not say where jsonl and parquet go: %v", err)
	}
}

// TestReportOfDetectJSON: the report of a findings file written by detect
// --format json, given alone, is named after the input the file names
// (it was "Analysis of unnamed input").
func TestReportOfDetectJSON(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f.json")
	if _, _, err := runCLI(t, nil, "detect", samplePath(), "--format", "json", "-o", f); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, nil, "report", f, "--format", "md")
	if err != nil || !strings.Contains(out, "**Analysis of tracking.pcapng**") {
		t.Errorf("%v; the report is not named after the input:\n%.300s", err, out)
	}
}

// TestFlagsForAnotherOutput: a flag that does nothing for the output asked
// for is a usage error (exit 2) rather than silently ignored: detect's
// --values-only with the table, report's --details without a letter.
func TestFlagsForAnotherOutput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"detect", samplePath(), "--values-only"}, "--values-only is for --format json or jsonl"},
		{[]string{"report", samplePath(), "--details", "../../testdata/details.yaml", "--format", "md"}, "--details is for the letters"},
	} {
		out, _, err := runCLI(t, nil, tc.args...)
		if exitStatus(err) != exitFailed || !strings.Contains(errText(err), tc.want) || out != "" {
			t.Errorf("%v: exit %d, %v; want 2 and %q", tc.args, exitStatus(err), err, tc.want)
		}
	}
}
