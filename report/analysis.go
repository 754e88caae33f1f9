package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/version"
	"github.com/tracewire/tracewire/match"
)

// Analysis is what one run of the pipeline found in one set of inputs, with
// everything a report needs: where the data came from, how it was decoded,
// the findings, and the requests that carried them. It is written as JSON
// (the "findings JSON" of tracewire report and batch) and read back with
// ReadAnalysis; its keys findings, entries_read and warnings are those of
// "tracewire detect --format json", so detect's output reads as an
// Analysis too (without metadata and requests).
type Analysis struct {
	// ID identifies the analysis by its inputs: the first 16 hex digits of
	// a SHA-256 over the roles and SHA-256 digests of the inputs.
	ID string `json:"id,omitempty"`
	// Name is what reports call the analysis (the app, or the first
	// input's file name).
	Name string `json:"name,omitempty"`
	// Tool is the name and version of the program that made the analysis.
	Tool Tool `json:"tool"`
	// AdapterDB describes the tracker adapter database used.
	AdapterDB *AdapterDB `json:"adapterDb,omitempty"`
	// Inputs are every file read, with their SHA-256.
	Inputs []InputFile `json:"inputs,omitempty"`
	// Subject is what the inputs say about the app, device or backend.
	Subject *Subject `json:"subject,omitempty"`
	// Period is the time span of the capture (first to last packet for a
	// capture, first to last request for a HAR).
	Period *Period `json:"period,omitempty"`
	// Capture summarises the conversion of a capture; nil for HAR input.
	Capture *Capture `json:"capture,omitempty"`
	// Enrichment says what each enrichment source did; nil when none ran.
	Enrichment *enrich.Summary `json:"enrichment,omitempty"`
	// Indicators lists the properties of the indicators searched for, with
	// how many values each (the values themselves are the user's data and
	// stay out of the analysis).
	Indicators []IndicatorCount `json:"indicators,omitempty"`
	// Hosts counts the requests per host over all entries, most first.
	Hosts []HostCount `json:"hosts,omitempty"`
	// EntriesRead is the number of HAR entries analysed.
	EntriesRead int `json:"entries_read"`
	// Findings are the transmissions found, in entry order.
	Findings []match.Finding `json:"findings"`
	// Entries are the requests that carried findings, in index order,
	// with their response bodies left out.
	Entries []Evidence `json:"entries,omitempty"`
	// Undecoded are the requests to tracking companies (by the host
	// directory, adapters.Hosts) that carried data no adapter decodes, in
	// entry order: listed so that a reader knows what was sent and not
	// read, never findings. Its key and elements are those of "tracewire
	// detect --format json". An analysis always has the list (empty when
	// there were none); nil means a findings file that does not say.
	Undecoded []UndecodedRequest `json:"undecoded"`
	// Warnings are problems with the inputs that were worked around.
	Warnings []string `json:"warnings"`
	// SkippedEntries are the indexes of the entries left out because they
	// could not be read at all (each also has a warning): the findings
	// do not cover them.
	SkippedEntries []int `json:"skippedEntries,omitempty"`
}

