package main

// CLI tests of issue 10's rules for evidence: outputs never overwrite an
// input, what cannot be read is an error (never "nothing found"), entries
// left out are named, one bad path in a batch does not stop it, and the
// exit status follows one rule in every command.

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
)

// copyTo copies src into dir under name and returns the new path.
func copyTo(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, mustRead(t, src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNeverOverwriteInput(t *testing.T) {
	dir := t.TempDir()
	pcap := copyTo(t, dir, "x.pcapng", samplePath())
	har := copyTo(t, dir, "x.har", shopHAR())
	link := filepath.Join(dir, "link.har")
	if err := os.Symlink(har, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.har")
	if err := os.Link(har, hard); err != nil {
		t.Fatal(err)
	}
	keys := copyTo(t, dir, "keys.txt", shopProv()) // any file given as an input
	for _, args := range [][]string{
		{"convert", pcap, "-o", pcap},
		{"convert", pcap, "--keylog", keys, "-o", keys},
		{"enrich", har, "-o", har},
		{"enrich", har, "--provenance", keys, "-o", keys},
		{"report", har, "-o", har},
		{"report", har, "-o", link},                   // the input through a symbolic link
		{"report", link, "-o", har},                   // the output named directly, the input through a link
		{"report", har, "-o", hard, "--format", "md"}, // another name of the same file
		{"report", har, "--compare", hard, "-o", hard, "--format", "md"},
		{"detect", har, "-o", har},
		{"detect", pcap, "--format", "json", "-o", pcap},
		{"batch", har, "-o", har},
	} {
		before := mustRead(t, har)
		beforePcap := mustRead(t, pcap)
		_, stderr, err := runCLI(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "is the input") {
			t.Errorf("%v: err %v, want a refusal naming the input", args, err)
		}
		if got := exitStatus(err); got != exitFailed {
			t.Errorf("%v: exit status %d, want %d", args, got, exitFailed)
		}
		if stderr != "" {
			t.Errorf("%v: work was done before the refusal: %s", args, stderr)
		}
		if !bytes.Equal(mustRead(t, har), before) || !bytes.Equal(mustRead(t, pcap), beforePcap) {
			t.Fatalf("%v: an input was overwritten", args)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
}

// TestOutputFolder: an output in a missing folder, or onto a folder, fails
// before the analysis (the broken HAR's warnings would show that it ran),
// with the user's path in the message and not the temporary file's.
func TestOutputFolder(t *testing.T) {
	dir := t.TempDir()
	in := brokenHAR(t, dir)
	missing := filepath.Join(dir, "no-such-folder", "out.md")
	for _, args := range [][]string{
		{"report", in, "-o", missing},
		{"report", in, "-o", dir},
		{"enrich", in, "-o", missing},
		{"enrich", in, "-o", dir},
		{"detect", in, "-o", missing},
		{"convert", samplePath(), "-o", missing},
		{"convert", samplePath(), "-o", dir},
	} {
		out := args[len(args)-1]
		_, stderr, err := runCLI(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), out) || strings.Contains(err.Error(), ".tmp-") {
			t.Errorf("%v: err %v, want one naming %s and not a temporary file", args, err, out)
		}
		if exitStatus(err) != exitFailed {
			t.Errorf("%v: exit status %d", args, exitStatus(err))
		}
		if strings.Contains(stderr, "warning") {
			t.Errorf("%v: the analysis ran before the output was checked:\n%s", args, stderr)
		}
	}
}

// brokenHAR is the corpus's android_first-run.har with entries 7 and 9
// (38 of its 153 findings) replaced by values that are not entries.
func brokenHAR(t *testing.T, dir string) string {
	t.Helper()
	var h struct {
		Log map[string]json.RawMessage `json:"log"`
	}
	if err := json.Unmarshal(mustRead(t, testutil.Corpus(t, "har", "reporthar", "android_first-run.har")), &h); err != nil {
		t.Fatal(err)
	}
	var es []json.RawMessage
	if err := json.Unmarshal(h.Log["entries"], &es); err != nil {
		t.Fatal(err)
	}
	es[7], es[9] = json.RawMessage(`"lost"`), json.RawMessage(`[1,2]`)
	h.Log["entries"], _ = json.Marshal(es)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "broken.har")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSkippedEntriesWarned: entries left out as malformed are warnings in
// every command, with their indexes, and exit status 1.
func TestSkippedEntriesWarned(t *testing.T) {
	dir := t.TempDir()
	in := brokenHAR(t, dir)
	wantWarn := func(what, s string) {
		t.Helper()
		for _, idx := range []string{"entry 7 skipped", "entry 9 skipped"} {
			if !strings.Contains(s, idx) {
				t.Errorf("%s: no %q in\n%.2000s", what, idx, s)
			}
		}
	}
	// detect, table: warnings on stderr, exit 1.
	out, stderr, err := runCLI(t, nil, "detect", in)
	wantWarn("detect stderr", stderr)
	if exitStatus(err) != exitIncomplete || strings.Contains(out, "No transmissions") {
		t.Errorf("detect: exit %d (%v)", exitStatus(err), err)
	}
	// The table itself says it is not the whole input.
	if !strings.Contains(out, "Not everything was analysed: 2 warnings on standard error") {
		t.Errorf("detect table does not say that entries were left out:\n%s", out)
	}
	// json: the warnings and the indexes.
	out, _, err = runCLI(t, nil, "detect", "--format", "json", in)
	var doc struct {
		Findings []json.RawMessage `json:"findings"`
		Warnings []string          `json:"warnings"`
		Skipped  []int             `json:"skippedEntries"`
	}
	if jerr := json.Unmarshal([]byte(out), &doc); jerr != nil {
		t.Fatalf("detect json: %v", jerr)
	}
	wantWarn("detect json", strings.Join(doc.Warnings, "\n"))
	// The findings are those of the intact file's other entries.
	want := 0
	full, _, _ := runCLI(t, nil, "detect", "--format", "jsonl", testutil.Corpus(t, "har", "reporthar", "android_first-run.har"))
	for _, l := range strings.Split(strings.TrimSpace(full), "\n") {
		if !strings.Contains(l, `"entry_index":7,`) && !strings.Contains(l, `"entry_index":9,`) && !strings.Contains(l, `"index":7,`) && !strings.Contains(l, `"index":9,`) {
			want++
		}
	}
	if len(doc.Findings) != want || len(doc.Skipped) != 2 || doc.Skipped[0] != 7 || doc.Skipped[1] != 9 || exitStatus(err) != exitIncomplete {
		t.Errorf("detect json: %d findings, skipped %v, exit %d; want %d, [7 9], 1", len(doc.Findings), doc.Skipped, exitStatus(err), want)
	}
	// jsonl: a warning line per skipped entry, with its index.
	out, _, _ = runCLI(t, nil, "detect", "--format", "jsonl", in)
	var idx []int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var w struct {
			Warning    string `json:"warning"`
			EntryIndex int    `json:"entry_index"`
		}
		if json.Unmarshal([]byte(l), &w) == nil && w.Warning != "" {
			idx = append(idx, w.EntryIndex)
		}
	}
	if len(idx) != 2 || idx[0] != 7 || idx[1] != 9 {
		t.Errorf("detect jsonl: warning lines for entries %v, want [7 9]", idx)
	}
	// report: stderr and the methodology.
	md := filepath.Join(dir, "r.md")
	_, stderr, err = runCLI(t, nil, "report", in, "-o", md)
	wantWarn("report stderr", stderr)
	if exitStatus(err) != exitIncomplete {
		t.Errorf("report: exit %d (%v)", exitStatus(err), err)
	}
	rmd := string(mustRead(t, md))
	meth := rmd[strings.Index(rmd, "## Methodology"):]
	if !strings.Contains(meth, "### Entries not analysed") || !strings.Contains(meth, "- entry 7\n- entry 9\n") {
		t.Errorf("report methodology does not name the skipped entries:\n%.3000s", meth)
	}
	// enrich and batch.
	_, stderr, err = runCLI(t, nil, "enrich", in, "-o", filepath.Join(dir, "e.har"))
	wantWarn("enrich stderr", stderr)
	if exitStatus(err) != exitIncomplete {
		t.Errorf("enrich: exit %d (%v)", exitStatus(err), err)
	}
	out, stderr, err = runCLI(t, []byte(in+"\n"), "batch", "-", "-o", "-")
	wantWarn("batch - stderr", stderr)
	if exitStatus(err) != exitIncomplete || strings.Count(out, "\n") != want {
		t.Errorf("batch -: exit %d, %d rows", exitStatus(err), strings.Count(out, "\n"))
	}
	_, stderr, err = runCLI(t, nil, "batch", in, "-o", filepath.Join(dir, "results"))
	if !strings.Contains(stderr, "entries 7, 9 skipped") || exitStatus(err) != exitIncomplete {
		t.Errorf("batch: exit %d\n%s", exitStatus(err), stderr)
	}
}

// TestUnreadableInput: what cannot be read is an error (exit 2), never "no
// transmissions found", and JSON output says "error".
func TestUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	put := func(name string, b []byte) string { return mustWrite(t, filepath.Join(dir, name), b) }
	harB := mustRead(t, testutil.Corpus(t, "har", "reporthar", "android_first-run.har"))
	pcapB := mustRead(t, testutil.Corpus(t, "wireshark", "http.pcap"))
	inputs := []string{
		put("empty.har", nil),
		put("empty.pcap", nil),
		put("cut.har", harB[:200]),  // truncated before its first entry ends
		put("cut.pcap", pcapB[:30]), // truncated inside its first record
		put("notes.txt", []byte("not a capture\n")),
		testutil.Corpus(t, "har-schema", "log.json"),                         // JSON, not a HAR
		put("entries.har", []byte(`{"log":{"version":"1.2","entries":{}}}`)), // entries of the wrong type
		put("trace.json", []byte(`[{"pid":1}]`)),                             // a trace file
		put("image.png", []byte("\x89PNG\r\n\x1a\n0000000000000000")),
		put("header-only.pcap", pcapBytes(1)),                  // complete, no packets
		put("linktype.pcap", pcapBytes(999, make([]byte, 60))), // only packets of an unsupported link type
		testutil.Corpus(t, "wireshark", "empty.pcap"),
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		out, _, err := runCLI(t, nil, "detect", in)
		if exitStatus(err) != exitFailed || err == nil || strings.Contains(out, "No transmissions") {
			t.Errorf("detect %s: exit %d, err %v, stdout %q", name, exitStatus(err), err, out)
		}
		out, _, err = runCLI(t, nil, "detect", "--format", "json", in)
		var doc struct {
			Error string `json:"error"`
		}
		if jerr := json.Unmarshal([]byte(out), &doc); jerr != nil || doc.Error == "" || exitStatus(err) != exitFailed {
			t.Errorf("detect --format json %s: exit %d, error %q (%v)", name, exitStatus(err), doc.Error, jerr)
		}
		out, _, err = runCLI(t, nil, "detect", "--format", "jsonl", in)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[len(lines)-1], `{"error":`) || exitStatus(err) != exitFailed {
			t.Errorf("detect --format jsonl %s: exit %d, last line %q", name, exitStatus(err), lines[len(lines)-1])
		}
		// The same file from standard input.
		out, _, err = runCLI(t, mustRead(t, in), "detect", "-")
		if exitStatus(err) != exitFailed || strings.Contains(out, "No transmissions") {
			t.Errorf("detect - < %s: exit %d, stdout %q", name, exitStatus(err), out)
		}
		md := filepath.Join(dir, "r.md")
		if _, _, err := runCLI(t, nil, "report", in, "-o", md); exitStatus(err) != exitFailed {
			t.Errorf("report %s: exit %d (%v)", name, exitStatus(err), err)
		}
		if _, err := os.Stat(md); err == nil {
			t.Errorf("report %s: output written", name)
			os.Remove(md)
		}
	}
	// convert and flows say so too, and write no HAR.
	for _, c := range []struct{ in, want string }{
		{inputs[len(inputs)-3], "holds no packets"},
		{inputs[len(inputs)-2], "link type 999, which is not supported"},
	} {
		har := filepath.Join(dir, "out.har")
		_, _, err := runCLI(t, nil, "convert", c.in, "-o", har)
		if exitStatus(err) != exitFailed || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("convert %s: exit %d, %v", c.in, exitStatus(err), err)
		}
		if _, serr := os.Stat(har); serr == nil {
			t.Errorf("convert %s: HAR written", c.in)
		}
		out, _, err := runCLI(t, nil, "flows", c.in)
		if exitStatus(err) != exitFailed || err == nil || !strings.Contains(err.Error(), c.want) || out != "" {
			t.Errorf("flows %s: exit %d, %v, stdout %q", c.in, exitStatus(err), err, out)
		}
	}
}

