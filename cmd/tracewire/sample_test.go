package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
)

// sampleFindings is what the README's first command must report for
// testdata/sample/tracking.pcapng (internal/gencap's WriteTracking):
// "entry tracker adapter property context path = value". Entries 0, 1
// and 6 (the app's own API, the CDN) report nothing.
var sampleFindings = []string{
	// Firebase's configuration check: the app in the path, the installation in the query.
	"2 google google/app-measurement-config propertyId path parts[3] = " + gencap.SampleGMPAppID,
	"2 google google/app-measurement-config installationId query app_instance_id = " + gencap.SampleInstanceID,
	"2 google google/app-measurement-config osName query platform = android",
	"2 google google/app-measurement-config trackerSdkVersion query gmp_version = 84002",
	// Firebase Analytics upload: protobuf, gzip, TLS 1.3.
	"3 google google/app-measurement appId body 1[0].14 = com.example.weatherapp",
	"3 google google/app-measurement appVersion body 1[0].16 = 3.2.1",
	"3 google google/app-measurement advertisingId body 1[0].19 = " + gencap.SampleAdID,
	"3 google google/app-measurement osName body 1[0].8 = android",
	"3 google google/app-measurement osVersion body 1[0].9 = 14",
	// Facebook app events: form, gzip and chunked, TLS 1.3.
	"4 facebook facebook/graph-activities-qs advertisingId body advertiser_id = " + gencap.SampleAdID,
	"4 facebook facebook/graph-activities-qs deviceId body anon_id = " + gencap.SampleFBAnonID,
	"4 facebook facebook/graph-activities-qs osName body sdk = android",
	"4 facebook facebook/graph-activities-qs appId body extinfo[1] = com.example.weatherapp",
	"4 facebook facebook/graph-activities-qs appId body application_package_name = com.example.weatherapp",
	"4 facebook facebook/graph-activities-qs appVersion body extinfo[2] = 30201",
	"4 facebook facebook/graph-activities-qs appVersion body extinfo[3] = 3.2.1",
	"4 facebook facebook/graph-activities-qs osVersion body extinfo[4] = 14",
	"4 facebook facebook/graph-activities-qs model body extinfo[5] = Pixel 7",
	"4 facebook facebook/graph-activities-qs language body extinfo[6] = de_DE",
	"4 facebook facebook/graph-activities-qs timezone body extinfo[7] = MEZ",
	"4 facebook facebook/graph-activities-qs timezone body extinfo[15] = Europe/Berlin",
	"4 facebook facebook/graph-activities-qs carrier body extinfo[8] = Example Mobil",
	"4 facebook facebook/graph-activities-qs screenWidth body extinfo[9] = 1080",
	"4 facebook facebook/graph-activities-qs screenHeight body extinfo[10] = 2400",
	"4 facebook facebook/graph-activities-qs diskTotal body extinfo[13] = 119",
	"4 facebook facebook/graph-activities-qs diskFree body extinfo[14] = 52",
	// Adjust session: form, TLS 1.3; it forwards Facebook's installation ID.
	"5 adjust adjust/body appId body package_name = com.example.weatherapp",
	"5 adjust adjust/body appVersion body app_version = 3.2.1",
	"5 adjust adjust/body advertisingId body gps_adid = " + gencap.SampleAdID,
	"5 adjust adjust/body deviceId body android_uuid = " + gencap.SampleAdjustUUID,
	"5 adjust adjust/body deviceId body fb_anon_id = " + gencap.SampleFBAnonID,
	"5 adjust adjust/body language body language = de",
	"5 adjust adjust/body model body device_name = Pixel 7",
	"5 adjust adjust/body osName body os_name = android",
	"5 adjust adjust/body osVersion body os_version = 14",
	"5 adjust adjust/body osVersion body os_build = UQ1A.240205.004",
	"5 adjust adjust/body country body country = DE",
	"5 adjust adjust/body installTime body installed_at = 2024-03-14T09:58:47.211Z+0100",
	"5 adjust adjust/body manufacturer body device_manufacturer = Google",
	"5 adjust adjust/body screenWidth body display_width = 1080",
	"5 adjust adjust/body screenHeight body display_height = 2400",
	// Google Analytics 4 from the WebView: query and headers, TLS 1.3 + HTTP/2.
	"7 google google/google-analytics propertyId query tid = G-EXAMPLE123",
	"7 google google/google-analytics consentState query gcs = G111",
	"7 google google/google-analytics consentState query gcd = 13l3l3l3l1",
	"7 google google/google-analytics language query ul = de-de",
	"7 google google/google-analytics screenHeight query sr = 412x915",
	"7 google google/google-analytics screenWidth query sr = 412x915",
	"7 google google/google-analytics browserId query cid = " + gencap.SampleClientID,
	"7 google google/google-analytics viewedPage query dl = https://radar.example-weather.test/map?city=Berlin",
	"7 google google/google-analytics viewedPage query dt = Regenradar",
	"7 google google/google-analytics sessionId query sid = 1710406806",
	"7 google google/google-analytics sessionCount query sct = 1",
	"7 google google/google-analytics isUserActive query seg = 0",
	"7 google google/google-analytics architecture query uaa = arm",
	"7 google google/google-analytics model query uam = Pixel 7",
	"7 google google/google-analytics osName query uap = Android",
	`7 google google/google-analytics osName header sec-ch-ua-platform = "Android"`,
	"7 google google/google-analytics osVersion query uapv = 14.0.0",
	"7 google google/google-analytics appId header x-requested-with = com.example.weatherapp",
	"7 google google/google-analytics referer header referer = https://radar.example-weather.test/",
	"7 google google/google-analytics userAgent header user-agent = Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36",
	`7 google google/google-analytics userAgent header sec-ch-ua = "Chromium";v="122", "Not(A:Brand";v="24", "Android WebView";v="122"`,
	"7 google google/google-analytics userAgent query uafvl = Chromium;122.0.6261.119|Android%20WebView;122.0.6261.119",
}

