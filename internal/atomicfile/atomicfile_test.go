package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.har")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	// Before the commit, the old content is still there.
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("before commit: %q", b)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no effect after commit
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("after commit: %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	assertOnly(t, dir, "out.har")
}

func TestAbortKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.har")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(p, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	f.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("after abort: %q", b)
	}
	if err := f.Commit(); err == nil {
		t.Error("commit after abort succeeded")
	}
	assertOnly(t, dir, "out.har")
}

func TestWriteFileMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "x"), []byte("x"), 0o644)
	if err == nil {
		t.Fatal("no error for a missing directory")
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(names) {
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

func TestNoSync(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out")
	f, err := Create(p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.NoSync = true
	if _, err := f.WriteString("data"); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "data" {
		t.Errorf("%q %v", b, err)
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(in, []byte("evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pcap")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.pcap")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "experiment")
	if err := os.MkdirAll(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	inExp := filepath.Join(exp, "capture.pcap")
	if err := os.WriteFile(inExp, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.har")
	if err := os.WriteFile(other, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		out    string
		inputs []string
		want   string // "" for no error
	}{
		{"-", []string{in}, ""},
		{"", []string{in}, ""},
		{filepath.Join(dir, "new.har"), []string{in}, ""},
		{other, []string{in}, ""},            // an existing file that is no input
		{in, []string{in}, "is the input"},   // the same path
		{in, []string{link}, "is the input"}, // the input through a link
		{link, []string{in}, "is the input"}, // the output through a link
		{hard, []string{in}, "is the input"}, // same inode, other name
		{filepath.Join(dir, ".", "in.pcap"), []string{in}, "is the input"},
		{inExp, []string{exp}, "is the input"}, // a file of an input folder
		{dir, []string{in}, "is a folder"},     // onto a folder
		{filepath.Join(dir, "nope", "out.har"), nil, "does not exist"},
		{filepath.Join(in, "out.har"), nil, "is not a folder"},
	} {
		err := CheckOutput(c.out, c.inputs...)
		if c.want == "" {
			if err != nil {
				t.Errorf("CheckOutput(%s, %v): %v", c.out, c.inputs, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.out) {
			t.Errorf("CheckOutput(%s, %v) = %v, want an error naming the path and saying %q", c.out, c.inputs, err, c.want)
		}
	}
	if b, _ := os.ReadFile(in); string(b) != "evidence" {
		t.Fatal("input changed")
	}
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.har")
	if err := os.WriteFile(in, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(filepath.Join(dir, "new"), in); err != nil {
		t.Error(err)
	}
	if err := CheckDir(dir, in); err != nil {
		t.Error(err)
	}
	if err := CheckDir(in, in); err == nil || !strings.Contains(err.Error(), "is the input") {
		t.Errorf("output folder = input: %v", err)
	}
}

func TestCreateNamesThePath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing", "out.html")
	_, err := Create(p, 0o644)
	if err == nil || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("Create in a missing folder: %v, want the path and not the temporary file", err)
	}
}

// TestCreateSpecialAndLinks: a device, a named pipe or /dev/stdout is
// written in place (a rename would replace the device node: as root,
// -o /dev/null made /dev/null a regular file; the test uses a named pipe,
// which takes the same path, not to risk /dev), and a symbolic link is
// followed, so the link stays and the file it names is replaced.
func TestCreateSpecialAndLinks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target.har")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.har")
	if err := os.Symlink("target.har", link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.har")
	if err := os.Symlink("made.har", dangling); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		read       string // the file that must hold the data afterwards ("" to skip)
		mode       fs.FileMode
		linkStays  bool
	}{
		{"named pipe", fifo, "", fs.ModeNamedPipe, false},
		{"link", link, target, 0, true},
		{"dangling link", dangling, filepath.Join(dir, "made.har"), 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make(chan []byte, 1)
			if c.mode&fs.ModeNamedPipe != 0 {
				go func() {
					b, _ := os.ReadFile(c.path)
					got <- b
				}()
			}
			f, err := Create(c.path, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("new"); err != nil {
				t.Fatal(err)
			}
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
			if c.mode&fs.ModeNamedPipe != 0 {
				select {
				case b := <-got:
					if string(b) != "new" {
						t.Errorf("pipe read %q", b)
					}
				case <-time.After(5 * time.Second):
					t.Error("nothing written to the pipe")
				}
			}
			if c.mode != 0 {
				st, err := os.Lstat(c.path)
				if err != nil || st.Mode().Type() != c.mode {
					t.Errorf("%s is now %v (%v), want type %v", c.path, st.Mode(), err, c.mode)
				}
			}
			if c.linkStays {
				if st, err := os.Lstat(c.path); err != nil || st.Mode()&fs.ModeSymlink == 0 {
					t.Errorf("the link %s was replaced", c.path)
				}
			}
			if c.read != "" {
				if b, err := os.ReadFile(c.read); err != nil || string(b) != "new" {
					t.Errorf("%s holds %q (%v)", c.read, b, err)
				}
			}
		})
	}
	for _, n := range []string{"dangling.har", "fifo", "link.har", "made.har", "target.har"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			t.Error(err)
		}
	}
	assertOnly(t, dir, "dangling.har", "fifo", "link.har", "made.har", "target.har")
}

// TestCheckOutputStdin: "-" among the inputs is standard input, refused
// as the output when it is redirected from that file ("convert - -o x.pcap
// < x.pcap" replaced the capture with its HAR).
func TestCheckOutputStdin(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	other := filepath.Join(dir, "other.har")
	for _, p := range []string{in, other} {
		if err := os.WriteFile(p, []byte("evidence"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func(old *os.File) { stdin = old }(stdin)
	stdin = f
	for _, c := range []struct {
		out    string
		inputs []string
		want   string
	}{
		{in, []string{"-"}, "standard input is this file"},
		{other, []string{"-"}, ""},
		{in, []string{other}, ""},
	} {
		err := CheckOutput(c.out, c.inputs...)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckOutput(%s, %v) = %v, want %q", c.out, c.inputs, err, c.want)
		}
	}
}
