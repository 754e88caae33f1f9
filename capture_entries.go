package tracewire

import (
	"context"
	"fmt"
	"iter"

	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap"
)

// CaptureEntries are the entries pcap makes of captures, with the process
// ptcpdump's packet comments name attached as Analyze attaches it: detect
// streams a capture's entries through the matcher with them.
type CaptureEntries struct {
	ctx    context.Context
	inputs []string
	opts   pcap.Options
	sum    *pcap.Summary
}

// NewCaptureEntries prepares the conversion of the captures inputs.
func NewCaptureEntries(ctx context.Context, inputs []string, opts pcap.Options) *CaptureEntries {
	return &CaptureEntries{ctx: ctx, inputs: inputs, opts: opts}
}

// All converts the captures, yielding their entries.
func (s *CaptureEntries) All() iter.Seq2[*har.Entry, error] {
	ptcpdump := enrich.Ptcpdump()
	return func(yield func(*har.Entry, error) bool) {
		i := 0
		for e, err := range pcap.Entries(s.ctx, s.inputs, s.opts, &s.sum) {
			if err == nil {
				err = ptcpdump.Enrich(i, e)
			}
			if !yield(e, err) || err != nil {
				return
			}
			i++
		}
	}
}

// Summary is the conversion's summary once All has ended, nil when it
// failed to start.
func (s *CaptureEntries) Summary() *pcap.Summary { return s.sum }

// Warnings are the conversion's warnings, and one for the TLS
// connections that could not be decrypted.
func (s *CaptureEntries) Warnings() []string {
	if s.sum == nil {
		return nil
	}
	var out []string
	for _, w := range s.sum.Warnings {
		out = append(out, w.String())
	}
	if n := len(s.sum.TLSErrors); n > 0 {
		out = append(out, fmt.Sprintf("%d TLS connection(s) could not be decrypted (give their keys with --keylog; see \"tracewire flows\")", n))
	}
	return out
}
