package main

import (
	"context"
	"os"

	"github.com/tracewire/tracewire"
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
	files, cleanup, err := stdinInputs(e, []string{in})
	if err != nil {
		return err
	}
	defer cleanup()
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

	for i := range a.Inputs {
		a.Inputs[i].Path = displayPath(a.Inputs[i].Path)
	}
	out := newDetectOutput(e.stdout, rep.RowInfo{AnalysisID: a.ID, InputFile: a.MainInput(), ToolVersion: a.Tool.Version}, f)
	if err := out.AddAnalysis(a); err != nil {
		return err
	}
	if a.Enrichment != nil {
		// What was paired and what was not, as `tracewire enrich` says it.
		if err := a.Enrichment.WriteText(e.stderr); err != nil {
			return err
		}
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
