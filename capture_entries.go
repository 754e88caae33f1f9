package tracewire

import (
	"context"
	"fmt"
	"io"

	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap"
)

// CaptureEntries is a match.EntrySource over the entries pcap.Convert
// makes of captures, which it runs on its own goroutine, with the process
// ptcpdump's packet comments name attached as Analyze attaches it: detect
// streams a capture's entries through the matcher with it.
type CaptureEntries struct {
	entries chan *har.Entry
	done    chan struct{}
	cancel  context.CancelFunc
	sum     *pcap.Summary
	err     error
}

// NewCaptureEntries starts converting the captures inputs.
func NewCaptureEntries(ctx context.Context, inputs []string, opts pcap.Options) *CaptureEntries {
	ctx, cancel := context.WithCancel(ctx)
	s := &CaptureEntries{entries: make(chan *har.Entry, 64), done: make(chan struct{}), cancel: cancel}
	// The process ptcpdump's packet comments name is attached as
	// Analyze attaches it, for the rows of the findings.
	ptcpdump := enrich.Ptcpdump()
	go func() {
		defer close(s.done)
		defer close(s.entries)
		i := 0
		s.sum, s.err = pcap.Convert(ctx, inputs, opts, func(e *har.Entry) error {
			if err := ptcpdump.Enrich(i, e); err != nil {
				return err
			}
			i++
			select {
			case s.entries <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return s
}

// Next implements match.EntrySource.
func (s *CaptureEntries) Next() (*har.Entry, error) {
	if e, ok := <-s.entries; ok {
		return e, nil
	}
	<-s.done
	if s.err != nil {
		return nil, s.err
	}
	return nil, io.EOF
}

// Stop ends the conversion (when matching stopped early) and waits for
// it; Summary and Warnings are complete after it.
func (s *CaptureEntries) Stop() {
	s.cancel()
	for range s.entries {
	}
	<-s.done
}

// Summary is the conversion's summary, nil before Stop or when it failed
// to start.
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
