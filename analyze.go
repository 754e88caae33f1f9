package tracewire

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/internal/version"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/pcap"
	"github.com/tracewire/tracewire/report"
)

// Input is everything one analysis reads. Files is required; the rest is
// optional.
type Input struct {
	// Files are the captures of one analysis (pcap or pcapng, gzipped or
	// zstd-compressed too), read as one stream, or exactly one HAR file.
	// Empty when Experiment names the capture.
	Files []string
	// KeyLogs are TLS key logs (SSLKEYLOGFILE format); RSAKeys are PEM RSA
	// server keys. Both only matter for captures.
	KeyLogs, RSAKeys []string
	// SocketTraces are PiRogue socket_trace.json files, EBPFEvents files of
	// tracewire's eBPF socket event format: their stack traces are attached
	// to the requests and responses of the matching flows.
	SocketTraces, EBPFEvents []string
	// AESInfo are PiRogue aes_info.json files: bodies the app encrypted
	// itself are replaced by their plaintext before detection.
	AESInfo []string
	// TLSPlaintext are tls_plaintext.jsonl files of tracewire collect
	// --tls-uprobes: each request body decrypted from the capture is
	// checked against the plaintext libssl was given.
	TLSPlaintext []string
	// Provenance are provenance logs of a backend: requests that carried a
	// logged sample get _owners, and every owner ID is searched for as an
	// indicator, in every request (as with Options.IndicatorsEverywhere).
	Provenance []string
	// Experiment is a PiRogue experiment folder (or its experiment.json);
	// the capture, key log, socket trace and aes_info it names are added
	// to the fields above, and its time shift is used unless TimeShift is
	// set.
	Experiment string
	// TimeShift is added to entry timestamps before pairing them with the
	// device's socket records.
	TimeShift *time.Duration
	// Indicators are known values of the test device or user;
	// IndicatorFiles are JSON files of more (see match.ReadIndicators).
	Indicators     []match.Indicator
	IndicatorFiles []string
	// Name is what reports call the analysis; by default the app's name
	// when the HAR says it, else the first file's name.
	Name string
	// Subject, when set, replaces what the inputs say about the app,
	// device or backend.
	Subject *report.Subject
}

// Options tune how an analysis runs. The zero value is fine.
type Options struct {
	// DB is the adapter database; nil means the embedded one.
	DB *adapters.DB
	// IndicatorsEverywhere searches indicators in every request, also in
	// those an adapter handled.
	IndicatorsEverywhere bool
	// Workers is the number of goroutines matching requests (default
	// GOMAXPROCS). Batch runs use 1 and run analyses in parallel instead.
	Workers int
	// Correlation tunes the pairing of socket records with requests; nil
	// means enrich.DefaultCorrelation (with the input's time shift).
	Correlation *enrich.CorrelationOptions
	// ProvenanceWindow is how far a provenance event may be from a
	// request; nil means enrich.DefaultProvenanceWindow.
	ProvenanceWindow *enrich.Window
	// ProvenanceTimeShift, when set, is added to the provenance logs'
	// times; nil estimates it from the requests (see enrich.TimeShift).
	ProvenanceTimeShift *time.Duration
	// HAR, when set, receives the enriched HAR as it streams (for a
	// capture: the converted HAR). HARWriterOptions are passed to its
	// har.Writer.
	HAR              io.Writer
	HARWriterOptions []har.WriterOption
	// EnrichProgress, when set, is called as the enrichment stage reads
	// the entries (pass 1) and enriches them (pass 2), with the number
	// done.
	EnrichProgress func(pass, n int)
	// MaxEvidence bounds the requests kept in memory as evidence (default
	// DefaultMaxEvidence); findings of later requests are kept, their
	// requests are not, and a warning says so.
	MaxEvidence int
	// Hashed, when set, are the inputs as HashInputs returned them for the
	// same Input, so they are not read twice (batch runs hash first to
	// know whether to run at all). Roles and paths must match.
	Hashed []report.InputFile
	// Capture holds the conversion options (limits, Community ID seed,
	// progress, temporary directory); the key files of Input are added to
	// its KeyLogFiles and RSAKeyFiles.
	Capture pcap.Options
}

// DefaultMaxEvidence is the default of Options.MaxEvidence: enough for
// any app's capture, and a bound for captures of a whole network.
const DefaultMaxEvidence = 50_000

// Input kinds, told apart by content.
const (
	kindCapture = "capture"
	kindHAR     = "har"
	kindJSON    = "findings"
	kindEmpty   = "empty"
)

// sniff tells a capture from a HAR (or other JSON) by the first bytes;
// a file that is neither is an error that says what it looks like.
func sniff(path string) (string, error) {
	if err := filekind.CheckPipe(path); err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, filekind.HeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	head = head[:n]
	info := filekind.Sniff(head)
	switch {
	case info.Capture():
		return kindCapture, nil
	case info.Kind == filekind.Empty && info.Compression == "":
		return kindEmpty, nil
	case info.Compression != "" || info.Kind != filekind.HAR && info.Kind != filekind.JSON:
		return "", fmt.Errorf("%s is %s, not a capture (pcap, pcapng) or HAR file", path, info)
	case report.IsFindingsJSON(head):
		return kindJSON, nil
	}
	return kindHAR, nil
}

// IsCapture tells pcap, pcapng and compressed captures (gzip, zstd) from
// JSON by their first bytes (internal/filekind decides; a compressed
// start too short to look inside counts as a capture).
func IsCapture(head []byte) bool {
	info := filekind.Sniff(head)
	return info.Capture() || info.Compression != "" && info.Kind == filekind.Unknown
}

