package har

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/testutil"
)

// escapedNaive is escapedBits a byte at a time: a byte is escaped when an
// odd-length run of backslashes ends just before it.
func escapedNaive(bs, carry uint64) (escaped, next uint64) {
	esc := carry == 1
	for j := 0; j < 64; j++ {
		if esc {
			escaped |= 1 << j
			esc = false
			continue
		}
		if bs&(1<<j) != 0 {
			esc = true
		}
	}
	if esc {
		next = 1
	}
	return escaped, next
}

func TestEscapedBits(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := []uint64{0, ^uint64(0), 1, 1 << 63, 3 << 62, evenBits, ^uint64(evenBits), 0x0f0f0f0f0f0f0f0f, 0x7}
	for i := 0; i < 20000; i++ {
		// Runs of backslashes: long ones are what the carry handles.
		x := rng.Uint64() & rng.Uint64()
		if i%2 == 0 {
			x |= x << 1
		}
		cases = append(cases, x)
	}
	for _, bs := range cases {
		for carry := uint64(0); carry < 2; carry++ {
			got, gotNext := escapedBits(bs, carry)
			want, wantNext := escapedNaive(bs, carry)
			if got != want || gotNext != wantNext {
				t.Fatalf("escapedBits(%064b, %d) = %064b, %d; want %064b, %d", bs, carry, got, gotNext, want, wantNext)
			}
		}
	}
}

func FuzzScanKernel(f *testing.F) {
	f.Add([]byte(`{"a":"b\"c","d":[1,{"e":"\\"}]}`), uint16(1), false, false)
	f.Add(bytes.Repeat([]byte(`{[\"]}`), 30), uint16(5), true, true)
	f.Fuzz(func(t *testing.T, b []byte, depth uint16, inStr, esc bool) {
		st := scanState{depth: 1 + int(depth)%maxDepth}
		if inStr {
			st.inStr = ^uint64(0)
		}
		if esc {
			st.esc = 1
		}
		checkKernel(t, b, st)
	})
}

// checkKernel compares the kernel in use with scanKernelGeneric.
func checkKernel(t *testing.T, b []byte, st scanState) {
	t.Helper()
	if !haveKernel {
		t.Skip("no vector kernel on this machine")
	}
	st2 := st
	off, status := scanKernel(b, &st)
	off2, status2 := scanKernelGeneric(b, &st2)
	if off != off2 || status != status2 || st != st2 {
		t.Fatalf("%q: kernel %d %d %+v, generic %d %d %+v", b, off, status, st, off2, status2, st2)
	}
}

func TestScanKernel(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	alpha := []byte(`"\{}[]a`)
	for i := 0; i < 5000; i++ {
		b := make([]byte, 64*(1+rng.Intn(6)))
		for j := range b {
			if rng.Intn(4) == 0 {
				b[j] = alpha[rng.Intn(len(alpha))]
			} else {
				b[j] = byte(rng.Intn(256))
			}
		}
		st := scanState{depth: 1 + rng.Intn(maxDepth)}
		if i%7 == 0 {
			st.depth = maxDepth - rng.Intn(3)
		}
		if rng.Intn(2) == 0 {
			st.inStr = ^uint64(0)
			st.esc = uint64(rng.Intn(2))
		}
		checkKernel(t, b, st)
	}
}

// scanWith runs a valueScanner over b, given in pieces that end at the
// cuts (as the Reader gives more input to a value that goes on), and
// returns the final state and the states after each piece.
// masks is "kernel", "generic" or "" (the byte loop only).
func scanWith(b []byte, cuts []int, masks string) string {
	var s valueScanner
	var out strings.Builder
	for _, c := range append(cuts, len(b)) {
		if c > len(b) || c < s.i {
			continue
		}
		var done bool
		var err error
		if s.depth == 0 {
			if s.i == 0 && c > 0 && (b[0] == '{' || b[0] == '[') {
				s.depth, s.i = 1, 1
			} else if done = s.scanScalar(b[:c]); done || s.depth == 0 {
				fmt.Fprintf(&out, "%d:%v %d %d %v|", c, done, s.i, s.depth, s.inStr)
				if done {
					return out.String()
				}
				continue
			}
		}
		ok := false
		if masks != "" {
			done, err, ok = s.scanBlocks(b[:c], masks == "generic")
		}
		if !ok {
			done, err = s.scanBytes(b[:c])
		}
		fmt.Fprintf(&out, "%d:%v %v %d %d %v|", c, done, err, s.i, s.depth, s.inStr)
		if done || err != nil {
			break
		}
	}
	return out.String()
}

