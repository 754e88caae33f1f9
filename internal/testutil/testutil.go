// Package testutil has helpers shared by tests: locating the external
// corpus and running the npm oracles (har-validator, trackhar).
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RepoRoot returns the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Corpus returns the path of ../shared/corpus/rel, skipping the test with a
// clear message when the corpus is absent (a fresh clone has no ../shared).
func Corpus(t testing.TB, rel ...string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: the external corpus %s is absent (see ../shared/README.md)", dir)
	}
	p := filepath.Join(append([]string{dir}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus file missing: %v", err)
	}
	return p
}

// Shared returns the path of ../shared/rel, skipping when it is absent.
func Shared(t testing.TB, rel ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{RepoRoot(), "..", "shared"}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s is absent (see ../shared/README.md)", p)
	}
	return p
}

// NodeModules returns the folder holding npm oracles (har-validator,
// trackhar) that .ci/run installs, or skips the test when there is none.
func NodeModules(t testing.TB, pkg string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("skipping: node is not installed")
	}
	dirs := []string{os.Getenv("TRACEWIRE_NODE_MODULES"), filepath.Join(RepoRoot(), ".ci", "node", "node_modules")}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, pkg)); err == nil {
			return d
		}
	}
	t.Skipf("skipping: npm package %s not installed (.ci/run installs it into .ci/node)", pkg)
	return ""
}

const validateJS = `
const v = require('har-validator/lib/promise');
const fs = require('fs');
(async () => {
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    try { await v.har(JSON.parse(fs.readFileSync(f, 'utf8'))); }
    catch (e) { bad++; console.log(f + ': ' + JSON.stringify(e.errors || e.message).slice(0, 2000)); }
  }
  process.exit(bad ? 1 : 0);
})();
`

// ValidateHAR runs npm's har-validator on the files and fails the test for
// each file it rejects. It skips when node or har-validator is missing.
func ValidateHAR(t testing.TB, files ...string) {
	t.Helper()
	if len(files) == 0 {
		return
	}
	nm := NodeModules(t, "har-validator")
	script := filepath.Join(t.TempDir(), "validate.js")
	if err := os.WriteFile(script, []byte(validateJS), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{script}, files...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nm)
	out, err := cmd.CombinedOutput()
	if err != nil {
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			t.Errorf("har-validator: %s", line)
		}
		if len(out) == 0 {
			t.Errorf("har-validator failed: %v", err)
		}
	}
}
