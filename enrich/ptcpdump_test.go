package enrich

import (
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
)

func TestParsePtcpdumpComments(t *testing.T) {
	tests := []struct {
		name     string
		comments []string
		want     string // JSON of the processes
	}{
		{
			name:     "current format, all contexts",
			comments: []string{"PID: 1234\nCmd: /usr/bin/curl\nArgs: curl -s https://example.com", "ThreadId: 1240\nThreadName: curl", "UserId: 1000\nGroupId: 1000", "ParentPID: 1200\nParentCmd: /usr/bin/bash\nParentArgs: bash", "ContainerName: web\nContainerId: 6c1f\nContainerImage: nginx:1.25\nContainerLabels: {\"app\":\"web\"}", "PodName: web-0\nPodNamespace: default\nPodUID: 9a\nPodLabels: {}\nPodAnnotations: {}"},
			want:     `[{"args":"curl -s https://example.com","cmd":"/usr/bin/curl","container":{"id":"6c1f","image":"nginx:1.25","labels":"{\"app\":\"web\"}","name":"web"},"groupId":1000,"parent":{"args":"bash","cmd":"/usr/bin/bash","pid":1200},"pid":1234,"pod":{"annotations":"{}","labels":"{}","name":"web-0","namespace":"default","uid":"9a"},"threadId":1240,"threadName":"curl","userId":1000}]`,
		},
		{
			name:     "old format with Command and one comment",
			comments: []string{"PID: 77\nCommand: /bin/wget...\nArgs: wget x..."},
			want:     `[{"args":"wget x...","cmd":"/bin/wget...","pid":77}]`,
		},
		{
			name:     "two processes in one exchange, repeats dropped",
			comments: []string{"PID: 1\nCmd: a\nArgs: a", "ParentPID: 9\nParentCmd: init\nParentArgs: init", "PID: 2\nCmd: b\nArgs: b", "PID: 1\nCmd: a\nArgs: a", "ParentPID: 9\nParentCmd: init\nParentArgs: init"},
			want:     `[{"args":"a","cmd":"a","parent":{"args":"init","cmd":"init","pid":9},"pid":1},{"args":"b","cmd":"b","pid":2}]`,
		},
		{name: "not ptcpdump's", comments: []string{"hello hello", "goodbye goodbye", "note: checked by hand"}, want: `null`},
		{name: "non-numeric PID kept as text", comments: []string{"PID: abc"}, want: `[{"pid":"abc"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := json.Marshal(ParsePtcpdumpComments(tc.comments))
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPtcpdumpEnricher(t *testing.T) {
	withComments := func(c any) *har.Entry {
		e := entry(flowA, baseSec, baseSec+1, "HTTP/1.1")
		e.Extra.Set("_packetComments", c)
		return e
	}
	entries := []*har.Entry{
		withComments([]string{"PID: 1234\nCmd: /usr/bin/curl\nArgs: curl https://example.com"}),
		// As read back from a HAR file: []any.
		withComments([]any{"PID: 1\nCmd: a\nArgs: a", "PID: 2\nCmd: b\nArgs: b"}),
		withComments([]string{"hello hello"}),
		entry(flowB, baseSec, 0, "HTTP/1.1"),
	}
	s := run(t, entries, Ptcpdump())
	got, _ := json.Marshal(entries[0].Extra["_process"])
	if string(got) != `{"args":"curl https://example.com","cmd":"/usr/bin/curl","pid":1234}` {
		t.Errorf("entry 0 _process = %s", got)
	}
	if _, ok := entries[0].Extra["_processes"]; ok {
		t.Error("entry 0 has _processes with one process")
	}
	if p, _ := entries[1].Extra["_process"].(map[string]any); p["pid"] != int64(1) {
		t.Errorf("entry 1 _process = %v, want pid 1", p)
	}
	if ps, _ := entries[1].Extra["_processes"].([]any); len(ps) != 2 {
		t.Errorf("entry 1 _processes = %v, want 2", ps)
	}
	for _, i := range []int{2, 3} {
		if _, ok := entries[i].Extra["_process"]; ok {
			t.Errorf("entry %d got a _process", i)
		}
	}
	r := s.Source(PtcpdumpName)
	for name, want := range map[string]int{"entries with packet comments": 3, "entries with a process": 2, "entries whose packets name several processes": 1, "distinct PIDs": 3} {
		if got := r.Count(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}
