package tracewire

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/pcap"
)

// HARName is the name of the HAR converted from the capture input: its
// base name with the capture extensions replaced by .har, "stdin.har"
// for standard input ("-").
func HARName(input string) string {
	if input == "-" {
		return "stdin.har"
	}
	base := filepath.Base(input)
	for _, ext := range []string{".gz", ".zst", ".pcapng", ".pcap", ".cap", ".ntar"} {
		base = strings.TrimSuffix(base, ext)
	}
	if base == "" || base == "." {
		base = "capture"
	}
	return base + ".har"
}

// ConvertFile converts the captures inputs into one HAR written to path,
// atomically (nothing is left of it on error), or to w when path is "" or
// "-". A capture nothing could be read from is an error
// (CaptureReadError), as in Analyze: its empty HAR is not kept.
func ConvertFile(ctx context.Context, path string, w io.Writer, inputs []string, o pcap.Options, wo ...har.WriterOption) (*pcap.Summary, error) {
	if path == "" || path == "-" {
		sum, err := pcap.ConvertHAR(ctx, inputs, o, w, wo...)
		if err == nil {
			err = CaptureReadError(sum)
		}
		return sum, err
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	sum, err := pcap.ConvertHAR(ctx, inputs, o, f, wo...)
	if err == nil {
		err = CaptureReadError(sum)
	}
	if err != nil {
		return sum, err
	}
	if err := CaptureReadError(sum); err != nil {
		return sum, err // no HAR of a capture nothing could be read from
	}
	return sum, f.Commit()
}

// CheckConvertDir refuses, before any work, a folder dir for the HARs of
// the captures names (see ConvertEach) when it is a file or lies in a
// missing folder, or when one of the HARs would replace one of inputs
// (atomicfile.CheckDir and CheckOutput).
func CheckConvertDir(dir string, names []string, inputs ...string) error {
	if err := atomicfile.CheckDir(dir, inputs...); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil // made by ConvertEach, so nothing in it is an input
	}
	for _, n := range names {
		if err := atomicfile.CheckOutput(filepath.Join(dir, HARName(n)), inputs...); err != nil {
			return err
		}
	}
	return nil
}

// ConvertEach converts each capture of inputs into its own HAR in dir
// (made if needed), named by HARName of the input's name in names (the
// paths as the user gave them), calling done with each conversion's
// summary. Two inputs with the same HAR name are an error before any
// work; the first failing conversion stops the others.
func ConvertEach(ctx context.Context, dir string, inputs, names []string, o pcap.Options, wo []har.WriterOption, done func(*pcap.Summary)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	outs := map[string]string{}
	for i := range inputs {
		name := HARName(names[i])
		if prev, dup := outs[name]; dup {
			return fmt.Errorf("inputs %s and %s would both be written to %s", prev, names[i], filepath.Join(dir, name))
		}
		outs[name] = names[i]
	}
	for i, in := range inputs {
		sum, err := ConvertFile(ctx, filepath.Join(dir, HARName(names[i])), nil, []string{in}, o, wo...)
		if sum != nil {
			done(sum)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
