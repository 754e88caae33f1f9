package batch

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/report"
)

// failed records a failure in the job's manifest (when its inputs could
// be hashed, so a later run knows it again) and returns its result.
func (b *runner) failed(j *tracewire.Job, inputs, devices []report.InputFile, old *Manifest, err error) Result {
	msg := oneLine(err)
	if len(j.Input.Files) > 0 {
		// The job's ID already says which file.
		msg = strings.TrimPrefix(msg, j.Input.Files[0]+": ")
	}
	if inputs != nil {
		m := Manifest{Tool: report.ThisTool(), Build: b.build, AdapterDB: b.db, Options: b.key,
			Inputs: inputs, Devices: devices, Status: string(Failed), Error: msg}
		if os.MkdirAll(b.dir(j), 0o755) == nil {
			_ = b.writeManifest(j, &m, old)
		}
	}
	return Result{Status: Failed, Err: msg}
}

// analyse runs one job and writes its outputs.
func (b *runner) analyse(ctx context.Context, j *tracewire.Job, in tracewire.Input, m Manifest, old *Manifest) Result {
	dir := b.dir(j)
	if err := atomicfile.CheckDir(dir, tracewire.InputPaths(in)...); err != nil {
		// "batch caps/a.pcap -o caps": the job's folder is the capture.
		return Result{Status: Failed, Err: oneLine(err)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{Status: Failed, Err: oneLine(err)}
	}
	// No output may replace an input (a folder of inputs linked into the
	// output folder, say).
	names := append([]string{harName, findingsName, manifestName}, b.renderNames()...)
	for _, name := range names {
		if err := atomicfile.CheckOutput(filepath.Join(dir, name), append(tracewire.InputPaths(in), j.DeviceReports...)...); err != nil {
			return b.failed(j, m.Inputs, m.Devices, old, err)
		}
	}
	// The HAR is written for captures and enriched HAR files; a HAR read
	// as it is would only be copied.
	writeHAR := len(in.Files) == 0 || !isHARName(in.Files[0]) ||
		len(in.SocketTraces)+len(in.EBPFEvents)+len(in.AESInfo)+len(in.Provenance) > 0
	opts := b.o.Analysis
	opts.Hashed = m.Inputs
	var harOut *output
	if writeHAR {
		var err error
		if harOut, err = createOutput(dir, harName); err != nil {
			return b.failed(j, m.Inputs, m.Devices, old, err)
		}
		defer harOut.f.Abort()
		opts.HAR = harOut
	}
	a, err := tracewire.Analyze(ctx, in, opts)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Status: Failed, Err: oneLine(err)}
		}
		return b.failed(j, m.Inputs, m.Devices, old, err)
	}
	if harOut != nil && (a.Capture != nil || a.Enrichment != nil) {
		if err := harOut.commit(&m); err != nil {
			return b.failed(j, m.Inputs, m.Devices, old, err)
		}
	}
	ro, err := b.reportOptions(j)
	if err != nil {
		return b.failed(j, m.Inputs, m.Devices, old, err)
	}
	a.Warnings = append(a.Warnings, report.DeviceWarnings(a, ro)...)
	if err := writeOutput(dir, findingsName, &m, a.WriteJSON); err != nil {
		return b.failed(j, m.Inputs, m.Devices, old, err)
	}
	if err := b.renderAll(j, a, ro, &m); err != nil {
		return b.failed(j, m.Inputs, m.Devices, old, err)
	}
	m.Status, m.Findings, m.SkippedEntries, m.Truncated = string(OK), len(a.Findings), len(a.SkippedEntries), truncated(a)
	if err := b.writeManifest(j, &m, old); err != nil {
		return Result{Status: Failed, Err: oneLine(err)}
	}
	r := Result{Status: OK, Findings: len(a.Findings), SkippedEntries: len(a.SkippedEntries), Truncated: m.Truncated, rows: jobRows(j, a)}
	if len(a.SkippedEntries) > 0 {
		// Named here too: the findings do not cover these entries.
		r.Warnings = []string{fmt.Sprintf("entries %s skipped as malformed (see the report's methodology)", joinInts(a.SkippedEntries))}
	}
	if m.Truncated {
		r.Warnings = append(r.Warnings, "the capture could not be read to its end (cut short or damaged): what was read before is analysed (see the report's methodology)")
	}
	return r
}

// truncated says whether the analysis's capture could not be read to its
// end.
func truncated(a *tracewire.Analysis) bool { return a.Capture != nil && a.Capture.Truncated }

