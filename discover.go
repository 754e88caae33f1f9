package tracewire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tracewire/tracewire/internal/filekind"
)

// Job is one analysis found by Discover: its inputs, the device reports
// beside it, and an ID that names its outputs.
type Job struct {
	// ID is the main input's path relative to the folder given to
	// Discover, prefixed with that folder's name ("corpus/pcap2har/http.pcap"),
	// with "/" separators: unique among the jobs of one Discover call.
	ID    string
	Input Input
	// DeviceReports are TrackerControl exports and iOS App Privacy
	// Reports found beside the input.
	DeviceReports []string
	// Err is set when the folder cannot be analysed as found (an
	// experiment folder with several captures and none named); the job
	// is reported as failed.
	Err error
	// Size is the total size of the inputs, for scheduling the largest
	// first.
	Size int64
}

// Capture and HAR file name endings Discover looks for.
var (
	captureExts = []string{".pcap", ".pcapng", ".cap", ".ntar", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".pcap.zst", ".pcapng.zst"}
	harExts     = []string{".har"}
)

// Sidecar files that belong to every capture of their folder, and those
// that belong to one capture by its name stem (file name without the
// capture extensions).
var (
	folderKeyLogs     = []string{"sslkeylog.txt", "sslkeylog.log", "keylog.txt", "sslkeys.txt"}
	folderSocketTrace = []string{"socket_trace.json"}
	folderEBPF        = []string{"socket_events.jsonl", "ebpf_events.jsonl", "ebpf.jsonl"}
	folderAESInfo     = []string{"aes_info.json"}
	folderProvenance  = []string{"provenance.jsonl", "provenance.json", "provenance.log", "provenance.ndjson"}
	stemKeyLogs       = []string{".keys", ".keylog", ".keylog.txt", "_keylog.dat", ".sslkeylog", ".sslkeylog.txt", "-keylog.txt"}
	stemRSAKeys       = []string{".key", ".pem"}
	stemSocketTrace   = []string{".socket_trace.json"}
	stemEBPF          = []string{".socket_events.jsonl", ".ebpf.jsonl"}
	stemAESInfo       = []string{".aes_info.json"}
	stemProvenance    = []string{".provenance.jsonl", ".provenance.json", ".provenance.log"}
)

func hasExt(name string, exts []string) bool {
	n := strings.ToLower(name)
	for _, e := range exts {
		if strings.HasSuffix(n, e) && len(n) > len(e) {
			return true
		}
	}
	return false
}

// stem is a capture's file name without its capture or HAR extensions.
func stem(name string) string {
	n := name
	for _, e := range []string{".gz", ".zst", ".pcapng", ".pcap", ".cap", ".ntar", ".har"} {
		if strings.HasSuffix(strings.ToLower(n), e) {
			n = n[:len(n)-len(e)]
		}
	}
	return n
}

// Discover finds the analyses in folders (recursively) and files:
//
//   - a folder with an experiment.json (PiRogue's layout) is one analysis
//     with the files it names (capture, key log, socket trace, aes_info);
//   - every other capture (.pcap, .pcapng, gzipped too) or HAR file is one
//     analysis, with the files beside it that belong to it: for every
//     capture of the folder sslkeylog.txt, socket_trace.json,
//     socket_events.jsonl, aes_info.json and provenance.jsonl; for one
//     capture the files named after it (<name>.keys, <name>.keylog,
//     <name>_keylog.dat, <name>.key or .pem with an RSA key,
//     <name>.socket_trace.json, <name>.provenance.jsonl, ...);
//   - TrackerControl CSV exports and iOS App Privacy Reports in a folder go
//     with every analysis of that folder.
//
// A path that does not exist, or a file that is not a capture or HAR, is a
// job with Err set, so one bad path does not stop the others.
//
// Jobs come sorted by ID, the same whatever the file system's order.
func Discover(paths []string) ([]Job, error) {
	var jobs []Job
	ids := map[string]int{}
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			// One path that cannot be read is one failed analysis; the
			// others go on (a list of paths from a distributed engine
			// may name a file another worker moved).
			jobs = append(jobs, Job{ID: uniqueID(ids, filepath.Base(root)), Input: Input{Files: []string{root}}, Err: err})
			continue
		}
		prefix := filepath.Base(filepath.Clean(root))
		if !st.IsDir() {
			if err := filekind.CheckPipe(root); err != nil {
				// Hashing it, then analysing it, would read it twice.
				jobs = append(jobs, Job{ID: uniqueID(ids, filepath.Base(root)), Input: Input{Files: []string{root}}, Err: err})
				continue
			}
			js, err := discoverDir(filepath.Dir(root), "", []string{filepath.Base(root)})
			if err != nil {
				return nil, err
			}
			if len(js) == 0 {
				jobs = append(jobs, Job{ID: uniqueID(ids, filepath.Base(root)), Input: Input{Files: []string{root}},
					Err: fmt.Errorf("%s: not a capture, HAR file or experiment folder", root)})
				continue
			}
			for _, j := range js {
				j.ID = uniqueID(ids, filepath.Base(root))
				jobs = append(jobs, j)
			}
			continue
		}
		if prefix == "." || prefix == ".." || prefix == string(filepath.Separator) {
			// The folder's own name: ".." would put the outputs of
			// "batch .. -o out" outside out.
			if abs, err := filepath.Abs(root); err == nil {
				prefix = filepath.Base(abs)
			}
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel(root, p)
			js, err := discoverDir(p, rel, nil)
			if err != nil {
				return err
			}
			for _, j := range js {
				j.ID = uniqueID(ids, filepath.ToSlash(filepath.Join(prefix, j.ID)))
				jobs = append(jobs, j)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].ID < jobs[j].ID })
	for i := range jobs {
		jobs[i].Size = jobSize(&jobs[i])
	}
	return jobs, nil
}

