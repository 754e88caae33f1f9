package main

import (
	json "github.com/go-json-experiment/json/v1"
	rep "github.com/tracewire/tracewire/report"
	"strings"

	"github.com/tracewire/tracewire/internal/testutil"
	"testing"
)

func TestFlowsJSON(t *testing.T) {
	out, _, err := runCLI(t, nil, "flows", "--format", "json", samplePath())
	if err != nil {
		t.Fatal(err)
	}
	var flows []flowJSON
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(flows) != 6 {
		t.Fatalf("%d flows", len(flows))
	}
	f := flows[0]
	if f.Client != "10.0.0.23:44310" || f.Server != "198.51.100.80:80" || f.Index != 0 {
		t.Errorf("first flow %+v", f)
	}
	// Community ID of the flow, as computed by the spec's reference (and
	// tshark --enable-protocol communityid).
	if f.CommunityID != "1:PBd3Ei79y7eG8wiboP7eujeagkc=" {
		t.Errorf("community id %s", f.CommunityID)
	}
	if f.BytesToServer == 0 || f.BytesToClient == 0 {
		t.Errorf("bytes %d/%d", f.BytesToServer, f.BytesToClient)
	}
	if f.Protocol != "http/1" || f.Requests != 2 {
		t.Errorf("protocol %q, %d requests", f.Protocol, f.Requests)
	}
	if f.Decrypted != nil {
		t.Error("a cleartext flow has a decrypted field")
	}
	seed, _, err := runCLI(t, nil, "flows", "--format", "json", "--community-id-seed", "1", samplePath())
	if err != nil || strings.Contains(seed, f.CommunityID) {
		t.Errorf("the seed changes nothing (%v)", err)
	}
}

func TestFlowsTable(t *testing.T) {
	out, _, err := runCLI(t, nil, "flows", samplePath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"COMMUNITY ID", "1:PBd3Ei79y7eG8wiboP7eujeagkc=", "198.51.100.80:80", "http/1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "10.0.0.23:"); n != 6 {
		t.Errorf("%d flow rows", n)
	}
	if _, _, err := runCLI(t, nil, "flows", "--format", "xml", samplePath()); err == nil {
		t.Error("--format xml accepted")
	}
}

// TestFlowsWarningNoSelfReference: flows does not tell the user to run
// flows, and its warnings carry the prefix of every other command.
func TestFlowsWarningNoSelfReference(t *testing.T) {
	p := testutil.Corpus(t, "zeek", "quic_curl-8.1.2-dev-http3-www-google-de.pcap")
	_, stderr, err := runCLI(t, nil, "flows", p)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "tracewire: warning: 1 TLS connection(s) could not be decrypted") {
		t.Errorf("no undecrypted warning with the common prefix:\n%s", stderr)
	}
	if strings.Contains(stderr, "or tracewire flows") {
		t.Errorf("flows tells the user to run flows:\n%s", stderr)
	}
}

// flowJSON is what flows --format json writes, for the tests.
type flowJSON = rep.FlowJSON