// Tool names the program and the exact build that made an analysis.
type Tool struct {
	Name string `json:"name"`
	// Version is the release version with the VCS revision, as
	// version.Version gives it ("0.1.0-dev (revision 0123…, modified)").
	Version string `json:"version"`
	// Revision is the VCS revision of the build ("" when unknown);
	// Modified says the tree had uncommitted changes.
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

// ThisTool is the Tool of the running build.
func ThisTool() Tool {
	return Tool{Name: version.Name, Version: version.Version, Revision: version.Revision, Modified: version.Modified}
}

// AdapterDB identifies the tracker adapter database of an analysis.
type AdapterDB struct {
	// Version is "embedded <tool version>" for the built-in database,
	// "custom" for a user's directory.
	Version string `json:"version"`
	// SHA256 is a digest of the database's content (every tracker and
	// adapter in canonical form), so two analyses can tell whether they
	// used the same rules.
	SHA256   string `json:"sha256"`
	Trackers int    `json:"trackers"`
	Adapters int    `json:"adapters"`
}

// Input roles.
const (
	RoleCapture      = "capture"
	RoleHAR          = "har"
	RoleKeyLog       = "keylog"
	RoleRSAKey       = "rsaKey"
	RoleSocketTrace  = "socketTrace"
	RoleEBPF         = "ebpfEvents"
	RoleAESInfo      = "aesInfo"
	RoleTLSPlaintext = "tlsPlaintext"
	RoleProvenance   = "provenance"
	RoleExperiment   = "experiment"
	RoleFindings     = "findings"
	RoleIndicators   = "indicators"
	// RoleCompared is the earlier analysis a report compares with.
	RoleCompared = "compared"
)

// InputFile is one file an analysis read.
type InputFile struct {
	// Role says what the file was used as (RoleCapture, RoleKeyLog, ...).
	Role string `json:"role"`
	// Path is the path as given; Name its base name, which reports show
	// (paths differ between machines, names and digests do not).
	Path   string `json:"path"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Subject is what is known about what was analysed.
type Subject struct {
	App     *App     `json:"app,omitempty"`
	Device  *Device  `json:"device,omitempty"`
	Backend *Backend `json:"backend,omitempty"`
	// Recorder is the program that made the HAR (the log's creator).
	Recorder string `json:"recorder,omitempty"`
	// RecordingStart and RecordingEnd are the times the recorder says it
	// ran, when it says so (RFC 3339).
	RecordingStart string `json:"recordingStart,omitempty"`
	RecordingEnd   string `json:"recordingEnd,omitempty"`
	// Tools are other programs and versions the recorder lists, sorted.
	Tools []NameValue `json:"tools,omitempty"`
}

// App describes the analysed app.
type App struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	VersionCode string `json:"versionCode,omitempty"`
	Platform    string `json:"platform,omitempty"`
	// MD5 of the app package, as recorders give it.
	MD5 string `json:"md5,omitempty"`
}

// Device describes the device the app ran on.
type Device struct {
	Platform     string `json:"platform,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	OSVersion    string `json:"osVersion,omitempty"`
	OSBuild      string `json:"osBuild,omitempty"`
	RunTarget    string `json:"runTarget,omitempty"`
}

// Backend describes a server whose egress was captured.
type Backend struct {
	Name        string `json:"name,omitempty"`
	Host        string `json:"host,omitempty"`
	Version     string `json:"version,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// NameValue is a named string.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Period is a time span; times are RFC 3339 in UTC.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Capture summarises how a capture was converted.
type Capture struct {
	Packets      uint64 `json:"packets"`
	DecodeErrors uint64 `json:"decodeErrors,omitempty"`
	Connections  int    `json:"connections"`
	Entries      int    `json:"entries"`
	// TLSDecrypted counts the TLS connections decrypted.
	TLSDecrypted int `json:"tlsDecrypted"`
	// Undecrypted are the TLS connections that could not be decrypted.
	Undecrypted []Flow `json:"undecrypted,omitempty"`
	// NoEntries are TCP connections that carried data but gave no HTTP
	// exchange (another protocol, or not decrypted); at most MaxFlows,
	// NoEntriesTotal counts all.
	NoEntries      []Flow `json:"noEntries,omitempty"`
	NoEntriesTotal int    `json:"noEntriesTotal,omitempty"`
	// Notes are what the parsers reported about single flows (gaps, parse
	// errors); NotesTotal counts all, also those not kept.
	Notes      []string `json:"notes,omitempty"`
	NotesTotal int      `json:"notesTotal,omitempty"`
	// Truncated: a capture could not be read to its end (cut short or
	// corrupt; the warnings say where), so what followed was not analysed.
	Truncated bool `json:"truncated,omitempty"`
}

// MaxFlows bounds the flows listed in a Capture.
const MaxFlows = 200

// Flow is one TCP connection of a capture.
type Flow struct {
	Time        time.Time `json:"time"`
	Client      string    `json:"client"`
	Server      string    `json:"server"`
	CommunityID string    `json:"communityId,omitempty"`
	SNI         string    `json:"sni,omitempty"`
	Protocol    string    `json:"protocol,omitempty"`
	Bytes       int64     `json:"bytes,omitempty"`
	// Reason says why it could not be decrypted.
	Reason string `json:"reason,omitempty"`
}

// IndicatorCount says how many indicator values of a property were
// searched, and where they came from.
type IndicatorCount struct {
	Property string `json:"property"`
	Count    int    `json:"count"`
	Source   string `json:"source,omitempty"`
}

// HostCount is the number of requests to one host.
type HostCount struct {
	Host     string `json:"host"`
	Requests int    `json:"requests"`
}

// UndecodedRequest is a request to a tracking company that no adapter
// decoded: the request and what the matcher could say about it (company,
// host, path, and the names of the keys that carried values).
type UndecodedRequest struct {
	Entry match.EntryRef `json:"entry"`
	*match.Undecoded
}

// Evidence is a HAR entry that carried findings.
type Evidence struct {
	Index int
	Entry *har.Entry
}

type evidenceJSON struct {
	Index int             `json:"index"`
	Entry json.RawMessage `json:"entry"`
}

// MarshalJSON writes the entry in HAR form.
func (e Evidence) MarshalJSON() ([]byte, error) {
	var raw []byte
	if e.Entry != nil {
		raw = har.MarshalEntry(e.Entry)
	} else {
		raw = []byte("null")
	}
	return json.Marshal(evidenceJSON{Index: e.Index, Entry: raw})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Evidence) UnmarshalJSON(b []byte) error {
	var v evidenceJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	e.Index = v.Index
	if len(v.Entry) == 0 || string(v.Entry) == "null" {
		return fmt.Errorf("entry %d: no HAR entry", v.Index)
	}
	ent, _, err := har.ParseEntry(v.Entry, v.Index)
	if err != nil {
		return fmt.Errorf("entry %d: %w", v.Index, err)
	}
	e.Entry = ent
	return nil
}

// EvidenceEntry returns a copy of e fit to keep as evidence: the request in
// full, the response without its body (only the request is evidence of a
// transmission; bodies of responses can be large).
func EvidenceEntry(e *har.Entry) *har.Entry {
	c := *e
	c.Response.Content.Text = ""
	c.Response.Content.Encoding = ""
	return &c
}

// Entry returns the evidence entry with the given index, nil if none.
func (a *Analysis) Entry(index int) *har.Entry {
	i := sort.Search(len(a.Entries), func(i int) bool { return a.Entries[i].Index >= index })
	if i < len(a.Entries) && a.Entries[i].Index == index {
		return a.Entries[i].Entry
	}
	return nil
}

// SortEntries puts Entries in index order and drops repeats; ReadAnalysis
// does it, callers that fill Entries themselves call it.
func (a *Analysis) SortEntries() {
	sort.SliceStable(a.Entries, func(i, j int) bool { return a.Entries[i].Index < a.Entries[j].Index })
	out := a.Entries[:0]
	for i, e := range a.Entries {
		if i > 0 && e.Index == out[len(out)-1].Index {
			continue
		}
		out = append(out, e)
	}
	a.Entries = out
}

// WriteJSON writes the analysis as indented JSON.
func (a *Analysis) WriteJSON(w io.Writer) error {
	if a.Findings == nil {
		a.Findings = []match.Finding{}
	}
	if a.Warnings == nil {
		a.Warnings = []string{}
	}
	b, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		return fmt.Errorf("analysis JSON: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// maxAnalysisJSON bounds the size of a findings file read into memory.
const maxAnalysisJSON = 4 << 30

// ReadAnalysis reads an analysis written by WriteJSON, or the output of
// "tracewire detect --format json" (findings only). name is used in errors.
func ReadAnalysis(r io.Reader, name string) (*Analysis, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxAnalysisJSON))
	var doc struct {
		Analysis
		// Error is set by "tracewire detect --format json" when its input
		// could not be read to the end.
		Error string `json:"error"`
	}
	a := &doc.Analysis
	if err := dec.Decode(&doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: byte %d: %w", name, se.Offset, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Error != "" {
		return nil, fmt.Errorf("%s: the analysis that wrote this findings file failed, its findings are incomplete: %s", name, doc.Error)
	}
	if a.Findings == nil && a.EntriesRead == 0 && a.Tool.Name == "" {
		return nil, fmt.Errorf("%s: not a findings file (no \"findings\")", name)
	}
	if a.Name == "" {
		// detect --format json names its inputs, not the analysis: its
		// report was "Analysis of unnamed input".
		for _, in := range a.Inputs {
			if in.Role == RoleCapture || in.Role == RoleHAR {
				a.Name = in.Name
				break
			}
		}
	}
	a.SortEntries()
	return a, nil
}

// IsFindingsJSON reports whether head, the first bytes of a JSON file,
// looks like a findings file rather than a HAR: the first key of the top
// object is not "log".
func IsFindingsJSON(head []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(head))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return false
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		k, ok := tok.(string)
		if !ok {
			return false
		}
		switch k {
		case "log":
			return false
		case "findings", "entries_read", "tool", "adapterDb", "inputs", "id", "name":
			return true
		}
		// Skip the value of an unknown key.
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
}

// HostOf returns the lowercase host of a URL ("" when it has none).
func HostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		// Cut by hand: a URL with a bad escape still has a host.
		s := u
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
		if i := strings.IndexAny(s, "/?#"); i >= 0 {
			s = s[:i]
		}
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			s = s[i+1:]
		}
		return strings.ToLower(s)
	}
	return strings.ToLower(p.Hostname())
}

// PathOf returns the path of a URL, "/" when empty.
func PathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.EscapedPath() == "" {
		return "/"
	}
	return p.EscapedPath()
}
