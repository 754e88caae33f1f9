package tracewire

import (
	"context"
	"fmt"
	"io"

	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap"
)

// Enriched is what Enrich did.
type Enriched struct {
	// Capture is the conversion's summary, for a capture; nil for a HAR.
	Capture *pcap.Summary
	// Enrichment says what each trace file added and what it could not
	// pair.
	Enrichment *enrich.Summary
	// Warnings are the HAR reader's: entries it could not read (Skipped),
	// and other problems of the HAR.
	Warnings []har.Warning
	// Entries counts the entries written.
	Entries int
}

// WriteWarnings writes the HAR reader's warnings, each after "tracewire:
// warning: ", then what the enrichment paired and did not
// (enrich.Summary.WriteText); skipped says whether entries were left out
// unread.
func (r *Enriched) WriteWarnings(w io.Writer) (skipped bool, err error) {
	for _, wn := range r.Warnings {
		msg := wn.String()
		if wn.Skipped {
			msg, skipped = SkippedWarning(wn.Entry, wn.Msg), true
		}
		fmt.Fprintln(w, "tracewire: warning:", msg)
	}
	return skipped, r.Enrichment.WriteText(w)
}

// Enrich runs Analyze's plan without detection: it resolves the input the
// same way (experiment folder, key logs, trace files), converts a capture,
// and runs the same enrichment stages in the same order (decryption first,
// then stack traces, process comments and provenance), writing the
// enriched HAR to o.HAR as it streams. Unlike Analyze it also reads the
// packet comments of a HAR (one tracewire converted), and the HAR's log
// says what was read: _enrichment lists the trace files with their
// SHA-256, and a converted capture keeps the conversion's _tlsErrors and
// _warnings.
//
// Options that only concern detection (DB, IndicatorsEverywhere,
// Workers, MaxEvidence, Hashed) are ignored, and so are the indicators of
// in. The result is returned with the error, as far as it got.
func Enrich(ctx context.Context, in Input, o Options) (*Enriched, error) {
	p, err := resolve(in)
	if err != nil {
		return nil, err
	}
	p.enrichOnly = true
	if o.HAR == nil {
		o.HAR = io.Discard
	}
	// The trace readers hash their files as they read them; nothing is
	// read twice.
	ens, _, err := p.enrichers(o, nil)
	if err != nil {
		return nil, err
	}
	r := &run{p: p, o: o, a: &Analysis{}, ens: ens, hosts: map[string]int{}}
	err = r.run(ctx)
	res := &Enriched{Capture: r.pcapSum, Enrichment: r.enrSum, Warnings: r.hwarn, Entries: r.a.EntriesRead}
	if err != nil {
		return res, err
	}
	return res, CaptureReadError(r.pcapSum)
}

// ResolveInput returns in with the files of its experiment folder added,
// as Analyze and Enrich read them (for a caller that must know every
// file an analysis reads, say to refuse an output that would replace one).
func ResolveInput(in Input) (Input, error) {
	p, err := resolveFiles(in)
	if err != nil {
		return in, err
	}
	return p.in, nil
}

// InputPaths lists every file an input names.
func InputPaths(in Input) []string {
	var out []string
	for _, l := range [][]string{in.Files, in.KeyLogs, in.RSAKeys, in.SocketTraces, in.EBPFEvents, in.AESInfo, in.Provenance, in.IndicatorFiles} {
		out = append(out, l...)
	}
	if in.Experiment != "" {
		out = append(out, in.Experiment)
	}
	return out
}
