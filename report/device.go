package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// Device report kinds.
const (
	// TrackerControl is a CSV export of the Android app TrackerControl.
	TrackerControl = "trackercontrol"
	// AppPrivacyReport is iOS's App Privacy Report (ndjson), exported from
	// the device's settings.
	AppPrivacyReport = "ios-app-privacy-report"
)

// DeviceReport is a record of network contacts kept on the user's own
// device. A host that an analysis shows receiving personal data and that
// also appears in the user's device report is evidence that the user, not
// only a test device, was affected.
type DeviceReport struct {
	Kind string `json:"kind"`
	// Name is the file's base name, SHA256 its digest.
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	// Platform is "android" or "ios".
	Platform string          `json:"platform"`
	Contacts []DeviceContact `json:"contacts"`
	// Skipped counts records that could not be read.
	Skipped int `json:"skipped,omitempty"`
}

// DeviceContact is one contact with a host as the device recorded it.
type DeviceContact struct {
	// App is the package or bundle ID, AppName its display name if given.
	App     string `json:"app"`
	AppName string `json:"appName,omitempty"`
	Host    string `json:"host"`
	// First and Last are when the host was contacted.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Hits is the number of contacts (1 for each TrackerControl row).
	Hits int `json:"hits"`
	// Company is the tracking company the device's tool names, if any.
	Company string `json:"company,omitempty"`
}

// maxDeviceReport bounds a device report's size.
const maxDeviceReport = 512 << 20

// ReadDeviceReport reads a TrackerControl CSV export or an iOS App Privacy
// Report (ndjson), telling them apart by content. name is used in errors.
func ReadDeviceReport(r io.Reader, name string) (*DeviceReport, error) {
	h := sha256.New()
	b, err := io.ReadAll(io.LimitReader(io.TeeReader(r, h), maxDeviceReport+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxDeviceReport {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxDeviceReport)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var d *DeviceReport
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		d, err = readAppPrivacyReport(b, name)
	} else {
		d, err = readTrackerControl(b, name)
	}
	if err != nil {
		return nil, err
	}
	d.Name = name
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	sort.SliceStable(d.Contacts, func(i, j int) bool {
		a, b := d.Contacts[i], d.Contacts[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		if a.App != b.App {
			return a.App < b.App
		}
		return a.First.Before(b.First)
	})
	return d, nil
}

func readTrackerControl(b []byte, name string) (*DeviceReport, error) {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: not a TrackerControl CSV export nor an App Privacy Report: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"daddr", "time", "package"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: not a TrackerControl CSV export (no %q column) nor an App Privacy Report", name, need)
		}
	}
	get := func(rec []string, k string) string {
		i, ok := col[k]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	d := &DeviceReport{Kind: TrackerControl, Platform: "android"}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				d.Skipped++
				continue
			}
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		host := strings.ToLower(strings.TrimSuffix(get(rec, "daddr"), "."))
		ms, err := strconv.ParseInt(get(rec, "time"), 10, 64)
		if host == "" || err != nil {
			d.Skipped++
			continue
		}
		t := time.UnixMilli(ms).UTC()
		d.Contacts = append(d.Contacts, DeviceContact{
			App: get(rec, "package"), AppName: get(rec, "app"), Host: host,
			First: t, Last: t, Hits: 1, Company: get(rec, "tracker"),
		})
	}
	return d, nil
}

// appPrivacyRecord is the part of an App Privacy Report line we read;
// "access" records (camera, contacts, ...) are not network contacts.
type appPrivacyRecord struct {
	Type           string `json:"type"`
	Domain         string `json:"domain"`
	BundleID       string `json:"bundleID"`
	TimeStamp      string `json:"timeStamp"`
	FirstTimeStamp string `json:"firstTimeStamp"`
	Hits           int    `json:"hits"`
	DomainOwner    string `json:"domainOwner"`
}

