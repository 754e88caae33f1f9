package tracewire

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	s := Settings{KeyLogs: []string{"k"}, SocketTrace: "st.json", Provenance: "p.jsonl", IndicatorFile: "i.json",
		Indicators: []string{"email=a@example.com"}, TimeShift: "1.5", ProvenanceTimeShift: "-1m", ProvenanceWindow: "1s,2s", RequestWindow: "3s,0", FlowBudgetMiB: 2}
	in, err := s.Input([]string{"x.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Files, []string{"x.pcap"}) || !slices.Equal(in.SocketTraces, []string{"st.json"}) || !slices.Equal(in.Provenance, []string{"p.jsonl"}) ||
		!slices.Equal(in.IndicatorFiles, []string{"i.json"}) || len(in.Indicators) != 1 || in.TimeShift == nil || *in.TimeShift != 1500*time.Millisecond || in.AESInfo != nil {
		t.Errorf("Input = %+v", in)
	}
	// A folder is an experiment folder.
	if in, err := s.Input([]string{"testdata/experiment"}); err != nil || in.Files != nil || in.Experiment != "testdata/experiment" {
		t.Errorf("Input(folder) = %+v, %v", in, err)
	}
	o, err := s.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.Capture.FlowBudget != 2<<20 || o.Correlation == nil || o.Correlation.Request.Before != 3*time.Second || o.ProvenanceWindow == nil || o.ProvenanceWindow.After != 2*time.Second ||
		o.ProvenanceTimeShift == nil || *o.ProvenanceTimeShift != -time.Minute || o.DB != nil {
		t.Errorf("Options = %+v", o)
	}
	if c := s.CaptureOptions(); !slices.Equal(c.KeyLogFiles, []string{"k"}) || c.FlowBudget != 2<<20 {
		t.Errorf("CaptureOptions = %+v", c)
	}
	if p := s.Paths(); !slices.Contains(p, "k") || !slices.Contains(p, "st.json") || !slices.Contains(p, "i.json") {
		t.Errorf("Paths = %q", p)
	}
	for _, tc := range []struct {
		s   Settings
		err string
	}{
		{Settings{Indicators: []string{"novalue"}}, ""},
		{Settings{TimeShift: "soon"}, `--time-shift "soon": `},
		{Settings{RequestWindow: "5s"}, "--request-window: "},
		{Settings{ResponseWindow: "-1,1"}, "--response-window: "},
		{Settings{ProvenanceWindow: "x"}, "--provenance-window: "},
		{Settings{ProvenanceTimeShift: "x"}, `--provenance-time-shift "x": `},
		{Settings{AdapterDir: "testdata/none"}, ""},
	} {
		_, err1 := tc.s.Input(nil)
		_, err2 := tc.s.Options()
		err := err1
		if err == nil {
			err = err2
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%+v: error %v, want %q…", tc.s, err, tc.err)
		}
	}
}
