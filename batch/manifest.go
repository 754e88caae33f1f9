package batch

import (
	"os"
	"path/filepath"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/report"
)

// Manifest is an analysis's manifest.json: its inputs and options, so a
// later run can tell whether its outputs are still current, and the
// outputs with their SHA-256.
type Manifest struct {
	Tool report.Tool `json:"tool"`
	// Build is the SHA-256 of the tracewire binary when the tool's
	// revision does not name the build alone (unknown, or a tree with
	// uncommitted changes), so a rebuilt binary does not skip analyses
	// another build made.
	Build     string            `json:"build,omitempty"`
	AdapterDB *report.AdapterDB `json:"adapterDb,omitempty"`
	// Options is a digest of the analysis options (not of the report
	// formats: reports are rendered again from findings.json).
	Options string             `json:"options"`
	Inputs  []report.InputFile `json:"inputs"`
	Devices []report.InputFile `json:"deviceReports,omitempty"`
	// Status is "ok" or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Outputs are the analysis's files with their SHA-256, checked before
	// a later run skips the analysis. A file an earlier run listed that
	// the analysis no longer makes (a report in a format no longer asked
	// for) is removed.
	Outputs []Output `json:"outputs,omitempty"`
	// Notes say why an output that was asked for is not there.
	Notes    []string `json:"notes,omitempty"`
	Findings int      `json:"findings"`
	// SkippedEntries counts the entries left out as malformed.
	SkippedEntries int `json:"skippedEntries,omitempty"`
	// Truncated: the capture could not be read to its end (cut short or
	// damaged); what was read before is analysed.
	Truncated bool `json:"truncated,omitempty"`
}

// Output is a file of an analysis.
type Output struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// ReadManifest reads the manifest.json of an analysis's output folder.
func ReadManifest(dir string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// lists reports whether the manifest lists an output named name.
func (m *Manifest) lists(name string) bool {
	for _, o := range m.Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// readManifest is ReadManifest, nil when there is none that can be read.
func readManifest(dir string) (*Manifest, bool) {
	m, err := ReadManifest(dir)
	return m, err == nil
}

func sameRun(a, b *Manifest) bool {
	if a.Tool != b.Tool || a.Build != b.Build || a.Build == "unknown" || a.Options != b.Options || (a.AdapterDB == nil) != (b.AdapterDB == nil) ||
		a.AdapterDB != nil && a.AdapterDB.SHA256 != b.AdapterDB.SHA256 {
		return false
	}
	same := func(x, y []report.InputFile) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Role != y[i].Role || x[i].SHA256 != y[i].SHA256 || x[i].Name != y[i].Name {
				return false
			}
		}
		return true
	}
	return same(a.Inputs, b.Inputs) && same(a.Devices, b.Devices)
}

// intact reports whether every output the manifest lists is there with
// the content it had when written.
func (b *runner) intact(j *tracewire.Job, m *Manifest) bool {
	for _, o := range m.Outputs {
		f, err := tracewire.HashFile("", filepath.Join(b.dir(j), o.Name))
		if err != nil || f.SHA256 != o.SHA256 {
			return false
		}
	}
	return len(m.Outputs) > 0
}

// writeManifest writes the manifest last, after the outputs it lists;
// unsynced like them (a manifest lost in a crash means the analysis runs
// again). Then it removes the files old listed that m does not: outputs
// of earlier options that no longer describe the inputs.
func (b *runner) writeManifest(j *tracewire.Job, m, old *Manifest) error {
	raw, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(filepath.Join(b.dir(j), manifestName), 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	f.NoSync = true
	if _, err := f.Write(append(raw, '\n')); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	if old == nil {
		return nil
	}
	keep := map[string]bool{manifestName: true}
	for _, o := range m.Outputs {
		keep[o.Name] = true
	}
	for _, o := range old.Outputs {
		// Only plain names: a manifest is no licence to remove files
		// elsewhere.
		if keep[o.Name] || o.Name != filepath.Base(o.Name) || o.Name == "." || o.Name == ".." {
			continue
		}
		if err := os.Remove(filepath.Join(b.dir(j), o.Name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
