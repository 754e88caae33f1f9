package enrich

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindExperiment(t *testing.T) {
	full := `{"network":{"start_capture_time":1700000001500.25,"file":"traffic.pcap"},
	  "device":{"start_capture_time":1700000000000,"file":"device.json"},
	  "socket_traces":{"file":"socket_trace.json"},"crypto_traces":{"file":"aes_info.json"},
	  "sslkeylog":{"file":"sslkeylog.txt"},"screen":{"start_capture_time":1700000002000,"file":"screen.mp4"}}`
	tests := []struct {
		name    string
		files   map[string]string
		want    Experiment // paths relative to the folder
		wantErr string
	}{
		{
			name:  "pirogue-cli's experiment.json",
			files: map[string]string{"experiment.json": full, "traffic.pcap": "", "socket_trace.json": "[]", "aes_info.json": "[]", "sslkeylog.txt": ""},
			want:  Experiment{Capture: "traffic.pcap", SocketTrace: "socket_trace.json", AESInfo: "aes_info.json", SSLKeyLog: "sslkeylog.txt", TimeShift: -1500250 * time.Microsecond, HasTimeShift: true},
		},
		{
			name:  "missing keys and files are fine",
			files: map[string]string{"experiment.json": `{"network":{"file":"capture.pcapng"}}`, "capture.pcapng": ""},
			want:  Experiment{Capture: "capture.pcapng"},
		},
		{
			name:  "files named in experiment.json but absent fall back to defaults",
			files: map[string]string{"experiment.json": `{"network":{"file":"gone.pcap"},"socket_traces":{"file":"gone.json"}}`, "traffic.pcapng": "", "socket_trace.json": ""},
			want:  Experiment{Capture: "traffic.pcapng", SocketTrace: "socket_trace.json"},
		},
		{
			name:  "no experiment.json: default names",
			files: map[string]string{"traffic.pcap": "", "aes_info.json": ""},
			want:  Experiment{Capture: "traffic.pcap", AESInfo: "aes_info.json"},
		},
		{
			name:  "no experiment.json: the only HAR",
			files: map[string]string{"run.har": "{}", "socket_trace.json": ""},
			want:  Experiment{Capture: "run.har", SocketTrace: "socket_trace.json"},
		},
		{name: "nothing to read", files: map[string]string{"socket_trace.json": ""}, wantErr: "no capture or HAR"},
		{name: "two captures", files: map[string]string{"a.pcap": "", "b.pcapng": ""}, wantErr: "several captures or HARs (a.pcap, b.pcapng)"},
		{name: "wrong type", files: map[string]string{"experiment.json": `{"network":{"file":3}}`}, wantErr: "network.file is not a string"},
		{name: "seconds", files: map[string]string{"experiment.json": `{"network":{"start_capture_time":1700000000}}`}, wantErr: "looks like seconds"},
		{name: "not an object", files: map[string]string{"experiment.json": `{"network":null,"device":[1]}`}, wantErr: "device is not an object"},
		{name: "not a number", files: map[string]string{"experiment.json": `{"device":{"start_capture_time":"1700000000000"}}`}, wantErr: "device.start_capture_time is not a number"},
		{name: "not JSON", files: map[string]string{"experiment.json": `{"network":`}, wantErr: "experiment.json: unexpected end of JSON input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			x, err := FindExperiment(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rel := func(p string) string {
				if p == "" {
					return ""
				}
				r, _ := filepath.Rel(dir, p)
				return r
			}
			got := Experiment{Capture: rel(x.Capture), SocketTrace: rel(x.SocketTrace), AESInfo: rel(x.AESInfo), SSLKeyLog: rel(x.SSLKeyLog), TimeShift: x.TimeShift, HasTimeShift: x.HasTimeShift}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
