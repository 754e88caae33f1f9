package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/match"
	rep "github.com/tracewire/tracewire/report"
)

// enriched reports whether detect must run the enrichment stage first: a
// trace file is given, or the input is a PiRogue experiment folder.
func (f *detectFlags) enriched(in string) bool {
	e := &f.enrich
	if e.socketTrace != "" || e.experiment != "" || e.aesInfo != "" || e.provenance != "" || e.ebpf != "" {
		return true
	}
	st, err := os.Stat(in)
	return err == nil && st.IsDir()
}

// runDetectEnriched is detect with the enrichment stage: the whole pipeline
// (convert, enrich, detect) runs through tracewire.Analyze, so decrypted
// bodies are searched and the owner IDs of a provenance log become
// indicators, exactly as reports and batch runs see them. The findings are
// written in detect's formats.
func runDetectEnriched(ctx context.Context, e *env, in string, f *detectFlags) error {
	an := analysisFlags{
		capture:    f.capture,
		enrich:     f.enrich,
		indicators: f.indicators,
		indFile:    f.indFile,
		everywhere: f.everywhere,
		adapterDir: f.adapterDir,
	}
	files := []string{in}
	if in == "-" {
		inputs, cleanup, err := stdinInputs(e, files)
		if err != nil {
			return err
		}
		defer cleanup()
		files = inputs
	}
	input, err := an.input(files)
	if err != nil {
		return err
	}
	opts, err := an.options(e)
	if err != nil {
		return err
	}
	opts.Workers = f.workers
	a, err := tracewire.Analyze(ctx, input, opts)
	if err != nil {
		return err
	}

	out := newDetectOutput(e.stdout, rep.RowInfo{AnalysisID: a.ID, InputFile: displayPath(a.MainInput()), ToolVersion: a.Tool.Version}, f)
	// Findings come in entry order; a result per entry with findings.
	for i := 0; i < len(a.Findings); {
		j := i
		for j < len(a.Findings) && a.Findings[j].Entry.Index == a.Findings[i].Entry.Index {
			j++
		}
		r := match.Result{Entry: a.Findings[i].Entry, Adapter: a.Findings[i].Adapter, Findings: a.Findings[i:j], Parsed: a.Entry(a.Findings[i].Entry.Index)}
		if err := out.Add(&r); err != nil {
			return err
		}
		i = j
	}
	out.SetEntries(a.EntriesRead)
	if a.Enrichment != nil {
		// What was paired and what was not, as `tracewire enrich` says it.
		if err := a.Enrichment.WriteText(e.stderr); err != nil {
			return err
		}
	}
	isSkipped := map[int]bool{}
	for _, idx := range a.SkippedEntries {
		isSkipped[idx] = true
	}
	if f.format == "json" && !f.valuesOnly {
		m := &rep.DetectMeta{Tool: a.Tool, ID: a.ID, Inputs: a.Inputs}
		for i := range m.Inputs {
			m.Inputs[i].Path = displayPath(m.Inputs[i].Path)
		}
		out.SetMeta(m)
	}
	for _, w := range a.Warnings {
		var idx int
		if _, err := fmt.Sscanf(w, "entry %d skipped as malformed", &idx); err == nil && isSkipped[idx] {
			out.Skip(idx, w)
			continue
		}
		out.Warn(w)
	}
	status := out.done(e)
	if exitStatus(status) == exitFailed {
		return status
	}
	if f.format == "table" {
		if err := rep.WriteSenders(e.stdout, a.Entries, f.lang); err != nil {
			return err
		}
	}
	if status == nil {
		status = incomplete(a) // a capture not read to its end
	}
	return status
}