// pcapBytes is a little-endian pcap file of link type lt with one record
// per packet given.
func pcapBytes(lt uint32, packets ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...) // time zone, accuracy
	b = binary.LittleEndian.AppendUint32(b, 65535)
	b = binary.LittleEndian.AppendUint32(b, lt)
	for i, p := range packets {
		b = binary.LittleEndian.AppendUint32(b, uint32(1710406800+i))
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// TestBatchStdinGoesOn: a missing path among those on standard input is
// one failure line; the other inputs are analysed; exit status 1.
func TestBatchStdinGoesOn(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "moved-away.pcap")
	paths := strings.Join([]string{shopHAR(), missing, samplePath()}, "\n") + "\n"
	out, stderr, err := runCLI(t, []byte(paths), "batch", "-", "-o", "-", "--jobs", "1")
	if exitStatus(err) != exitIncomplete {
		t.Errorf("exit %d (%v), want 1", exitStatus(err), err)
	}
	inputs := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			InputFile string `json:"input_file"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		inputs[r.InputFile]++
	}
	if inputs[shopHAR()] == 0 || inputs[samplePath()] == 0 {
		t.Errorf("rows per input %v: both readable inputs must be analysed", inputs)
	}
	if n := strings.Count(stderr, "FAILED"); n != 1 || !strings.Contains(stderr, "moved-away.pcap") {
		t.Errorf("want one failure line naming the missing path:\n%s", stderr)
	}
	// The same with folders and files as arguments, writing files.
	_, stderr, err = runCLI(t, nil, "batch", shopHAR(), missing, "-o", filepath.Join(dir, "out"))
	if exitStatus(err) != exitIncomplete || strings.Count(stderr, "FAILED") != 1 || !strings.Contains(stderr, "1 done") {
		t.Errorf("batch with a missing argument: exit %d\n%s", exitStatus(err), stderr)
	}
}

// TestLangEveryCommand: an unsupported --lang is a usage error in every
// command that has the flag, before any work.
func TestLangEveryCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"detect", shopHAR(), "--lang", "fr"},
		{"report", shopHAR(), "--lang", "fr", "-o", filepath.Join(dir, "r.md")},
		{"batch", shopHAR(), "--lang", "fr", "-o", filepath.Join(dir, "out")},
		{"adapters", "list", "--lang", "fr"},
		{"adapters", "show", "google", "--lang", "fr"},
	} {
		out, _, err := runCLI(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), `"fr"`) || exitStatus(err) != exitFailed || out != "" {
			t.Errorf("%v: exit %d, err %v, stdout %.100q", args, exitStatus(err), err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("batch made its output folder before refusing --lang")
	}
}

// TestExitStatusDocumented: every command's help states the exit status
// rule.
func TestExitStatusDocumented(t *testing.T) {
	for _, cmd := range []string{"", "convert", "flows", "detect", "enrich", "report", "batch", "adapters"} {
		args := []string{"--help"}
		if cmd != "" {
			args = []string{cmd, "--help"}
		}
		out, _, err := runCLI(t, nil, args...)
		if err != nil || !strings.Contains(out, "Exit status: 0 when") {
			t.Errorf("tracewire %s --help: %v, no exit status rule", cmd, err)
		}
	}
	// Usage errors are 2.
	for _, args := range [][]string{{"detect", "--nosuchflag", "x"}, {"nosuchcommand"}, {"detect", "--format", "xml", shopHAR()}} {
		if _, _, err := runCLI(t, nil, args...); exitStatus(err) != exitFailed {
			t.Errorf("%v: exit %d", args, exitStatus(err))
		}
	}
}
