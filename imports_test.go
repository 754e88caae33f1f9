package tracewire

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCodeRules keeps three rules of DEVELOPERS.md true for the whole
// module: one JSON library (json/v2, whose v1 package gives the
// encoding/json API), no assembly, and unsafe in one documented file.
func TestCodeRules(t *testing.T) {
	fset := token.NewFileSet()
	var unsafeIn []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".s":
			t.Errorf("%s: assembly", p)
		case ".go":
			f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				switch {
				case path == "encoding/json":
					t.Errorf("%s imports encoding/json; use github.com/go-json-experiment/json (or its v1 package)", p)
				case path == "unsafe" && !strings.HasSuffix(p, "_test.go"):
					unsafeIn = append(unsafeIn, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(unsafeIn) > 1 || len(unsafeIn) == 1 && unsafeIn[0] != filepath.Join("collect", "capture_linux.go") {
		t.Errorf("unsafe is imported by %q; DEVELOPERS.md allows only collect/capture_linux.go", unsafeIn)
	}
}