func readAppPrivacyReport(b []byte, name string) (*DeviceReport, error) {
	d := &DeviceReport{Kind: AppPrivacyReport, Platform: "ios"}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line, known := 0, false
	for sc.Scan() {
		line++
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		var rec appPrivacyRecord
		if err := json.Unmarshal(l, &rec); err != nil {
			d.Skipped++
			continue
		}
		known = known || rec.Type == "networkActivity" || rec.Type == "access"
		if rec.Type != "networkActivity" {
			continue
		}
		host := strings.ToLower(strings.TrimSuffix(rec.Domain, "."))
		last, err1 := time.Parse(time.RFC3339Nano, rec.TimeStamp)
		first, err2 := time.Parse(time.RFC3339Nano, rec.FirstTimeStamp)
		if err2 != nil {
			first, err2 = last, err1
		}
		if host == "" || err1 != nil || err2 != nil {
			d.Skipped++
			continue
		}
		hits := rec.Hits
		if hits <= 0 {
			hits = 1
		}
		d.Contacts = append(d.Contacts, DeviceContact{
			App: rec.BundleID, Host: host, First: first.UTC(), Last: last.UTC(), Hits: hits, Company: rec.DomainOwner,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if !known {
		// Another JSON file (findings, a HAR) would pass for a report of
		// a phone that contacted nothing.
		return nil, fmt.Errorf("%s: not a TrackerControl CSV export nor an App Privacy Report (no record of type networkActivity or access)", name)
	}
	return d, nil
}

// affected is what a device report shows about the hosts of an analysis.
type affected struct {
	Report *DeviceReport
	// Applicable is false when the report is from another platform than
	// the analysed app.
	Applicable bool
	// NoAppID is set when the analysed app's ID is not known: a device
	// report holds the contacts of every app on the phone, so it is then
	// not used as evidence. AppMissing is set when the report has no
	// record of the app (then nothing is listed either).
	NoAppID, AppMissing bool
	First, Last         time.Time
	Rows                []affectedRow
}

type affectedRow struct {
	Host, Recipient string
	// Apps are the apps that contacted the host.
	Apps        []string
	First, Last time.Time
	Hits        int
}

// deviceEvidence matches the contacts the analysed app (appID) made in a
// device report against the hosts that received personal data (host →
// recipient name). Contacts of other apps are never evidence.
func deviceEvidence(d *DeviceReport, hosts map[string]string, appID, platform string) affected {
	af := affected{Report: d, Applicable: platform == "" || d.Platform == "" || strings.EqualFold(platform, d.Platform)}
	for _, c := range d.Contacts {
		if af.First.IsZero() || c.First.Before(af.First) {
			af.First = c.First
		}
		if c.Last.After(af.Last) {
			af.Last = c.Last
		}
	}
	if !af.Applicable {
		return af
	}
	if appID == "" {
		af.NoAppID = true
		return af
	}
	af.AppMissing = true
	for _, c := range d.Contacts {
		if strings.EqualFold(c.App, appID) {
			af.AppMissing = false
			break
		}
	}
	rows := map[string]*affectedRow{}
	apps := map[string]map[string]bool{}
	for _, c := range d.Contacts {
		rc, ok := hosts[c.Host]
		if !ok || !strings.EqualFold(c.App, appID) {
			continue
		}
		r := rows[c.Host]
		if r == nil {
			r = &affectedRow{Host: c.Host, Recipient: rc, First: c.First, Last: c.Last}
			rows[c.Host] = r
			apps[c.Host] = map[string]bool{}
		}
		if c.First.Before(r.First) {
			r.First = c.First
		}
		if c.Last.After(r.Last) {
			r.Last = c.Last
		}
		r.Hits += c.Hits
		app := c.App
		if c.AppName != "" && c.AppName != c.App {
			app += " (" + c.AppName + ")"
		}
		apps[c.Host][app] = true
	}
	for _, h := range sortedKeys(rows) {
		r := rows[h]
		r.Apps = sortedKeys(apps[h])
		af.Rows = append(af.Rows, *r)
	}
	return af
}

// AnalysedApp returns the ID of the analysed app that device reports are
// filtered by: o.AppID when set, else the app the analysis's inputs name
// (HAR metadata, experiment.json); "" when none is known.
func AnalysedApp(a *Analysis, o Options) string {
	if o.AppID != "" {
		return o.AppID
	}
	return appID(a)
}

// DeviceWarnings are the warnings about o's device reports for a: with no
// known app ID, a device report is not used as evidence.
func DeviceWarnings(a *Analysis, o Options) []string {
	if len(o.DeviceReports) == 0 || AnalysedApp(a, o) != "" {
		return nil
	}
	var out []string
	for _, d := range o.DeviceReports {
		out = append(out, fmt.Sprintf("device report %s is not used as evidence: the analysed app's ID is not known (the input's metadata does not name it); pass it with --app-id", d.Name))
	}
	return out
}
