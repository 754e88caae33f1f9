package batch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/testutil"
)

// TestOutputFolderAndInputs: an output folder that is, holds or lies
// beside the inputs never replaces an input, never writes outside itself,
// and never leaves out an input silently: only this batch's own HARs in
// it are not analysed again. Before, "batch caps -o caps" and
// "batch caps/a.pcapng -o caps" found 0 analyses and exited 0, and
// "batch .. -o out" wrote the outputs to out/../.
func TestOutputFolderAndInputs(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "tracking.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files []string // made under the test's folder, with the sample capture
		exp   string   // a copy of testdata/experiment made here
		cwd   string   // the folder the run starts in ("" the test's folder)
		paths []string
		out   string
		first []string // the statuses of the first run
		again []string // and of the second
	}{
		{name: "output is the input folder", files: []string{"caps/a.pcapng", "caps/b.pcapng"},
			paths: []string{"caps"}, out: "caps",
			first: []string{"caps/a.pcapng ok", "caps/b.pcapng ok"},
			again: []string{"caps/a.pcapng skipped", "caps/b.pcapng skipped"}},
		{name: "output in the input folder holds a capture", files: []string{"caps/a.pcapng", "caps/out/c.pcapng"},
			paths: []string{"caps"}, out: "caps/out",
			first: []string{"caps/a.pcapng ok", "caps/out/c.pcapng ok"},
			again: []string{"caps/a.pcapng skipped", "caps/out/c.pcapng skipped"}},
		{name: "a file named in the output folder", files: []string{"caps/a.pcapng"},
			paths: []string{"caps/a.pcapng"}, out: "caps",
			first: []string{"a.pcapng failed: output caps/a.pcapng: is the input caps/a.pcapng; give an output folder"},
			again: []string{"a.pcapng failed: output caps/a.pcapng: is the input caps/a.pcapng; give an output folder"}},
		{name: "an own HAR named on the command line", files: []string{"caps/a.pcapng"},
			paths: []string{"caps", "caps/caps/a.pcapng/analysis.har"}, out: "caps",
			first: []string{"analysis.har failed: stat caps/caps/a.pcapng/analysis.har: no such file or directory", "caps/a.pcapng ok"},
			again: []string{"analysis.har ok", "caps/a.pcapng skipped"}},
		{name: "output is the experiment folder", exp: "exp",
			paths: []string{"exp"}, out: "exp",
			first: []string{"exp ok"},
			again: []string{"exp skipped"}},
		{name: "input folder ..", files: []string{"top/x.pcapng", "top/sub/keep"}, cwd: "top/sub",
			paths: []string{".."}, out: "out",
			first: []string{"top/x.pcapng ok"},
			again: []string{"top/x.pcapng skipped"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			for _, f := range c.files {
				p := filepath.Join(base, filepath.FromSlash(f))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, sample, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.exp != "" {
				src := filepath.Join(testutil.RepoRoot(), "testdata", "experiment")
				if err := os.CopyFS(filepath.Join(base, c.exp), os.DirFS(src)); err != nil {
					t.Fatal(err)
				}
			}
			before := files(t, base)
			t.Chdir(filepath.Join(base, filepath.FromSlash(c.cwd)))
			out, err := filepath.Abs(c.out)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]string{c.first, c.again} {
				s, err := Run(context.Background(), c.paths, Options{Out: c.out, Jobs: 1})
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				var got []string
				for _, r := range s.Results {
					line := r.ID + " " + string(r.Status)
					if r.Err != "" {
						line += ": " + r.Err
					}
					got = append(got, line)
				}
				if !slices.Equal(got, want) {
					t.Errorf("run %d: %q, want %q", i+1, got, want)
				}
			}
			after := files(t, base)
			for name, content := range before {
				if after[name] != content {
					t.Errorf("input %s changed", name)
				}
			}
			for name := range after {
				p := filepath.Join(base, filepath.FromSlash(name))
				if _, input := before[name]; !input && !strings.HasPrefix(p, out+string(filepath.Separator)) {
					t.Errorf("%s written outside the output folder %s", name, out)
				}
			}
		})
	}
}