// render writes the reports and letters of an analysis an earlier run
// stored, for a run that differs from it only in the report formats. ok
// is false when the analysis must run again instead.
func (b *runner) render(j *tracewire.Job, a *tracewire.Analysis, m Manifest, old *Manifest) (r Result, ok bool) {
	for _, o := range old.Outputs {
		if analysisOutput(o.Name) {
			m.Outputs = append(m.Outputs, o)
		}
	}
	// The stored analysis has the device warnings already.
	ro, err := b.reportOptions(j)
	if err != nil {
		return Result{}, false
	}
	if err := b.renderAll(j, a, ro, &m); err != nil {
		return b.failed(j, m.Inputs, m.Devices, old, err), true
	}
	m.Status, m.Findings, m.SkippedEntries, m.Truncated = string(OK), old.Findings, old.SkippedEntries, old.Truncated
	if err := b.writeManifest(j, &m, old); err != nil {
		return Result{Status: Failed, Err: oneLine(err)}, true
	}
	return Result{Status: Rendered, Findings: old.Findings, SkippedEntries: old.SkippedEntries, Truncated: old.Truncated, rows: jobRows(j, a)}, true
}

// reportOptions are the report options of a job, with its device reports.
func (b *runner) reportOptions(j *tracewire.Job) (report.Options, error) {
	ro := report.Options{Lang: b.o.Lang, DB: b.o.Analysis.DB, AppID: b.o.AppID}
	for _, d := range j.DeviceReports {
		dr, err := report.ReadDeviceReportFile(d)
		if err != nil {
			return ro, err
		}
		ro.DeviceReports = append(ro.DeviceReports, dr)
	}
	return ro, nil
}

// renderAll writes the reports and letters of an analysis, in the order
// of renderNames, and lists them in m.
func (b *runner) renderAll(j *tracewire.Job, a *tracewire.Analysis, ro report.Options, m *Manifest) error {
	dir := b.dir(j)
	for _, fm := range b.o.Formats {
		if err := writeOutput(dir, "report"+fm.Ext(), m, func(w io.Writer) error { return report.Write(w, fm, a, ro) }); err != nil {
			return err
		}
	}
	for _, doc := range b.o.Documents {
		if len(a.Findings) == 0 {
			// Refused, not failed: the analysis is complete, and the
			// manifest says why there is no letter.
			m.Notes = append(m.Notes, fmt.Sprintf("no %s: %v", doc, report.ErrNoFindings))
			continue
		}
		d, err := report.ReadDetailsFile(detailsBeside(j), doc)
		if err != nil {
			return err
		}
		for _, fm := range b.o.Formats {
			if err := writeOutput(dir, string(doc)+fm.Ext(), m, func(w io.Writer) error { return report.WriteDocument(w, fm, doc, a, d, ro) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func isHARName(p string) bool { return strings.HasSuffix(strings.ToLower(p), ".har") }

// writeOutput writes one output file with fn and lists it in m.
func writeOutput(dir, name string, m *Manifest, fn func(io.Writer) error) error {
	o, err := createOutput(dir, name)
	if err != nil {
		return err
	}
	defer o.f.Abort()
	if err := fn(o); err != nil {
		return err
	}
	return o.commit(m)
}

// output is a file of one analysis, written atomically and hashed as it
// is written. It is not synced: the manifest records its SHA-256 and a
// later run checks it before trusting the file, so after a crash a file
// that did not reach the disk is made again, at the cost of no sync per
// file (syncs do not run in parallel on most disks, and a batch writes
// four files per analysis).
type output struct {
	f    *atomicfile.File
	h    hash.Hash
	w    *bufio.Writer
	name string
}

func createOutput(dir, name string) (*output, error) {
	f, err := atomicfile.Create(filepath.Join(dir, name), 0o644)
	if err != nil {
		return nil, err
	}
	f.NoSync = true
	o := &output{f: f, h: sha256.New(), name: name}
	o.w = bufio.NewWriterSize(io.MultiWriter(f, o.h), 256<<10)
	return o, nil
}

func (o *output) Write(p []byte) (int, error) { return o.w.Write(p) }

// commit renames the file into place and records it in the manifest.
func (o *output) commit(m *Manifest) error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	if err := o.f.Commit(); err != nil {
		return err
	}
	m.Outputs = append(m.Outputs, Output{Name: o.name, SHA256: hex.EncodeToString(o.h.Sum(nil))})
	return nil
}
