package examples

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
)

// python finds an interpreter that can import every module, preferring
// Debian's (the packages .ci/run installs live there), or skips.
func python(t *testing.T, modules ...string) string {
	t.Helper()
	check := "import " + strings.Join(modules, ", ")
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(p, "-c", check).Run(); err == nil {
			return p
		}
	}
	t.Skipf("no python3 that can %q (Debian: apt-get install python3-distributed python3-dask python3-pandas jupyter-nbconvert python3-ipykernel python3-matplotlib)", check)
	return ""
}

// binary builds the tracewire command once per test.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tracewire")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tracewire")
	cmd.Dir = testutil.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// inputs are the sample capture, the golden HAR and, when the corpus is
// there, two real app HARs with many findings.
func inputs(t *testing.T) []string {
	t.Helper()
	root := testutil.RepoRoot()
	in := []string{
		filepath.Join(root, "testdata", "sample", "tracking.pcapng"),
		filepath.Join(root, "testdata", "golden", "tracking.har"),
	}
	if dir := filepath.Join(root, "..", "shared", "corpus", "har", "reporthar"); dirExists(dir) {
		in = append(in, filepath.Join(dir, "android_first-run.har"), filepath.Join(dir, "ios_second-run.har"))
	} else {
		t.Log("../shared/corpus absent: the recipes run on the repository's own samples only")
	}
	return in
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func readRows(t *testing.T, path string) []map[string]any {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// canonical renders rows as sorted JSON texts: a multiset to compare.
// batch's findings.jsonl names an input by its job (the path below the
// folder given), the map step by the path as given; both name the same
// file, compared by its base name.
func canonical(t *testing.T, rows []map[string]any) []string {
	t.Helper()
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		c := make(map[string]any, len(r))
		for k, v := range r {
			c[k] = v
		}
		if s, ok := c["input_file"].(string); ok {
			c["input_file"] = filepath.Base(s)
		}
		b, err := json.Marshal(c) // map keys sorted
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// TestDaskMapStep runs `tracewire batch - -o -` as the map step of a Dask
// cluster of two worker processes talking TCP on loopback, and checks that
// the gathered rows are exactly batch's own findings.jsonl for the same
// inputs, and that a failing input is reported without losing the others.
func TestDaskMapStep(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a Dask cluster")
	}
	py := python(t, "dask.bag", "dask.distributed", "pandas")
	bin := binary(t)
	good := inputs(t)
	tmp := t.TempDir()

	batchOut := filepath.Join(tmp, "batch")
	cmd := exec.Command(bin, append(append([]string{"batch"}, good...), "-o", batchOut, "--jobs", "1")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tracewire batch: %v\n%s", err, out)
	}
	want := canonical(t, readRows(t, filepath.Join(batchOut, "findings.jsonl")))
	if len(want) == 0 {
		t.Fatal("batch found nothing in the inputs: the comparison would prove nothing")
	}

	bad := filepath.Join(tmp, "truncated.pcap")
	if err := os.WriteFile(bad, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	paths := filepath.Join(tmp, "paths.txt")
	list := append(slices.Clone(good[:1]), append([]string{bad}, good[1:]...)...)
	if err := os.WriteFile(paths, []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	result := filepath.Join(tmp, "dask.json")
	script := filepath.Join(testutil.RepoRoot(), "examples", "dask_map.py")
	run := exec.Command(py, script, bin, paths, "--workers", "2", "--json", result)
	out, err := run.CombinedOutput()
	if code := run.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("dask_map.py: exit %d (%v), want 1 for the failing input\n%s", code, err, out)
	}
	var got struct {
		Rows     []map[string]any `json:"rows"`
		Failures []struct {
			Paths []string `json:"paths"`
			Error string   `json:"error"`
		} `json:"failures"`
	}
	b, err := os.ReadFile(result)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Failures) != 1 || !slices.Equal(got.Failures[0].Paths, []string{bad}) ||
		!strings.Contains(got.Failures[0].Error, "truncated.pcap") {
		t.Errorf("failures = %+v, want one naming %s", got.Failures, bad)
	}
	for _, r := range got.Rows {
		if !slices.Contains(good, r["input_file"].(string)) {
			t.Errorf("row names input %q, want one of the paths given", r["input_file"])
		}
	}
	if g := canonical(t, got.Rows); !slices.Equal(g, want) {
		t.Errorf("Dask rows differ from batch's findings.jsonl: %d rows, want %d", len(g), len(want))
		for _, d := range diff(g, want) {
			t.Log(d)
		}
	}
	if !strings.Contains(string(out), "rows from") {
		t.Errorf("no summary line in the recipe's output:\n%s", out)
	}
}

// diff lists up to ten rows that are in one multiset only.
func diff(got, want []string) []string {
	var d []string
	i, j := 0, 0
	for (i < len(got) || j < len(want)) && len(d) < 10 {
		switch {
		case j == len(want) || (i < len(got) && got[i] < want[j]):
			d = append(d, "only in Dask: "+got[i])
			i++
		case i == len(got) || want[j] < got[i]:
			d = append(d, "only in batch: "+want[j])
			j++
		default:
			i++
			j++
		}
	}
	return d
}

// TestResearchNotebook executes examples/research.ipynb top to bottom on
// a batch of inputs and checks its company table.
func TestResearchNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a Jupyter kernel")
	}
	python(t, "pandas", "matplotlib", "ipykernel", "nbconvert")
	if _, err := exec.LookPath("jupyter"); err != nil {
		t.Skip("no jupyter (Debian: apt-get install jupyter-nbconvert python3-ipykernel)")
	}
	bin := binary(t)
	tmp := t.TempDir()
	in := filepath.Join(tmp, "captures")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range inputs(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	executed := filepath.Join(tmp, "executed.ipynb")
	cmd := exec.Command("jupyter", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.timeout=600", "--output", executed,
		filepath.Join(testutil.RepoRoot(), "examples", "research.ipynb"))
	cmd.Env = append(os.Environ(), "TRACEWIRE="+bin, "TRACEWIRE_INPUTS="+in,
		"TRACEWIRE_RESULTS="+filepath.Join(tmp, "results"),
		"PYDEVD_DISABLE_FILE_VALIDATION=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert --execute: %v\n%s", err, out)
	}
	b, err := os.ReadFile(executed)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			Type    string `json:"cell_type"`
			Outputs []struct {
				Type string            `json:"output_type"`
				Text any               `json:"text"`
				Data map[string]any    `json:"data"`
				Name string            `json:"ename"`
				Meta map[string]string `json:"-"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	images := 0
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.Type == "error" {
				t.Errorf("a cell raised %s", o.Name)
			}
			text.WriteString(joinText(o.Text))
			text.WriteString(joinText(o.Data["text/plain"]))
			if o.Data["image/png"] != nil {
				images++
			}
		}
	}
	s := text.String()
	// The sample capture's weather app talks to Google, Meta and Adjust.
	for _, company := range []string{"Google LLC", "Meta Platforms Ireland Ltd.", "Adjust GmbH"} {
		if !strings.Contains(s, company) {
			t.Errorf("the company table lacks %q", company)
		}
	}
	if !strings.Contains(s, "rows joined to") {
		t.Error("the join cell printed nothing")
	}
	if images != 1 {
		t.Errorf("%d plots, want 1", images)
	}
}

func joinText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, s := range x {
			if str, ok := s.(string); ok {
				b.WriteString(str)
			}
		}
		return b.String()
	}
	return ""
}