// checkScan fails when the structural scan (with the kernel in use and
// with the reference masks) ends or stops a value elsewhere than the byte
// loop.
func checkScan(t *testing.T, b []byte, cuts []int) {
	t.Helper()
	want := scanWith(b, cuts, "")
	if got := scanWith(b, cuts, "generic"); got != want {
		t.Fatalf("%q cut at %v:\ngeneric masks %s\n    byte loop %s", b, cuts, got, want)
	}
	if haveKernel {
		if got := scanWith(b, cuts, "kernel"); got != want {
			t.Fatalf("%q cut at %v:\nkernel %s\n  byte loop %s", b, cuts, got, want)
		}
	}
}

var scanSeeds = []string{
	`{"a":"b","c":[1,2,{"d":null}]}, {"next":1}`,
	`{"s":"a \"quoted\" } ] text","t":"\\","u":"\\\"}"}`,
	`{"x":"` + strings.Repeat(`\\`, 40) + `\"` + strings.Repeat(`\\`, 33) + `"}`,
	`[` + strings.Repeat(`[`, 600) + strings.Repeat(`]`, 600) + `]`,
	`{` + strings.Repeat(`{"a":`, 511) + `1` + strings.Repeat(`}`, 511) + `}`,
	`{` + strings.Repeat(`{"a":`, 512) + `1` + strings.Repeat(`}`, 512) + `}`,
	`{\"a":1}`,
	`{"a":1,\"b":"}"}`,
	`{"a":[1,2,3]]]}`,
	`"just a string \" with } brackets"`,
	`12345}`,
	`1{"a":[}`,
	`{"unterminated": "string`,
	`{"a":"\u00e9\ud83d\ude00","b":"` + strings.Repeat("é", 40) + `"}`,
}

func TestScanBlocks(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, s := range scanSeeds {
		b := []byte(s)
		checkScan(t, b, nil)
		for i := 0; i < 200; i++ {
			cuts := []int{rng.Intn(len(b) + 1), rng.Intn(len(b) + 1)}
			if cuts[0] > cuts[1] {
				cuts[0], cuts[1] = cuts[1], cuts[0]
			}
			checkScan(t, b, cuts)
		}
	}
	// Strings, escapes and brackets at every offset of a block.
	alpha := []byte(`"\{}[]ab,:`)
	for i := 0; i < 3000; i++ {
		n := 1 + rng.Intn(300)
		b := make([]byte, n)
		b[0] = '{'
		for j := 1; j < n; j++ {
			b[j] = alpha[rng.Intn(len(alpha))]
			if rng.Intn(3) == 0 {
				b[j] = 'x'
			}
		}
		checkScan(t, b, []int{rng.Intn(n + 1)})
	}
}

func FuzzScanBlocks(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		checkScan(t, b, []int{int(cut)})
	})
}

// TestScanCorpusSame cuts the corpus HARs into entries with both scans.
func TestScanCorpusSame(t *testing.T) {
	if !haveKernel {
		t.Skip("no mask kernel on this machine")
	}
	for _, data := range corpusHARFiles(t) {
		cut := func(kernel bool) [][]byte {
			defer func(save bool) { haveKernel = save }(haveKernel)
			haveKernel = kernel
			r := NewReader(bytes.NewReader(data))
			var out [][]byte
			for {
				raw, _, err := r.NextRaw()
				if err != nil {
					return append(out, []byte(err.Error()))
				}
				out = append(out, raw)
			}
		}
		want, got := cut(false), cut(true)
		if len(got) != len(want) {
			t.Fatalf("%d entries, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("entry %d differs", i)
			}
		}
	}
}

func benchScanner(b *testing.B, kernel bool) {
	defer func(save bool) { haveKernel = save }(haveKernel)
	haveKernel = kernel
	files := corpusHARFiles(b)
	n := 0
	for _, f := range files {
		n += len(f)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			var s valueScanner
			if _, err := s.scan(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkScanBytes and BenchmarkScanBlocks cut the corpus HAR files as
// whole values (a HAR is one value) with each scan.
func BenchmarkScanBytes(b *testing.B) { benchScanner(b, false) }

func BenchmarkScanBlocks(b *testing.B) {
	if !haveKernel {
		b.Skip("no mask kernel on this machine")
	}
	benchScanner(b, true)
}

// corpusHARFiles returns the contents of the corpus HAR files.
func corpusHARFiles(t testing.TB) [][]byte {
	t.Helper()
	dir := testutil.Corpus(t, "har")
	var out [][]byte
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".har") {
			return err
		}
		b, err := os.ReadFile(p)
		out = append(out, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