// TestSampleDetect runs the README's first command on the sample: exactly
// the designed findings, from all eight requests, with no warning.
func TestSampleDetect(t *testing.T) {
	out, stderr, err := runCLI(t, nil, "detect", samplePath(), "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var doc struct {
		Findings []struct {
			Entry                                           struct{ Index int }
			Tracker                                         struct{ Slug string }
			Adapter, Source, Property, Value, Context, Path string
		}
		EntriesRead int      `json:"entries_read"`
		Warnings    []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%.500s", err, out)
	}
	if doc.EntriesRead != len(gencap.TrackingRequests()) || len(doc.Warnings) != 0 {
		t.Errorf("%d entries read, warnings %q", doc.EntriesRead, doc.Warnings)
	}
	var got []string
	for _, f := range doc.Findings {
		if f.Source != "adapter" {
			t.Errorf("a %s finding: %+v", f.Source, f)
		}
		got = append(got, fmt.Sprintf("%d %s %s %s %s %s = %s", f.Entry.Index, f.Tracker.Slug, f.Adapter, f.Property, f.Context, f.Path, f.Value))
	}
	want := slices.Clone(sampleFindings)
	slices.Sort(got)
	slices.Sort(want)
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			t.Errorf("missing: %s", w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			t.Errorf("unexpected: %s", g)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d", len(got), len(want))
	}

	// The default table, as the README shows it: one row per finding,
	// requests numbered from 1 (the JSON's indexes above count from 0),
	// the host; --wide adds the tracker and the adapter.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"│ 4 │ app-measurement.com ", "│ 5 │ graph.facebook.com ", "│ 6 │ app.adjust.com ", "│ 8 │ region1.google-analytics.com ", gencap.SampleAdID}},
		{[]string{"--wide"}, []string{"│ 4 │ app-measurement.com          │ google ", "│ 5 │ graph.facebook.com ", "│ 8 │ region1.google-analytics.com │ google ", gencap.SampleAdID, "facebook/graph-activities-qs"}},
	} {
		table, _, err := runCLI(t, nil, append([]string{"detect", samplePath()}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tc.want {
			if !strings.Contains(table, s) {
				t.Errorf("%v: the table lacks %q:\n%s", tc.args, s, table)
			}
		}
		if n := strings.Count(table, "\n│ "); n != len(want)+1 {
			t.Errorf("%v: %d table rows (with the header), want %d", tc.args, n, len(want)+1)
		}
	}
}

// TestSampleFlows: the sample's TLS connections are decrypted with the
// keys embedded in the file; the cleartext ones are not TLS.
func TestSampleFlows(t *testing.T) {
	out, _, err := runCLI(t, nil, "flows", "--format", "json", samplePath())
	if err != nil {
		t.Fatal(err)
	}
	var flows []flowJSON
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, f := range flows {
		dec := "-"
		if f.Decrypted != nil {
			dec = fmt.Sprint(*f.Decrypted)
		}
		got = append(got, fmt.Sprintf("%s %s %d %s %s %s %s %s%s", f.Server, f.Protocol, f.Requests, f.SNI, f.ALPN, f.TLSVersion, f.CipherSuite, dec, f.TLSError))
	}
	want := []string{
		"198.51.100.80:80 http/1 2     -",
		"203.0.113.88:443 tls→http/1 2 app-measurement.com http/1.1 TLS 1.3 TLS_AES_128_GCM_SHA256 true",
		"203.0.113.77:443 tls→http/1 1 graph.facebook.com http/1.1 TLS 1.3 TLS_AES_128_GCM_SHA256 true",
		"203.0.113.99:443 tls→http/1 1 app.adjust.com http/1.1 TLS 1.3 TLS_AES_128_GCM_SHA256 true",
		"198.51.100.81:80 http/1 1     -",
		"203.0.113.66:443 tls→h2 1 region1.google-analytics.com h2 TLS 1.3 TLS_AES_128_GCM_SHA256 true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("flows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSampleConvert: the README's convert command gives a schema-valid
// HAR with the sample's requests, the decrypted ones included.
func TestSampleConvert(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sample.har")
	if _, stderr, err := runCLI(t, nil, "convert", samplePath(), "-o", p); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	es := entries(t, mustRead(t, p))
	want := gencap.TrackingRequests()
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d", len(es), len(want))
	}
	for i, w := range want {
		e := es[i]
		if e.Request.Method != w.Method || e.Request.URL != w.URL || e.Request.HTTPVersion != w.HTTPVersion || e.Response.Status != w.Status {
			t.Errorf("entry %d: %s %s %s → %d, want %+v", i, e.Request.Method, e.Request.URL, e.Request.HTTPVersion, e.Response.Status, w)
		}
	}
	testutil.ValidateHAR(t, p)
}
