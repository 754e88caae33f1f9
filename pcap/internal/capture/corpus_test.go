package capture

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/testutil"
)

// CorpusCaptures returns every capture file under the corpus directory,
// sorted by slash path relative to it.
func corpusCaptures(t testing.TB, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		for _, ext := range []string{".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"} {
			if strings.HasSuffix(name, ext) {
				rel, _ := filepath.Rel(root, p)
				files = append(files, filepath.ToSlash(rel))
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// tsharkCounts maps corpus-relative paths to the pk= column of
// tshark-4.0.17-counts.txt. The file names only base names, and some repeat
// across folders (http.pcap, empty.pcap); its lines without extra tshark
// arguments follow the sorted order of the relative paths, so each line is
// matched to the next file in that order with the same base name.
func tsharkCounts(t testing.TB, root string, files []string) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "tshark-4.0.17-counts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	next := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "|")
		if len(fields) < 12 || !strings.HasPrefix(fields[1], "pk=") {
			continue // a stray note line
		}
		if fields[11] != "args=" {
			continue // a re-count with dissector options; pk is the same
		}
		pk, err := strconv.Atoi(strings.TrimPrefix(fields[1], "pk="))
		if err != nil {
			t.Fatalf("counts line %q: %v", sc.Text(), err)
		}
		i := next
		for i < len(files) && filepath.Base(files[i]) != fields[0] {
			i++
		}
		if i == len(files) {
			// A repeated line (the file ends with one): it must agree.
			if prev, ok := countFor(out, fields[0]); ok && prev == pk {
				continue
			}
			t.Fatalf("counts line for %s matches no corpus file after %s", fields[0], files[max(next-1, 0)])
		}
		out[files[i]] = pk
		next = i + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countFor(counts map[string]int, base string) (int, bool) {
	for rel, pk := range counts {
		if filepath.Base(rel) == base {
			return pk, true
		}
	}
	return 0, false
}

func readAll(t testing.TB, path string) (n int, warnings []Warning, err error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer r.Close()
	var last uint64
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: Next returned %v, want only io.EOF", path, err)
		}
		if p.Frame != last+1 {
			t.Fatalf("%s: frame %d after %d", path, p.Frame, last)
		}
		if len(p.Data) > p.OrigLen && p.OrigLen != 0 {
			// Allowed by the formats but worth knowing when it happens.
			t.Logf("%s: frame %d has %d captured bytes > original length %d", path, p.Frame, len(p.Data), p.OrigLen)
		}
		last = p.Frame
		n++
	}
	return n, r.Warnings(), nil
}

// TestCorpusPacketCounts reads every capture in the corpus and compares the
// number of packets with tshark's.
func TestCorpusPacketCounts(t *testing.T) {
	root := testutil.Corpus(t)
	files := corpusCaptures(t, root)
	want := tsharkCounts(t, root, files)
	if len(want) < 88 {
		t.Fatalf("only %d files matched the tshark counts", len(want))
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			n, warnings, err := readAll(t, filepath.Join(root, rel))
			for _, w := range warnings {
				t.Logf("warning: %s", w)
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			pk, ok := want[rel]
			if !ok {
				t.Logf("%d packets (not in the tshark counts)", n)
				return
			}
			if n != pk {
				t.Errorf("%d packets, tshark counts %d", n, pk)
			}
		})
	}
}
