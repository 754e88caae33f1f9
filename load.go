package tracewire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/report"
)

// ReadFindingsFile reads path when it is a findings file (written by
// "tracewire detect --format json" or a batch's findings.json). ok is
// false, without error, for a folder or any other file (a capture, a HAR),
// which the caller analyses instead; an error is a path that cannot be
// read, or a findings file that is broken.
func ReadFindingsFile(path string) (a *Analysis, ok bool, err error) {
	if ok, err = isFindingsFile(path); !ok || err != nil {
		return nil, false, err
	}
	a, err = readFindings(path)
	return a, true, err
}

// isFindingsFile tells a findings file by its start.
func isFindingsFile(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return false, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return report.IsFindingsJSON(head[:n]), nil
}

func readFindings(path string) (*Analysis, error) {
	if err := filekind.CheckPipe(path); err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	// A file that is no JSON at all (an empty file, the capture given
	// with --findings) is said as such, not as the decoder's "EOF".
	br := bufio.NewReaderSize(fh, 1<<20)
	head, _ := br.Peek(filekind.HeadSize)
	if info := filekind.Sniff(head); info.Kind != filekind.JSON || info.Compression != "" {
		return nil, fmt.Errorf("%s is %s, not a findings file (the JSON of \"tracewire detect --format json\" or a batch's findings.json)", path, info)
	}
	return report.ReadAnalysis(br, path)
}

// AnalyzeWithFindings is Analyze, or with findingsFile Evidence: the
// findings of that file are checked against
// in (a *MismatchError says what differs) and completed with the
// requests that carried them; the file's warnings are kept.
func AnalyzeWithFindings(ctx context.Context, in Input, o Options, findingsFile string) (*Analysis, error) {
	if findingsFile == "" {
		return Analyze(ctx, in, o)
	}
	fa, err := readFindings(findingsFile)
	if err != nil {
		return nil, err
	}
	a, err := Evidence(ctx, in, o, fa)
	if err != nil {
		return nil, err
	}
	a.Warnings = append(a.Warnings, fa.Warnings...)
	return a, nil
}

// ComparedInputs are the inputs of an analysis compared with (c, made
// from path) as a report lists them under its own inputs, with the role
// report.RoleCompared: the file given, or for a folder the captures or HAR
// files its analysis read.
func ComparedInputs(path string, c *Analysis) ([]report.InputFile, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		var out []report.InputFile
		for _, in := range c.Inputs {
			if in.Role == report.RoleCapture || in.Role == report.RoleHAR {
				in.Role = report.RoleCompared
				out = append(out, in)
			}
		}
		return out, nil
	}
	in, err := HashFile(report.RoleCompared, path)
	if err != nil {
		return nil, err
	}
	return []report.InputFile{in}, nil
}

// Load reads files when it is one findings file (ReadFindingsFile), else
// analyses them with s, with the findings of findingsFile instead of
// detecting again (AnalyzeWithFindings). Without findingsFile, a findings
// file among several files is taken as it: the others are its input.
func (s *Settings) Load(ctx context.Context, files []string, findingsFile string, o Options) (*Analysis, error) {
	if len(files) == 1 && findingsFile == "" {
		if a, ok, err := ReadFindingsFile(files[0]); ok || err != nil {
			return a, err
		}
	}
	if findingsFile == "" && len(files) > 1 {
		var inputs []string
		for _, f := range files {
			ok, err := isFindingsFile(f)
			switch {
			case err != nil:
				return nil, err
			case ok && findingsFile != "":
				return nil, fmt.Errorf("%s and %s are both findings files: give one, with the capture or HAR it was made from", findingsFile, f)
			case ok:
				findingsFile = f
			default:
				inputs = append(inputs, f)
			}
		}
		files = inputs
	}
	in, err := s.Input(files)
	if err != nil {
		return nil, err
	}
	a, err := AnalyzeWithFindings(ctx, in, o, findingsFile)
	var me *MismatchError
	if errors.As(err, &me) {
		me.FindingsFile, me.Inputs = findingsFile, files
	}
	return a, err
}

// LoadCompared reads or analyses the analysis a report is compared with
// (report's --compare): path with s's key files, indicators and adapters
// but none of its trace files, which belong to the analysis compared, and
// without progress. It returns that analysis and its inputs as the report
// lists them (ComparedInputs).
func (s *Settings) LoadCompared(ctx context.Context, path string, o Options) (*Analysis, []report.InputFile, error) {
	c := *s
	c.SocketTrace, c.EBPF, c.AESInfo, c.Provenance, c.Experiment = "", "", "", "", ""
	c.TimeShift, c.ProvenanceTimeShift = "", ""
	c.RequestWindow, c.ResponseWindow, c.ProvenanceWindow = "", "", ""
	o.Capture.Progress = nil
	a, err := c.Load(ctx, []string{path}, "", o)
	if err != nil {
		return nil, nil, err
	}
	inputs, err := ComparedInputs(path, a)
	return a, inputs, err
}