// plan is an Input resolved: the experiment's files added, kinds known.
type plan struct {
	in        Input
	har       bool
	expFile   string
	timeShift time.Duration
	// enrichOnly is Enrich's plan: no detection, and the HAR written has
	// every enrichment (see Enrich).
	enrichOnly bool
	// sources describe the trace files read, for the HAR log's
	// _enrichment (Enrich).
	sources []any
}

func resolve(in Input) (*plan, error) {
	p, err := resolveFiles(in)
	if err != nil {
		return nil, err
	}
	return p, p.classify()
}

// resolveFiles adds the files of the input's experiment folder.
func resolveFiles(in Input) (*plan, error) {
	p := &plan{in: in}
	if in.Experiment != "" {
		var x *enrich.Experiment
		var err error
		st, serr := os.Stat(in.Experiment)
		switch {
		case serr != nil:
			return nil, serr
		case st.IsDir():
			x, err = enrich.FindExperiment(in.Experiment)
			if j := filepath.Join(in.Experiment, "experiment.json"); fileExists(j) {
				p.expFile = j
			}
		default:
			x, err = enrich.ReadExperiment(in.Experiment)
			p.expFile = in.Experiment
			if err == nil {
				// As in a folder (FindExperiment): the trace files an
				// experiment names but did not record are left out.
				for _, f := range []*string{&x.SSLKeyLog, &x.SocketTrace, &x.AESInfo, &x.EBPFEvents} {
					if !fileExists(*f) {
						*f = ""
					}
				}
			}
		}
		if err != nil {
			return nil, err
		}
		if len(p.in.Files) == 0 && x.Capture != "" {
			p.in.Files = []string{x.Capture}
		}
		addFile := func(list *[]string, f string) {
			if f != "" && !contains(*list, f) {
				*list = append(*list, f)
			}
		}
		addFile(&p.in.KeyLogs, x.SSLKeyLog)
		addFile(&p.in.SocketTraces, x.SocketTrace)
		addFile(&p.in.AESInfo, x.AESInfo)
		addFile(&p.in.EBPFEvents, x.EBPFEvents)
		addFile(&p.in.TLSPlaintext, x.TLSPlaintext)
		if x.HasTimeShift {
			p.timeShift = x.TimeShift
		}
	}
	if in.TimeShift != nil {
		p.timeShift = *in.TimeShift
	}
	if len(p.in.Files) == 0 {
		return nil, errors.New("tracewire: no capture or HAR file to analyse")
	}
	// Until classify has read them, a .har name says HAR.
	p.har = len(p.in.Files) == 1 && strings.HasSuffix(strings.ToLower(p.in.Files[0]), ".har")
	for _, f := range p.inputs() {
		// Every input is hashed for the findings, then read: a pipe
		// (--keylog <(...)) would be empty the second time.
		if err := filekind.CheckPipe(f[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", f[0], err)
		}
	}
	return p, nil
}

// classify tells captures from HAR files by content and checks that they
// can form one analysis.
func (p *plan) classify() error {
	var caps, hars int
	for _, f := range p.in.Files {
		k, err := sniff(f)
		if err != nil {
			return err
		}
		switch k {
		case kindCapture:
			caps++
		case kindHAR:
			hars++
		case kindEmpty:
			return fmt.Errorf("%s: empty file", f)
		case kindJSON:
			return fmt.Errorf("%s is a findings file, not a capture or HAR (tracewire report reads it, with the capture or HAR it was made from)", f)
		}
	}
	switch {
	case hars > 1 || hars == 1 && caps > 0:
		return fmt.Errorf("tracewire: one analysis reads captures or one HAR file, not %d HAR file(s) and %d capture(s)", hars, caps)
	}
	p.har = hars == 1
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inputs lists the files of a plan with their roles, in a fixed order.
func (p *plan) inputs() [][2]string {
	var out [][2]string
	role := report.RoleCapture
	if p.har {
		role = report.RoleHAR
	}
	add := func(r string, fs []string) {
		for _, f := range fs {
			out = append(out, [2]string{r, f})
		}
	}
	add(role, p.in.Files)
	if p.expFile != "" {
		add(report.RoleExperiment, []string{p.expFile})
	}
	add(report.RoleKeyLog, p.in.KeyLogs)
	add(report.RoleRSAKey, p.in.RSAKeys)
	add(report.RoleSocketTrace, p.in.SocketTraces)
	add(report.RoleEBPF, p.in.EBPFEvents)
	add(report.RoleAESInfo, p.in.AESInfo)
	add(report.RoleTLSPlaintext, p.in.TLSPlaintext)
	add(report.RoleProvenance, p.in.Provenance)
	add(report.RoleIndicators, p.in.IndicatorFiles)
	return out
}

// HashFile describes a file with its SHA-256.
func HashFile(role, path string) (report.InputFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return report.InputFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return report.InputFile{}, fmt.Errorf("%s: %w", path, err)
	}
	return report.InputFile{Role: role, Path: path, Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// HashInputs hashes the files of an input (after resolving its experiment
// folder), as Analyze records them. Batch runs compare them with an
// earlier run's to skip work already done.
func HashInputs(in Input) ([]report.InputFile, error) {
	p, err := resolveFiles(in)
	if err != nil {
		return nil, err
	}
	// Content problems are the analysis's to report; the hashes must not
	// depend on them, so that a failed analysis is known again.
	if p.classify() != nil {
		p.har = strings.HasSuffix(strings.ToLower(p.in.Files[0]), ".har")
	}
	return p.hash()
}

// hashed returns the given digests when they are of this plan's inputs,
// else hashes the inputs.
func (p *plan) hashed(given []report.InputFile) ([]report.InputFile, error) {
	ins := p.inputs()
	if len(given) != len(ins) {
		return p.hash()
	}
	for i, x := range ins {
		if given[i].Role != x[0] || given[i].Path != x[1] {
			return p.hash()
		}
	}
	return append([]report.InputFile(nil), given...), nil
}

func (p *plan) hash() ([]report.InputFile, error) {
	var out []report.InputFile
	for _, x := range p.inputs() {
		f, err := HashFile(x[0], x[1])
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// AnalysisID derives an analysis ID from the digests of its inputs.
func AnalysisID(inputs []report.InputFile) string {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "%s\t%s\n", in.Role, in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

var dbInfos sync.Map // *adapters.DB → *report.AdapterDB

// AdapterDBInfo describes an adapter database: its version and a SHA-256
// of its content in canonical form (every tracker and adapter as YAML, in
// slug order), so an analysis names exactly which rules it used.
func AdapterDBInfo(db *adapters.DB, embedded bool) (*report.AdapterDB, error) {
	if v, ok := dbInfos.Load(db); ok {
		info := *v.(*report.AdapterDB)
		if !embedded {
			info.Version = "custom"
		}
		return &info, nil
	}
	h := sha256.New()
	for _, t := range db.Trackers {
		b, err := marshalTracker(t)
		if err != nil {
			return nil, fmt.Errorf("adapter database hash: %s: %w", t.Slug, err)
		}
		h.Write(b)
	}
	info := &report.AdapterDB{
		// The database's own content is named by SHA256; the tool's
		// exact build is in the analysis's Tool.
		Version:  "embedded " + version.Base,
		SHA256:   hex.EncodeToString(h.Sum(nil)),
		Trackers: len(db.Trackers),
		Adapters: len(db.Adapters),
	}
	dbInfos.Store(db, info)
	c := *info
	if !embedded {
		c.Version = "custom"
	}
	return &c, nil
}

// Analyze runs convert → enrich → detect over one input and returns what
// it found. Problems that could be worked around (a truncated capture, a
// malformed entry, trace records that could not be read) are in the
// analysis's warnings; errors are for what stops the analysis.
func Analyze(ctx context.Context, in Input, o Options) (*Analysis, error) {
	return analyze(ctx, in, o, nil)
}

// Evidence is Analyze for findings made elsewhere (an earlier run, or
// "tracewire detect --format json"): it reads the input for the metadata
// and the requests the findings point to, and returns an analysis with
// made's findings instead of its own.
//
// The findings must belong to the input: made's input digests and
// analysis ID (when it names them; a warning says so when it does not)
// are checked before the input is analysed, then its entry count and the
// method and URL of every entry a finding refers to. When anything
// differs, Evidence returns a *MismatchError that says what.
func Evidence(ctx context.Context, in Input, o Options, made *Analysis) (*Analysis, error) {
	ev := &evidence{made: made, refs: map[int]match.EntryRef{}}
	for _, f := range made.Findings {
		if r, ok := ev.refs[f.Entry.Index]; ok && (r.Method != f.Entry.Method || r.URL != f.Entry.URL) {
			ev.differ(fmt.Sprintf("the findings file's findings name two requests as entry %d: %s %s and %s %s",
				f.Entry.Index, r.Method, r.URL, f.Entry.Method, f.Entry.URL))
			continue
		}
		ev.refs[f.Entry.Index] = f.Entry
	}
	a, err := analyze(ctx, in, o, ev)
	if err != nil {
		return nil, err
	}
	a.Findings = append([]match.Finding(nil), made.Findings...)
	sort.SliceStable(a.Findings, func(i, j int) bool { return a.Findings[i].Entry.Index < a.Findings[j].Entry.Index })
	if made.Undecoded != nil {
		// The list that goes with the findings (detect's JSON has it).
		a.Undecoded = append([]report.UndecodedRequest{}, made.Undecoded...)
	} else {
		// A findings file that does not say: this run's list, without the
		// requests that have findings (made by other adapters, perhaps).
		kept := a.Undecoded[:0]
		for _, u := range a.Undecoded {
			if _, ok := ev.refs[u.Entry.Index]; !ok {
				kept = append(kept, u)
			}
		}
		a.Undecoded = kept
	}
	return a, nil
}

// MismatchError says how findings made elsewhere do not belong to the
// input Evidence was given.
type MismatchError struct {
	// Differences are what differs, one sentence each.
	Differences []string
	// FindingsFile and Inputs name the findings file and the files it
	// was checked against, when Settings.Load knows them.
	FindingsFile string
	Inputs       []string
}

func (e *MismatchError) Error() string {
	return "the findings were not made from this input: " + strings.Join(e.Differences, "; ")
}

// evidence is what Evidence checks an analysis against.
type evidence struct {
	made *Analysis
	// refs are the requests the findings refer to, by entry index.
	refs map[int]match.EntryRef
	// seen counts the referred entries the input has.
	seen  int
	diffs []string
	more  int
}

// maxDifferences bounds the differences a MismatchError lists.
const maxDifferences = 10

func (ev *evidence) differ(s string) {
	if len(ev.diffs) < maxDifferences {
		ev.diffs = append(ev.diffs, s)
	} else {
		ev.more++
	}
}

func (ev *evidence) err() error {
	if len(ev.diffs) == 0 {
		return nil
	}
	d := ev.diffs
	if ev.more > 0 {
		d = append(d[:len(d):len(d)], fmt.Sprintf("%d more differences", ev.more))
	}
	return &MismatchError{Differences: d}
}

func describeInput(f report.InputFile) string {
	return fmt.Sprintf("%s %s (SHA-256 %s)", f.Role, f.Name, f.SHA256)
}

// checkInputs compares the findings file's inputs with those of the
// analysis, before it runs.
func (ev *evidence) checkInputs(a *Analysis) {
	made := ev.made
	if len(made.Inputs) == 0 && made.ID == "" {
		a.Warnings = append(a.Warnings, "the findings file names no input digest (made by an older version?): only its entry count and the requests its findings refer to were checked against the input")
		return
	}
	main := func(ins []report.InputFile) []report.InputFile {
		var out []report.InputFile
		for _, f := range ins {
			if f.Role == report.RoleCapture || f.Role == report.RoleHAR {
				out = append(out, f)
			}
		}
		return out
	}
	mine, theirs := main(a.Inputs), main(made.Inputs)
	same := len(mine) == len(theirs)
	for i := 0; same && i < len(mine); i++ {
		same = mine[i].SHA256 == theirs[i].SHA256
	}
	if !same && len(theirs) > 0 {
		var x, y []string
		for _, f := range theirs {
			x = append(x, describeInput(f))
		}
		for _, f := range mine {
			y = append(y, describeInput(f))
		}
		ev.differ(fmt.Sprintf("the findings were made from %s, the input is %s", strings.Join(x, ", "), strings.Join(y, ", ")))
		return
	}
	if made.ID == "" || made.ID == a.ID {
		return
	}
	// Same capture or HAR, other inputs besides (key logs, traces,
	// indicators): name them.
	key := func(f report.InputFile) string { return f.Role + "\t" + f.SHA256 }
	have := map[string]bool{}
	for _, f := range a.Inputs {
		have[key(f)] = true
	}
	had := map[string]bool{}
	var only []string
	for _, f := range made.Inputs {
		had[key(f)] = true
		if !have[key(f)] {
			only = append(only, describeInput(f))
		}
	}
	var extra []string
	for _, f := range a.Inputs {
		if !had[key(f)] {
			extra = append(extra, describeInput(f))
		}
	}
	msg := fmt.Sprintf("the findings file's analysis ID is %s, this analysis's is %s", made.ID, a.ID)
	if len(only) > 0 {
		msg += "; only the findings file's analysis read " + strings.Join(only, ", ")
	}
	if len(extra) > 0 {
		msg += "; only this analysis reads " + strings.Join(extra, ", ")
	}
	ev.differ(msg)
}

// checkEntry compares an entry of the input with the request the
// findings name at its index.
func (ev *evidence) checkEntry(got match.EntryRef) {
	want, ok := ev.refs[got.Index]
	if !ok {
		return
	}
	ev.seen++
	if want.Method != got.Method || want.URL != got.URL {
		ev.differ(fmt.Sprintf("entry %d is %s %s in the findings file but %s %s in the input",
			got.Index, want.Method, want.URL, got.Method, got.URL))
	}
}

// checkEnd compares what only the whole input tells: the entry count, and
// findings that refer to entries the input does not have.
func (ev *evidence) checkEnd(a *Analysis) {
	if n := ev.made.EntriesRead; n != a.EntriesRead {
		ev.differ(fmt.Sprintf("the findings file counts %d entries, the input has %d", n, a.EntriesRead))
	}
	if ev.seen == len(ev.refs) {
		return
	}
	var missing []int
	for i := range ev.refs {
		if i < 0 || i >= a.EntriesRead {
			missing = append(missing, i)
		}
	}
	sort.Ints(missing)
	for _, i := range missing {
		r := ev.refs[i]
		ev.differ(fmt.Sprintf("a finding refers to entry %d (%s %s), which the input does not have", i, r.Method, r.URL))
	}
}

func analyze(ctx context.Context, in Input, o Options, ev *evidence) (*Analysis, error) {
	p, err := resolve(in)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Tool: report.ThisTool(), Undecoded: []report.UndecodedRequest{}}
	if a.Inputs, err = p.hashed(o.Hashed); err != nil {
		return nil, err
	}
	a.ID = AnalysisID(a.Inputs)
	if ev != nil {
		// Findings of another input are refused before the work.
		if ev.checkInputs(a); ev.err() != nil {
			return nil, ev.err()
		}
	}
	r, err := newRun(p, o, a, a.Inputs)
	if err != nil {
		return nil, err
	}
	if a.AdapterDB, err = AdapterDBInfo(r.m.DB(), o.DB == nil); err != nil {
		return nil, err
	}
	r.ev = ev
	if err := r.run(ctx); err != nil {
		return nil, err
	}
	if ev != nil {
		if ev.checkEnd(a); ev.err() != nil {
			return nil, ev.err()
		}
	}
	if err := CaptureReadError(r.pcapSum); err != nil {
		return nil, err
	}
	r.finish()
	if in.Name != "" {
		a.Name = in.Name
	}
	if in.Subject != nil {
		a.Subject = in.Subject
	}
	return a, nil
}

// newRun builds the matcher and enrichers of a plan; hashed are the
// digests of its inputs known so far, which the trace readers take
// instead of hashing the files again.
func newRun(p *plan, o Options, a *Analysis, hashed []report.InputFile) (*run, error) {
	db := o.DB
	if db == nil {
		var err error
		if db, err = adapters.Default(); err != nil {
			return nil, err
		}
	}
	inds := append([]match.Indicator(nil), p.in.Indicators...)
	for _, f := range p.in.IndicatorFiles {
		more, err := readIndicatorFile(f)
		if err != nil {
			return nil, err
		}
		inds = append(inds, more...)
	}
	ens, ownerInds, err := p.enrichers(o, hashed)
	if err != nil {
		return nil, err
	}
	counts := map[[2]string]int{}
	for _, ind := range inds {
		counts[[2]string{ind.Property, ""}]++
	}
	for _, oi := range ownerInds {
		inds = append(inds, oi)
		counts[[2]string{oi.Property, "owner"}]++
	}
	for k, n := range counts {
		a.Indicators = append(a.Indicators, report.IndicatorCount{Property: k[0], Source: k[1], Count: n})
	}
	sort.Slice(a.Indicators, func(i, j int) bool {
		x, y := a.Indicators[i], a.Indicators[j]
		if x.Property != y.Property {
			return x.Property < y.Property
		}
		return x.Source < y.Source
	})
	// Owner IDs exist to say whose data a request carried, also (mostly) in
	// requests an adapter decoded: with them, indicators are searched in
	// every request.
	everywhere := o.IndicatorsEverywhere || len(ownerInds) > 0
	m, err := match.New(match.Options{DB: db, Indicators: inds, IndicatorsEverywhere: everywhere})
	if err != nil {
		return nil, err
	}
	return &run{p: p, o: o, a: a, m: m, ens: ens, hosts: map[string]int{}}, nil
}

func readIndicatorFile(path string) ([]match.Indicator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	inds, err := match.ReadIndicators(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inds, nil
}

// enrichers builds one enricher per trace file, in the order the stages
// need: decryption first (detection must see plaintext), then stack
// traces, process comments and provenance.
// The trace files are hashed already (hashed): their readers take those
// digests instead of hashing them again.
func (p *plan) enrichers(o Options, hashed []report.InputFile) ([]enrich.Enricher, []match.Indicator, error) {
	var out []enrich.Enricher
	var inds []match.Indicator
	digests := map[string]string{}
	for _, in := range hashed {
		digests[in.Path] = in.SHA256
	}
	open := func(path string, read func(io.Reader, string) error) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return read(&enrich.Digested{Reader: bufio.NewReaderSize(f, 1<<20), SHA256: digests[path]}, filepath.Base(path))
	}
	// The TLS plaintext check sees the bodies as the capture gave them,
	// before aes_info replaces any.
	for _, f := range p.in.TLSPlaintext {
		if err := open(f, func(r io.Reader, name string) error {
			x, err := enrich.ReadTLSPlaintext(r, name)
			if err == nil {
				out = append(out, x.Enricher())
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range p.in.AESInfo {
		if err := open(f, func(r io.Reader, name string) error {
			x, err := enrich.ReadAESInfo(r, name)
			if err == nil {
				out = append(out, x.Enricher())
				p.source(enrich.AESInfoName, &x.Stats)
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	corr := enrich.DefaultCorrelation()
	if o.Correlation != nil {
		corr = *o.Correlation
	}
	if p.timeShift != 0 {
		corr.TimeShift = p.timeShift
	}
	for _, f := range p.in.SocketTraces {
		if err := open(f, func(r io.Reader, name string) error {
			x, err := enrich.ReadPiRogueSocketTrace(r, name)
			if err == nil {
				out = append(out, x.Enricher(corr))
				p.source(enrich.PiRogueSocketTraceName, &x.Stats)
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range p.in.EBPFEvents {
		if err := open(f, func(r io.Reader, name string) error {
			x, err := enrich.ReadEBPFEvents(r, name)
			if err == nil {
				out = append(out, x.Enricher(corr))
				p.source(enrich.EBPFEventsName, &x.Stats)
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	if !p.har || p.enrichOnly {
		// Only a converted capture has packet comments, or a HAR that
		// tracewire converted, which Analyze reads unenriched.
		out = append(out, enrich.Ptcpdump())
	}
	po := enrich.DefaultProvenanceOptions()
	if o.ProvenanceWindow != nil {
		po.Window = *o.ProvenanceWindow
	}
	po.TimeShift = o.ProvenanceTimeShift
	for _, f := range p.in.Provenance {
		if err := open(f, func(r io.Reader, name string) error {
			x, err := enrich.ReadProvenance(r, name)
			if err == nil {
				out = append(out, x.Enricher(po))
				p.source(enrich.ProvenanceName, &x.Stats)
				for _, ind := range x.Indicators() {
					inds = append(inds, match.Indicator{Property: ownerProperty(ind.Value), Value: ind.Value})
				}
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	return out, inds, nil
}

// source records a trace file read, for the HAR log's _enrichment.
func (p *plan) source(name string, st *enrich.ReadStats) {
	p.sources = append(p.sources, map[string]any{
		"source": name, "file": st.File, "sha256": st.SHA256,
		"records": int64(st.Records), "used": int64(st.Used),
	})
}

// ownerProperty says what kind of data an owner ID is, so a finding of it
// reads "email", not "owner".
func ownerProperty(v string) string {
	if a, err := mail.ParseAddress(v); err == nil && a.Address == v {
		return "email"
	}
	digits, other := 0, 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() ./", r):
		default:
			other++
		}
	}
	if other == 0 && digits >= 7 && digits <= 15 {
		return "phoneNumber"
	}
	return "userId"
}

// run is one analysis in progress.
type run struct {
	p   *plan
	o   Options
	a   *Analysis
	m   *match.Matcher
	ens []enrich.Enricher

	hw              *har.Writer
	harLog          *har.Log
	hosts           map[string]int
	first           time.Time
	last            time.Time
	pcapSum         *pcap.Summary
	enrSum          *enrich.Summary
	log             *har.Log
	hwarn           []har.Warning
	dropped         int
	evidenceDropped int
	// harIn is the HAR input read by the enrichment pipeline.
	harIn *enrich.HARFile
	// head gives the input HAR's log properties before its entries, fixed
	// when they began (har.Reader.Head), for the HAR written.
	head func() *har.Log
	// ev, when set, holds findings made elsewhere: the entries they refer
	// to are kept as evidence instead of those with findings, and checked
	// (see Evidence).
	ev *evidence
	// stream, when set, gets the results instead of result (see Detect).
	stream func(*match.Result) error
}

// maxWarnings bounds the warnings an analysis keeps.
const maxWarnings = 1000

func (r *run) warn(s string) {
	if len(r.a.Warnings) < maxWarnings {
		r.a.Warnings = append(r.a.Warnings, s)
	} else {
		r.dropped++
	}
}

// skip records an entry left out because it could not be read: it is
// named in the warnings and in the analysis's SkippedEntries, always (not
// bounded like other warnings), since the findings do not cover it.
func (r *run) skip(index int, why string) {
	r.a.SkippedEntries = append(r.a.SkippedEntries, index)
	r.a.Warnings = append(r.a.Warnings, SkippedWarning(index, why))
}

// SkippedWarning is the warning for an entry left out unread, the same
// in every command.
func SkippedWarning(index int, why string) string {
	return report.SkippedWarning(index, why)
}

func hasPlanner(ens []enrich.Enricher) bool {
	for _, e := range ens {
		if _, ok := e.(enrich.Planner); ok {
			return true
		}
	}
	return false
}

func (r *run) captureOptions() pcap.Options {
	po := r.o.Capture
	po.KeyLogFiles = append(append([]string(nil), po.KeyLogFiles...), r.p.in.KeyLogs...)
	po.RSAKeyFiles = append(append([]string(nil), po.RSAKeyFiles...), r.p.in.RSAKeys...)
	po.ListFlows = true
	return po
}

func (r *run) run(ctx context.Context) error {
	if r.p.har && len(r.ens) == 0 && r.m != nil {
		// The fast path: entries are cut here and parsed on the
		// matcher's workers.
		f, err := os.Open(r.p.in.Files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		hr := har.NewReader(f)
		r.log = hr.Log()
		r.head = hr.Head
		err = r.m.StreamHAR(ctx, hr, r.o.Workers, r.handler())
		r.hwarn = hr.Warnings()
		if err != nil {
			return r.wrap(err)
		}
		return r.closeHAR()
	}

	pl := &enrich.Pipeline{Enrichers: r.ens, Progress: r.o.EnrichProgress}
	var harFile *enrich.HARFile
	var entries iter.Seq2[*har.Entry, error]
	switch {
	case r.p.har:
		harFile = &enrich.HARFile{Path: r.p.in.Files[0]}
		r.harIn = harFile
	case hasPlanner(r.ens) || r.p.enrichOnly:
		// Pairing socket operations needs two passes over the entries:
		// convert once into a temporary HAR and read it twice. Enrich
		// writes that HAR's log too (_tlsErrors, _warnings).
		tmp, err := os.CreateTemp(r.o.Capture.TempDir, "tracewire-*.har")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		bw := bufio.NewWriterSize(tmp, 1<<20)
		sum, err := pcap.ConvertHAR(ctx, r.p.in.Files, r.captureOptions(), bw)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		r.pcapSum = sum
		if err != nil {
			return err
		}
		harFile = &enrich.HARFile{Path: tmp.Name()}
		if r.p.enrichOnly {
			r.harIn = harFile
		}
	default:
		entries = pcap.Entries(ctx, r.p.in.Files, r.captureOptions(), &r.pcapSum)
	}
	if harFile != nil {
		entries, pl.Skim = harFile.All(), harFile.Skim()
	}
	entries = pl.Enrich(ctx, entries)
	var err error
	if r.m == nil {
		// Enrich: no detection, the entries go to the HAR.
		err = r.copyEntries(entries)
	} else {
		err = r.m.Stream(ctx, entries, r.o.Workers, r.handler())
	}
	r.enrSum = pl.Summary()
	if harFile != nil {
		if l := harFile.Log(); l != nil && r.fromHAR() {
			r.log = l
		}
		r.hwarn = harFile.Warnings()
	}
	if err != nil {
		return r.wrap(err)
	}
	return r.closeHAR()
}

func (r *run) wrap(err error) error {
	var se *har.SyntaxError
	if errors.As(err, &se) && !strings.Contains(err.Error(), r.p.in.Files[0]) {
		return fmt.Errorf("%s: %w", r.p.in.Files[0], err)
	}
	return err
}

// handler is what takes the matcher's results.
func (r *run) handler() func(*match.Result) error {
	if r.stream != nil {
		return func(res *match.Result) error {
			r.a.EntriesRead++
			return r.stream(res)
		}
	}
	return r.result
}

// result takes the matcher's result for one entry.
func (r *run) result(res *match.Result) error {
	a := r.a
	a.EntriesRead++
	e := res.Parsed
	if res.Text != nil {
		e = nil // parsed below when needed, in full
	}
	keepEntry := len(res.Findings) > 0
	if r.ev != nil {
		_, keepEntry = r.ev.refs[res.Entry.Index]
		r.ev.checkEntry(res.Entry)
	}
	needEntry := keepEntry || r.o.HAR != nil
	if res.Text != nil && needEntry {
		var err error
		if e, _, err = har.ParseEntry(res.Text, res.Entry.Index); err != nil {
			e = nil
		}
	}
	if res.Skipped {
		r.skip(res.Entry.Index, strings.Join(res.Warnings, "; "))
	} else {
		for _, w := range res.Warnings {
			r.warn(fmt.Sprintf("entry %d: %s", res.Entry.Index, w))
		}
	}
	if h := report.HostOf(res.Entry.URL); h != "" {
		r.hosts[h]++
	}
	t := time.Time{}
	switch {
	case res.Entry.Timestamp > 0:
		t = har.TimeOf(res.Entry.Timestamp)
	case e != nil && !e.StartedDateTime.IsZero():
		t = e.StartedDateTime.UTC()
	case res.Entry.StartedDateTime != "":
		if pt, err := time.Parse(time.RFC3339Nano, res.Entry.StartedDateTime); err == nil {
			t = pt.UTC()
		}
	case res.Text != nil:
		// The matcher skipped the entry unparsed (no adapter for its URL).
		h, _ := har.Peek(res.Text)
		t = h.Time
	}
	if !t.IsZero() {
		if r.first.IsZero() || t.Before(r.first) {
			r.first = t
		}
		if t.After(r.last) {
			r.last = t
		}
	}
	if r.ev == nil {
		a.Findings = append(a.Findings, res.Findings...)
	}
	if res.Undecoded != nil {
		a.Undecoded = append(a.Undecoded, report.UndecodedRequest{Entry: res.Entry, Undecoded: res.Undecoded})
	}
	if keepEntry && e != nil {
		max := r.o.MaxEvidence
		if max <= 0 {
			max = DefaultMaxEvidence
		}
		if len(a.Entries) < max {
			a.Entries = append(a.Entries, report.Evidence{Index: res.Entry.Index, Entry: report.EvidenceEntry(e)})
		} else {
			r.evidenceDropped++
		}
	}
	if r.o.HAR != nil && e != nil {
		return r.writeHAR(e)
	}
	return nil
}

// writeHAR writes e to the output HAR, starting it with the first entry.
func (r *run) writeHAR(e *har.Entry) error {
	if r.hw == nil {
		r.harLog = r.outputLog()
		r.hw = har.NewWriter(r.o.HAR, r.harLog, r.o.HARWriterOptions...)
	}
	if err := r.hw.Write(e); err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	return nil
}

// outputLog is the log of the HAR written to Options.HAR: the input's for
// a HAR, tracewire's for a capture.
func (r *run) outputLog() *har.Log {
	var l *har.Log
	switch {
	case r.head != nil:
		l = r.head()
	case r.harIn != nil:
		l = r.harIn.Head()
	}
	if l != nil && r.fromHAR() {
		// Only the properties before the entries, as they stood when the
		// entries began: the reader, on another goroutine, fills in those
		// after them as it reaches the end; closeHAR copies them once it
		// has.
		return &har.Log{Version: l.Version, Creator: l.Creator, Browser: l.Browser, Pages: l.Pages}
	}
	return &har.Log{Creator: har.Creator{Name: version.Name, Version: version.Version}}
}

func (r *run) closeHAR() error {
	if r.o.HAR == nil {
		return nil
	}
	if r.hw == nil {
		r.harLog = r.outputLog()
		r.hw = har.NewWriter(r.o.HAR, r.harLog, r.o.HARWriterOptions...)
	}
	if r.log != nil && r.fromHAR() {
		// Properties after the entries are known only now.
		r.harLog.Comment = r.log.Comment
		r.harLog.Extra = r.log.Extra
		if r.harLog.Browser == nil {
			r.harLog.Browser = r.log.Browser
		}
		if len(r.harLog.Pages) == 0 {
			r.harLog.Pages = r.log.Pages
		}
	}
	if s := r.pcapSum; s != nil {
		if tl := tlsErrorsJSON(s.TLSErrors); len(tl) > 0 {
			r.harLog.Extra.Set("_tlsErrors", tl)
		}
	}
	if r.p.enrichOnly && len(r.p.sources) > 0 {
		r.harLog.Extra.Set("_enrichment", r.p.sources)
	}
	if err := r.hw.Close(); err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	return nil
}

// fromHAR reports whether the HAR written is based on a HAR read (its log
// properties kept): the input HAR, or for Enrich the converted capture.
func (r *run) fromHAR() bool { return r.p.har || r.p.enrichOnly }

// copyEntries writes the entries to the HAR, for Enrich.
func (r *run) copyEntries(entries iter.Seq2[*har.Entry, error]) error {
	for e, err := range entries {
		if err != nil {
			return err
		}
		r.a.EntriesRead++
		if err := r.writeHAR(e); err != nil {
			return err
		}
	}
	return nil
}

func tlsErrorsJSON(errs []pcap.TLSError) []any {
	var out []any
	for _, e := range errs {
		out = append(out, map[string]any{
			"communityId": e.CommunityID, "client": e.Client.String(), "server": e.Server.String(),
			"sni": e.SNI, "reason": e.Reason, "startedDateTime": e.Time.UTC().Format(time.RFC3339Nano), "file": e.File,
		})
	}
	return out
}

// finish fills in what is known once every entry has been seen.
func (r *run) finish() {
	a := r.a
	for _, w := range r.hwarn {
		if w.Skipped {
			r.skip(w.Entry, w.Msg)
			continue
		}
		r.warn(w.String())
	}
	if s := r.pcapSum; s != nil && r.stream != nil {
		// Detect's warnings are the readers' as they say them.
		for _, w := range s.Warnings {
			a.Warnings = append(a.Warnings, w.String())
		}
		if n := len(s.TLSErrors); n > 0 {
			a.Warnings = append(a.Warnings, fmt.Sprintf("%d TLS connection(s) could not be decrypted (give their keys with --keylog; see \"tracewire flows\")", n))
		}
	}
	sort.Ints(a.SkippedEntries)
	if s := r.enrSum; s != nil && len(s.Sources) > 0 {
		a.Enrichment = s
	}
	for h, n := range r.hosts {
		a.Hosts = append(a.Hosts, report.HostCount{Host: h, Requests: n})
	}
	sort.Slice(a.Hosts, func(i, j int) bool {
		if a.Hosts[i].Requests != a.Hosts[j].Requests {
			return a.Hosts[i].Requests > a.Hosts[j].Requests
		}
		return a.Hosts[i].Host < a.Hosts[j].Host
	})
	if !r.first.IsZero() {
		a.Period = &report.Period{Start: r.first, End: r.last}
	}
	if s := r.pcapSum; s != nil {
		c := &report.Capture{Packets: s.Packets, DecodeErrors: s.DecodeErrors, Connections: s.Conns, Entries: s.Entries}
		var first, last time.Time
		// Undecrypted TLS connections are listed as such, not again as
		// connections without exchanges.
		undecrypted := map[[2]any]bool{}
		for _, t := range s.TLSErrors {
			undecrypted[[2]any{t.File, t.Index}] = true
		}
		for _, f := range s.Flows {
			if first.IsZero() || f.First.Before(first) {
				first = f.First
			}
			if f.Last.After(last) {
				last = f.Last
			}
			if f.Decrypted {
				c.TLSDecrypted++
			}
			if f.Requests == 0 && f.BytesToServer+f.BytesToClient > 0 && !undecrypted[[2]any{f.File, f.Index}] {
				c.NoEntriesTotal++
				if len(c.NoEntries) < report.MaxFlows {
					c.NoEntries = append(c.NoEntries, report.Flow{
						Time: f.First.UTC(), Client: f.Client.String(), Server: f.Server.String(), CommunityID: f.CommunityID,
						SNI: f.SNI, Protocol: f.Protocol, Bytes: f.BytesToServer + f.BytesToClient,
					})
				}
			}
		}
		for _, t := range s.TLSErrors {
			if len(c.Undecrypted) == report.MaxFlows {
				break
			}
			c.Undecrypted = append(c.Undecrypted, report.Flow{
				Time: t.Time.UTC(), Client: t.Client.String(), Server: t.Server.String(), CommunityID: t.CommunityID,
				SNI: t.SNI, Reason: t.Reason,
			})
		}
		c.NotesTotal = len(s.Notes) + s.NotesDropped
		for i, n := range s.Notes {
			if i == report.MaxFlows {
				break
			}
			c.Notes = append(c.Notes, n.String())
		}
		for _, w := range s.Warnings {
			if r.stream == nil {
				r.warn(w.String())
			}
			c.Truncated = c.Truncated || w.Truncated
		}
		a.Capture = c
		if !first.IsZero() {
			a.Period = &report.Period{Start: first.UTC(), End: last.UTC()}
		}
	}
	if r.dropped > 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("%d more warnings not listed", r.dropped))
	}
	if r.evidenceDropped > 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("%d requests with findings are not kept as evidence (more than %d): their findings are listed, but not the requests themselves", r.evidenceDropped, len(a.Entries)))
	}
	// Warnings name inputs by their file names, as reports do: paths
	// differ between machines and may say more than a report should.
	// Detect's say them as given.
	var pairs []string
	for _, in := range a.Inputs {
		if in.Path != in.Name {
			pairs = append(pairs, in.Path, in.Name)
		}
	}
	if len(pairs) > 0 && r.stream == nil {
		rep := strings.NewReplacer(pairs...)
		for i, w := range a.Warnings {
			a.Warnings[i] = rep.Replace(w)
		}
		if c := a.Capture; c != nil {
			for i, n := range c.Notes {
				c.Notes[i] = rep.Replace(n)
			}
		}
	}
	if r.p.har && r.log != nil {
		a.Subject = subjectOf(r.log)
	}
	if r.p.expFile != "" && appID(a) == "" {
		if id := experimentApp(r.p.expFile); id != "" {
			if a.Subject == nil {
				a.Subject = &report.Subject{}
			}
			if a.Subject.App == nil {
				a.Subject.App = &report.App{}
			}
			a.Subject.App.ID = id
		}
	}
	a.Name = defaultName(a, r.p.in.Files[0])
	a.SortEntries()
}

func defaultName(a *Analysis, first string) string {
	if s := a.Subject; s != nil && s.App != nil {
		name := s.App.Name
		if name == "" {
			name = s.App.ID
		}
		if name != "" {
			if p := s.App.Platform; p != "" {
				name += " (" + p + ")"
			}
			return name
		}
	}
	return filepath.Base(first)
}
