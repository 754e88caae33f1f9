package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/pcap"
)

func init() { subcommands = append(subcommands, newConvertCmd) }

func newConvertCmd(e *env) *cobra.Command {
	var (
		cf     captureFlags
		out    string
		outDir string
		indent bool
	)
	cmd := &cobra.Command{
		Use:   "convert IN...",
		Short: "Convert pcap/pcapng captures to HAR",
		Long: `Convert reads packet captures (pcap or pcapng, gzipped too; "-" reads standard
input) and writes the HTTP exchanges found in them as HAR 1.2: one HAR for all
inputs (to standard output unless -o is given), or one per input with --out-dir.
TLS is decrypted with --keylog files and the secrets embedded in pcapng files.
Entries are sorted by request time; the output is the same on every run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "" && outDir != "" {
				return fmt.Errorf("-o and --out-dir exclude each other")
			}
			ins := append(append(append([]string(nil), args...), cf.keylogs...), cf.rsaKeys...)
			if err := checkOutput(out, ins...); err != nil {
				return err
			}
			if outDir != "" {
				if err := atomicfile.CheckDir(outDir, ins...); err != nil {
					return &exitError{code: exitFailed, err: err}
				}
				for _, a := range args {
					if _, err := os.Stat(outDir); err != nil {
						break // made below, so nothing in it is an input
					}
					if err := checkOutput(filepath.Join(outDir, harName(a)), ins...); err != nil {
						return err
					}
				}
			}
			inputs, cleanup, err := stdinInputs(e, args)
			if err != nil {
				return err
			}
			defer cleanup()
			if err := checkInputs("convert", readsCaptures, inputs...); err != nil {
				return err
			}
			opts := cf.options(e)
			var wopts []har.WriterOption
			if indent {
				wopts = append(wopts, har.Indented())
			}
			ctx := cmd.Context()
			if outDir != "" {
				return convertEach(ctx, e, inputs, args, outDir, opts, wopts)
			}
			sum, err := convertTo(ctx, out, e.stdout, inputs, opts, wopts)
			if err != nil {
				return err
			}
			report(e, sum, true)
			return truncated(sum)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the HAR to this file (default: standard output)")
	cmd.Flags().StringVar(&outDir, "out-dir", "", "write one HAR per input into this directory, named after the input")
	cmd.Flags().BoolVar(&indent, "indent", false, "indent the JSON")
	cf.register(cmd)
	return cmd
}

// convertTo writes one HAR of inputs to path, atomically, or to stdout when
// path is empty.
func convertTo(ctx context.Context, path string, stdout io.Writer, inputs []string, opts pcap.Options, wopts []har.WriterOption) (*pcap.Summary, error) {
	if path == "" || path == "-" {
		return pcap.ConvertHAR(ctx, inputs, opts, stdout, wopts...)
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	sum, err := pcap.ConvertHAR(ctx, inputs, opts, f, wopts...)
	if err != nil {
		return sum, err
	}
	return sum, f.Commit()
}

func convertEach(ctx context.Context, e *env, inputs, names []string, dir string, opts pcap.Options, wopts []har.WriterOption) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	outs := map[string]string{}
	for i := range inputs {
		name := harName(names[i])
		if prev, dup := outs[name]; dup {
			return fmt.Errorf("inputs %s and %s would both be written to %s", prev, names[i], filepath.Join(dir, name))
		}
		outs[name] = names[i]
	}
	var incomplete error
	for i, in := range inputs {
		path := filepath.Join(dir, harName(names[i]))
		sum, err := convertTo(ctx, path, nil, []string{in}, opts, wopts)
		if err != nil {
			return err
		}
		report(e, sum, true)
		if err := truncated(sum); err != nil {
			incomplete = err
		}
	}
	return incomplete
}

// harName is the output name for an input: its base name with the capture
// extensions replaced by .har.
func harName(input string) string {
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

// stdinSpoolPrefix names the folders stdinInputs spools standard input to.
const stdinSpoolPrefix = "tracewire-stdin-"

// displayPath returns "-" for the file stdinInputs spooled standard input
// to, and p otherwise: the temporary name changes from run to run and must
// not reach the output.
func displayPath(p string) string {
	if filepath.Base(p) == "stdin" && strings.HasPrefix(filepath.Base(filepath.Dir(p)), stdinSpoolPrefix) {
		return "-"
	}
	return p
}

// stdinInputs spools "-" (standard input) to a temporary file: reading a
// capture takes two passes (the TLS secrets first).
func stdinInputs(e *env, args []string) ([]string, func(), error) {
	inputs := append([]string(nil), args...)
	var tmp string
	cleanup := func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	for i, a := range args {
		if a != "-" {
			continue
		}
		if tmp != "" {
			cleanup()
			return nil, nil, fmt.Errorf("standard input given twice")
		}
		dir, err := os.MkdirTemp("", stdinSpoolPrefix)
		if err != nil {
			return nil, nil, err
		}
		tmp = dir
		p := filepath.Join(dir, "stdin")
		f, err := os.Create(p)
		if err == nil {
			_, err = io.Copy(f, e.stdin)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("read standard input: %w", err)
		}
		inputs[i] = p
	}
	return inputs, cleanup, nil
}

// report tells on stderr what the user should know about a conversion.
// seeFlows is false in flows itself, whose table already says it.
func report(e *env, sum *pcap.Summary, seeFlows bool) {
	if sum == nil {
		return
	}
	for _, w := range sum.Warnings {
		fmt.Fprintln(e.stderr, "tracewire: warning:", w)
	}
	if n := len(sum.TLSErrors); n > 0 {
		hint := " (see _tlsErrors in the HAR, or tracewire flows)"
		if !seeFlows {
			hint = " (the table's decrypted column says why)"
		}
		fmt.Fprintf(e.stderr, "tracewire: warning: %d TLS connection(s) could not be decrypted%s\n", n, hint)
	}
	for _, n := range sum.Notes {
		if n.Kind == "internal" {
			fmt.Fprintln(e.stderr, "error: please report this bug:", n)
		}
	}
}
