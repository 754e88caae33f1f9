package tracewire

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
)

// TestREADMELibraryExample: the README's library example is the body of
// ExampleAnalyze, which compiles and runs with the tests.
func TestREADMELibraryExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	r := string(readme)
	i := strings.Index(r, "## As a library\n\n```go\n")
	if i < 0 {
		t.Fatal("README: no go block under \"## As a library\"")
	}
	block := r[i+len("## As a library\n\n```go\n"):]
	block = block[:strings.Index(block, "```\n")]
	s := string(src)
	j := strings.Index(s, "func ExampleAnalyze() {\n")
	if j < 0 {
		t.Fatal("example_test.go: no ExampleAnalyze")
	}
	body := s[j+len("func ExampleAnalyze() {\n"):]
	body = body[:strings.Index(body, "\t// Output:")]
	var lines []string
	for _, l := range strings.SplitAfter(body, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	if want := strings.Join(lines, ""); block != want {
		t.Errorf("README's library example differs from ExampleAnalyze:\n%s\nwant\n%s", block, want)
	}
	if !strings.Contains(block, "if err != nil") {
		t.Error("the example must handle its error")
	}
}

// TestREADMEAdapterCount: the README's count of companies and adapters is
// the embedded database's.
func TestREADMEAdapterCount(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("(%d companies, %d adapters)", len(db.Trackers), len(db.Adapters))
	if !strings.Contains(string(readme), want) {
		t.Errorf("README's adapter section does not say %q (tracewire adapters list counts them)", want)
	}
}
