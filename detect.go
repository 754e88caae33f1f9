package tracewire

import (
	"context"

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
