package report

import (
	"bytes"
	"testing"

	"github.com/tracewire/tracewire/pcap"
)

func TestWriteCaptureWarnings(t *testing.T) {
	sum := &pcap.Summary{TLSErrors: make([]pcap.TLSError, 2)}
	for _, tc := range []struct {
		inFlows bool
		want    string
	}{
		{false, "tracewire: warning: 2 TLS connection(s) could not be decrypted (see _tlsErrors in the HAR, or tracewire flows)\n"},
		{true, "tracewire: warning: 2 TLS connection(s) could not be decrypted (the table's decrypted column says why)\n"},
	} {
		var b bytes.Buffer
		WriteCaptureWarnings(&b, sum, tc.inFlows)
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
	var b bytes.Buffer
	WriteCaptureWarnings(&b, nil, false)
	if b.Len() != 0 {
		t.Errorf("nil summary: %q", b.String())
	}
}
