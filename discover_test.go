package tracewire

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDiscover builds a folder tree with every layout Discover knows and
// checks the analyses it finds, with their inputs.
func TestDiscover(t *testing.T) {
	root := filepath.Join(t.TempDir(), "study")
	files := map[string]string{
		// A PiRogue experiment: one analysis with all its files.
		"exp1/experiment.json":   `{"network":{"file":"traffic.pcapng"},"socket_traces":{"file":"socket_trace.json"},"sslkeylog":{"file":"sslkeylog.txt"}}`,
		"exp1/traffic.pcapng":    "\n\r\r\n", // a pcapng's first bytes: resolving sniffs it
		"exp1/socket_trace.json": "[]",
		"exp1/sslkeylog.txt":     "",
		"exp1/notes.txt":         "",
		// Captures with key logs named after them, and one for all.
		"caps/a.pcap":           "x",
		"caps/a.keys":           "",
		"caps/b.pcapng.gz":      "x",
		"caps/b_keylog.dat":     "",
		"caps/sslkeylog.txt":    "",
		"caps/srv.pcap":         "x",
		"caps/srv.key":          "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"caps/cert.pcap":        "x",
		"caps/cert.key":         "not a key",
		"caps/provenance.jsonl": "",
		// A HAR with a provenance log named after it and device reports.
		"hars/run.har":                  "{}",
		"hars/run.provenance.jsonl":     "",
		"hars/tc.csv":                   "\"uid\",\"daddr\",\"time\",\"uncertain\",\"Tracker\",\"Category\",\"Package\",\"App\"\n",
		"hars/apr.ndjson":               `{"type":"networkActivity","domain":"x"}` + "\n",
		"hars/other.csv":                "a,b\n",
		"hars/deep/nested/second.har":   "{}",
		".hidden/ignored.pcap":          "x",
		"hars/deep/nested/readme.json":  "{}",
		"hars/deep/nested/x.pcap.notes": "",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := Discover([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	rel := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			r, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(r))
		}
		return out
	}
	var got []string
	for _, j := range jobs {
		in := j.Input
		parts := []string{j.ID}
		add := func(k string, v []string) {
			if len(v) > 0 {
				parts = append(parts, k+"="+strings.Join(rel(v), ","))
			}
		}
		add("files", in.Files)
		if in.Experiment != "" {
			parts = append(parts, "experiment="+strings.Join(rel([]string{in.Experiment}), ""))
		}
		add("keylogs", in.KeyLogs)
		add("rsa", in.RSAKeys)
		add("traces", in.SocketTraces)
		add("prov", in.Provenance)
		add("devices", j.DeviceReports)
		if j.Err != nil {
			parts = append(parts, "err")
		}
		got = append(got, strings.Join(parts, " "))
	}
	want := []string{
		"study/caps/a.pcap files=caps/a.pcap keylogs=caps/sslkeylog.txt,caps/a.keys prov=caps/provenance.jsonl",
		"study/caps/b.pcapng.gz files=caps/b.pcapng.gz keylogs=caps/sslkeylog.txt,caps/b_keylog.dat prov=caps/provenance.jsonl",
		"study/caps/cert.pcap files=caps/cert.pcap keylogs=caps/sslkeylog.txt prov=caps/provenance.jsonl",
		"study/caps/srv.pcap files=caps/srv.pcap keylogs=caps/sslkeylog.txt rsa=caps/srv.key prov=caps/provenance.jsonl",
		"study/exp1 experiment=exp1",
		"study/hars/deep/nested/second.har files=hars/deep/nested/second.har",
		"study/hars/run.har files=hars/run.har prov=hars/run.provenance.jsonl devices=hars/apr.ndjson,hars/tc.csv",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The experiment resolves to its files.
	for _, j := range jobs {
		if j.Input.Experiment == "" {
			continue
		}
		p, err := resolveFiles(j.Input)
		if err != nil {
			t.Fatal(err)
		}
		var ins []string
		for _, x := range p.inputs() {
			ins = append(ins, x[0]+":"+filepath.Base(x[1]))
		}
		if w := "capture:traffic.pcapng experiment:experiment.json keylog:sslkeylog.txt socketTrace:socket_trace.json"; strings.Join(ins, " ") != w {
			t.Errorf("experiment inputs %v", ins)
		}
		if want := int64(len(files["exp1/experiment.json"]) + 4 + 2); j.Size != want {
			t.Errorf("experiment size %d", j.Size)
		}
	}
	// Files given directly are analyses whatever their names, with what
	// lies beside them; the same name twice gets a suffix.
	jobs, err = Discover([]string{filepath.Join(root, "caps", "a.pcap"), filepath.Join(root, "hars", "tc.csv"), filepath.Join(root, "caps", "a.pcap")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID+":"+strings.Join(rel(j.Input.KeyLogs), ","))
	}
	if w := "a.pcap:caps/sslkeylog.txt,caps/a.keys a.pcap-2:caps/sslkeylog.txt,caps/a.keys tc.csv:"; strings.Join(ids, " ") != w {
		t.Errorf("direct files: %v", ids)
	}
	// A missing path is one failed job; the others are found.
	jobs, err = Discover([]string{filepath.Join(root, "nope"), filepath.Join(root, "caps", "a.pcap")})
	if err != nil || len(jobs) != 2 || jobs[1].ID != "nope" || jobs[1].Err == nil || jobs[0].Err != nil {
		t.Errorf("a missing path: %v, %+v", err, jobs)
	}
}
