package testutil

import (
	"bufio"
	"bytes"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	json "github.com/go-json-experiment/json/v1"
)

// TrackHARFinding is one line of scripts/compare-trackhar/trackhar.mjs: a
// finding of TrackHAR's, or (Error set) an entry it failed on.
type TrackHARFinding struct {
	File     string `json:"file"`
	Entry    int    `json:"entry"`
	Adapter  string `json:"adapter"`
	Property string `json:"property"`
	Context  string `json:"context"`
	Path     string `json:"path"`
	Value    string `json:"value"`
	Error    string `json:"error"`
}

// RunTrackHAR runs npm's trackhar over the HAR files through the comparison
// script, with the indicators file when given, and returns every line it
// printed. It skips the test when node or the package is missing.
func RunTrackHAR(t testing.TB, indicators string, files ...string) []TrackHARFinding {
	t.Helper()
	nm := NodeModules(t, "trackhar")
	script := filepath.Join(RepoRoot(), "scripts", "compare-trackhar", "trackhar.mjs")
	args := []string{script, nm}
	if indicators != "" {
		args = append(args, "--indicators", indicators)
	}
	cmd := exec.Command("node", append(args, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("trackhar: %v\n%s", err, stderr.String())
	}
	var fs []TrackHARFinding
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var f TrackHARFinding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("trackhar output: %v: %s", err, sc.Text())
		}
		fs = append(fs, f)
	}
	return fs
}

// SameTrackHARValue compares a value TrackHAR reports with one of ours: as
// text, numbers numerically (TrackHAR's are JavaScript doubles, ours
// exact), and JSON lists and objects whatever their key order.
func SameTrackHARValue(theirs, ours string) bool {
	if theirs == ours {
		return true
	}
	a, errA := strconv.ParseFloat(theirs, 64)
	b, errB := strconv.ParseFloat(ours, 64)
	if errA == nil && errB == nil {
		return a == b || math.Abs(a-b) <= 1e-15*math.Max(math.Abs(a), math.Abs(b))
	}
	var x, y any
	if json.Unmarshal([]byte(theirs), &x) == nil && json.Unmarshal([]byte(ours), &y) == nil {
		bx, _ := json.Marshal(x)
		by, _ := json.Marshal(y)
		return bytes.Equal(bx, by)
	}
	return false
}
