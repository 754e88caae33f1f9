package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FormatFor is the format of a report written to out ("" or "-" for
// standard output) with the format option flag: flag when given, else
// the extension of out, else HTML. An extension no format has (r.txt) is
// an error that lists those there are, and so is an extension of another
// format than flag: the file would not be what its name says. Errors name
// the options as the command line has them (--format, -o).
func FormatFor(flag, out string) (Format, error) {
	ext := ""
	if out != "" && out != "-" {
		ext = filepath.Ext(out)
	}
	byExt := FormatOf(ext)
	if flag != "" {
		format, err := ParseFormat(flag)
		if err != nil {
			return "", fmt.Errorf("--format: %w", err)
		}
		if byExt != "" && byExt != format {
			return "", fmt.Errorf("-o %s: the extension %s is that of %s, but --format is %s; name the file %s", out, ext, byExt, format, strings.TrimSuffix(out, ext)+format.Ext())
		}
		return format, nil
	}
	switch {
	case byExt != "":
		return byExt, nil
	case ext == "":
		return HTML, nil
	}
	return "", fmt.Errorf("-o %s: report cannot write %s files; the format follows -o's extension, one of %s (or give --format)", out, ext, strings.Join(Extensions(), " "))
}

// ReadDeviceReportFile reads the device report at path (see
// ReadDeviceReport), named by its base name.
func ReadDeviceReportFile(path string) (*DeviceReport, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	// Errors name the path as given (they said it twice, "dir/r.csv:
	// r.csv: ..."); the report names the file by its base name.
	d, err := ReadDeviceReport(fh, path)
	if err != nil {
		return nil, err
	}
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		d.Name = path[i+1:]
	}
	return d, nil
}

// ReadDetailsFile reads the details.yaml at path for doc (see
// ReadDetails). An empty path is an error that says what the file is for.
func ReadDetailsFile(path string, doc Document) (*Details, error) {
	if path == "" {
		return nil, fmt.Errorf("--document %s needs --details details.yaml (the parties and dates; see testdata/details.yaml)", doc)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--details: %w", err)
	}
	defer fh.Close()
	return ReadDetails(fh, path, doc)
}
