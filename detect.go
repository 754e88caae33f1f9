package tracewire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/internal/stdinfile"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/report"
)

// Detection is what Detect hands out while it runs.
type Detection struct {
	// Result gets the matcher's result for each entry, in entry order.
	Result func(*match.Result) error
	// Hashed, when set, is called once with the analysis whose ID and
	// Inputs are known (the inputs are hashed while the entries are
	// read), before the next result or, at the latest, at the end; from
	// the goroutine that calls Result. Without it the inputs are not
	// hashed.
	Hashed func(*Analysis) error
}

// Detect runs Analyze's pipeline over in and hands each entry's result to
// d.Result as it comes, instead of keeping findings and evidence: memory
// stays flat whatever the number of findings. "tracewire detect" prints
// them.
//
// The Analysis returned holds the rest: ID and Inputs, entries read, the
// entries the readers left out (SkippedEntries; the matcher's skipped
// entries are in the results), the warnings as the readers say them
// (paths as given), the enrichment summary and the capture. It is
// returned, as far as it got, also with the error that stopped the run.
func Detect(ctx context.Context, in Input, o Options, d Detection) (*Analysis, error) {
	p, err := resolve(in)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Tool: report.ThisTool()}
	type digests struct {
		inputs []report.InputFile
		err    error
	}
	var hashing chan digests
	if d.Hashed != nil {
		hashing = make(chan digests, 1)
		go func() {
			ins, err := p.hashed(o.Hashed)
			hashing <- digests{ins, err}
		}()
	}
	var hashErr error
	hashed := func(wait bool) error {
		if hashing == nil {
			return nil
		}
		var h digests
		if wait {
			h = <-hashing
		} else {
			select {
			case h = <-hashing:
			default:
				return nil
			}
		}
		hashing = nil
		if hashErr = h.err; h.err != nil {
			return nil // said at the end: the results do not need the ID
		}
		a.Inputs, a.ID = h.inputs, AnalysisID(h.inputs)
		return d.Hashed(a)
	}
	r, err := newRun(p, o, a, nil)
	if err != nil {
		return nil, err
	}
	r.stream = func(res *match.Result) error {
		if err := hashed(false); err != nil {
			return err
		}
		return d.Result(res)
	}
	err = r.run(ctx)
	if err == nil {
		err = CaptureReadError(r.pcapSum)
	}
	r.finish()
	if err != nil {
		return a, err
	}
	if err := hashed(true); err != nil {
		return a, err
	}
	return a, hashErr
}

// MainFile is the capture or HAR an input names first: its Files[0], or
// the capture of its experiment folder.
func MainFile(in Input) (string, error) {
	if len(in.Files) > 0 {
		return in.Files[0], nil
	}
	p, err := resolveFiles(in)
	if err != nil {
		return "", err
	}
	return p.in.Files[0], nil
}

// Streams are the standard streams of a command run as a call.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// DetectTo is the command "tracewire detect" as a call. It runs Detect
// over in and writes each entry's results to s.Out as they come, in the
// format w says (w.Rows is filled in here), then the warnings to s.Err.
// With trace files or an experiment folder (an enrichment) it also writes
// what the enrichment paired to s.Err and, after the table, who sent the
// requests that carried findings. A file "-" in in.Files is read from
// s.In, and named "-" in the output.
//
// A file that is neither a capture nor a HAR, and an input that cannot be
// read, are errors, returned after the output says that it is not
// complete. Entries skipped as malformed, or a capture cut short, give
// ErrIncomplete: the output holds the rest.
func DetectTo(ctx context.Context, in Input, o Options, w report.DetectOptions, s Streams) error {
	enriched := in.Experiment != "" || len(in.SocketTraces)+len(in.EBPFEvents)+len(in.AESInfo)+len(in.Provenance) > 0
	first := ""
	if len(in.Files) > 0 {
		first = in.Files[0]
	}
	w.Rows = report.RowInfo{InputFile: first, ToolVersion: report.ThisTool().Version}
	stdin := s.In
	if !enriched && first != "" {
		// Said at once, before any work.
		var info filekind.Info
		var err error
		if first == "-" {
			info, stdin = filekind.SniffReader(s.In)
		} else if info, err = filekind.SniffFile(first); err != nil {
			return err
		}
		if err := (filekind.ReadsCaptures | filekind.ReadsHAR).Check("detect", first, info); err != nil {
			return detectFailed(report.NewDetectWriter(s.Out, w), s.Err, err)
		}
	}
	spool := ""
	if first == "-" {
		files, cleanup, err := stdinfile.Spool(stdin, in.Files)
		if err != nil {
			return err
		}
		defer cleanup()
		in.Files, spool = files, files[0]
	}
	main, err := MainFile(in)
	if err != nil {
		return err
	}
	w.Rows.InputFile = stdinfile.Display(main)
	out := report.NewDetectWriter(s.Out, w)
	var senders []report.Evidence
	d := Detection{Result: func(r *match.Result) error {
		if enriched && w.Format == "table" && len(r.Findings) > 0 {
			senders = append(senders, report.Evidence{Index: r.Entry.Index, Entry: report.EvidenceEntry(r.Parsed)})
		}
		return out.Add(r)
	}}
	if !w.ValuesOnly && w.Format != "table" {
		// A findings file names the inputs it was made from (their
		// SHA-256), and JSON Lines rows carry the analysis ID made from
		// them: the rows wait for it until the inputs are hashed.
		d.Hashed = func(a *Analysis) error { return out.SetAnalysisID(a.ID) }
	}
	a, err := Detect(ctx, in, o, d)
	if a == nil {
		return err
	}
	name := func(msg string) string {
		if spool != "" {
			// Standard input's spool file is named "-", as given.
			return strings.ReplaceAll(msg, spool, "-")
		}
		return msg
	}
	if err == nil && enriched && a.Enrichment != nil {
		// What was paired and what was not, as Enrich's caller says it.
		if err := a.Enrichment.WriteText(s.Err); err != nil {
			return err
		}
	}
	out.AddWarnings(a.Warnings, a.SkippedEntries, name)
	if err != nil {
		var se *har.SyntaxError
		if errors.As(err, &se) && out.Written() > 0 {
			err = fmt.Errorf("%w (the findings before this point were written)", err)
		}
		if spool != "" {
			err = errors.New(name(err.Error()))
		}
		return detectFailed(out, s.Err, err)
	}
	if d.Hashed != nil && w.Format == "json" {
		m := &report.DetectMeta{Tool: a.Tool, ID: a.ID, Inputs: a.Inputs}
		for i := range m.Inputs {
			m.Inputs[i].Path = stdinfile.Display(m.Inputs[i].Path)
			if i == 0 && spool != "" {
				m.Inputs[i].Name = "stdin"
			}
		}
		out.SetMeta(m)
	}
	if err := out.End(s.Err, ""); err != nil {
		return err
	}
	if enriched && w.Format == "table" {
		if err := report.WriteSenders(s.Out, senders, w.Lang); err != nil {
			return err
		}
	}
	if out.Skipped() > 0 {
		return ErrIncomplete
	}
	return Incomplete(a)
}

// detectFailed ends an output stopped by err (an input that cannot be
// read, or not to its end): the output says so instead of looking
// complete.
func detectFailed(out *report.DetectWriter, stderr io.Writer, err error) error {
	if ferr := out.End(stderr, err.Error()); ferr != nil {
		return ferr
	}
	return err
}