func uniqueID(ids map[string]int, id string) string {
	ids[id]++
	if n := ids[id]; n > 1 {
		return fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

func jobSize(j *Job) int64 {
	var n int64
	for _, group := range [][]string{j.Input.Files, j.Input.KeyLogs, j.Input.SocketTraces, j.Input.EBPFEvents, j.Input.AESInfo, j.Input.Provenance} {
		for _, f := range group {
			if st, err := os.Stat(f); err == nil {
				n += st.Size()
			}
		}
	}
	if j.Input.Experiment != "" {
		if x, err := experimentFiles(j.Input.Experiment); err == nil {
			for _, f := range x {
				if st, err := os.Stat(f); err == nil {
					n += st.Size()
				}
			}
		}
	}
	return n
}

// InputFiles are the files an input reads: InputPaths with an experiment
// folder replaced by its experiment.json and the files it names (the
// folder itself when experiment.json cannot be read), so an output beside
// them in the folder is not taken for an input.
func InputFiles(in Input) []string {
	x := in.Experiment
	in.Experiment = ""
	out := InputPaths(in)
	if x != "" {
		files, err := experimentFiles(x)
		if err != nil {
			return append(out, x)
		}
		out = append(append(out, filepath.Join(x, "experiment.json")), files...)
	}
	return out
}

func experimentFiles(dir string) ([]string, error) {
	p, err := resolve(Input{Experiment: dir})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, x := range p.inputs() {
		out = append(out, x[1])
	}
	return out, nil
}

// discoverDir finds the jobs of one folder (not its subfolders); only
// names in only, when given. Job IDs are relative to rel.
func discoverDir(dir, rel string, only []string) ([]Job, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]bool{}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.Mode().IsRegular() {
				files[e.Name()] = true
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	path := func(n string) string { return filepath.Join(dir, n) }
	var devices []string
	for _, n := range names {
		if isDeviceReport(path(n)) {
			devices = append(devices, path(n))
		}
	}
	var jobs []Job
	consumed := map[string]bool{}
	if files["experiment.json"] && only == nil {
		j := Job{ID: filepath.ToSlash(rel), Input: Input{Experiment: dir}, DeviceReports: devices}
		if j.ID == "." {
			j.ID = ""
		}
		if xfiles, err := experimentFiles(dir); err != nil {
			j.Err = err
		} else {
			for _, f := range xfiles {
				if filepath.Dir(f) == filepath.Clean(dir) {
					consumed[filepath.Base(f)] = true
				}
			}
		}
		consumed["experiment.json"] = true
		jobs = append(jobs, j)
	}
	pick := func(cands []string) []string {
		var out []string
		for _, c := range cands {
			if files[c] && !consumed[c] {
				out = append(out, path(c))
			}
		}
		return out
	}
	folderKeys := pick(folderKeyLogs)
	folderTrace := pick(folderSocketTrace)
	folderEB := pick(folderEBPF)
	folderAES := pick(folderAESInfo)
	folderProv := pick(folderProvenance)
	want := names
	if only != nil {
		want = only
	}
	for _, n := range want {
		if consumed[n] {
			continue
		}
		isCap, isHAR := hasExt(n, captureExts), hasExt(n, harExts)
		if !isCap && !isHAR {
			if only != nil {
				// A file named on the command line is analysed whatever
				// its name; Analyze tells what it is.
				isCap = true
			} else {
				continue
			}
		}
		s := stem(n)
		in := Input{Files: []string{path(n)}}
		withStem := func(exts []string) []string {
			var out []string
			for _, e := range exts {
				if c := s + e; c != n && files[c] {
					out = append(out, path(c))
				}
			}
			return out
		}
		if isCap {
			in.KeyLogs = append(append(in.KeyLogs, folderKeys...), withStem(stemKeyLogs)...)
			for _, k := range withStem(stemRSAKeys) {
				if isPEMKey(k) {
					in.RSAKeys = append(in.RSAKeys, k)
				}
			}
		}
		in.SocketTraces = append(append(in.SocketTraces, folderTrace...), withStem(stemSocketTrace)...)
		in.EBPFEvents = append(append(in.EBPFEvents, folderEB...), withStem(stemEBPF)...)
		in.AESInfo = append(append(in.AESInfo, folderAES...), withStem(stemAESInfo)...)
		in.Provenance = append(append(in.Provenance, folderProv...), withStem(stemProvenance)...)
		id := filepath.ToSlash(filepath.Join(rel, n))
		jobs = append(jobs, Job{ID: id, Input: in, DeviceReports: devices})
	}
	return jobs, nil
}

// isPEMKey reports whether a file holds a PEM private key.
func isPEMKey(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	return bytes.Contains(b, []byte("-----BEGIN")) && bytes.Contains(b, []byte("PRIVATE KEY-----"))
}

// isDeviceReport tells TrackerControl CSV exports (header with daddr and
// Package columns) and iOS App Privacy Reports (ndjson records with a
// "type" of networkActivity or access) from other files, by content.
func isDeviceReport(p string) bool {
	n := strings.ToLower(p)
	if !strings.HasSuffix(n, ".csv") && !strings.HasSuffix(n, ".ndjson") && !strings.HasSuffix(n, ".jsonl") {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, 64<<10))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	l := strings.ToLower(line)
	if strings.HasSuffix(n, ".csv") {
		return strings.Contains(l, "daddr") && strings.Contains(l, "package")
	}
	return strings.Contains(l, `"type"`) && (strings.Contains(l, `"networkactivity"`) || strings.Contains(l, `"access"`))
}
