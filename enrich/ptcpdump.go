package enrich

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/tracewire/tracewire/har"
)

// ptcpdump (an eBPF tcpdump) writes the process behind each packet as
// pcapng packet comments, one comment per context, "Key: value" per line:
//
//	PID: 1234\nCmd: /usr/bin/curl\nArgs: curl https://example.com
//	ThreadId: 1240\nThreadName: curl
//	UserId: 1000\nGroupId: 1000
//	ParentPID: 1200\nParentCmd: /usr/bin/bash\nParentArgs: bash
//	ContainerName: web\nContainerId: 6c1…\nContainerImage: nginx:1.25\nContainerLabels: {…}
//	PodName: web-0\nPodNamespace: default\nPodUID: …\nPodLabels: {…}\nPodAnnotations: {…}
//
// (older versions wrote "Command:" for "Cmd:"). The converter gathers the
// comments of the packets carrying an exchange into entry._packetComments,
// request packets first, without repeats. A key seen again starts the next
// packet's process, so an exchange whose packets name several processes
// gives several.

// PtcpdumpName names the source in summaries.
const PtcpdumpName = "ptcpdump process comments"

// ptcpdumpKey maps ptcpdump's comment keys to where they go in _process:
// a field, or a field of the "parent", "container" or "pod" object.
var ptcpdumpKey = map[string][2]string{
	"PID":             {"", "pid"},
	"Cmd":             {"", "cmd"},
	"Command":         {"", "cmd"},
	"Args":            {"", "args"},
	"ThreadId":        {"", "threadId"},
	"TID":             {"", "threadId"},
	"ThreadName":      {"", "threadName"},
	"UserId":          {"", "userId"},
	"GroupId":         {"", "groupId"},
	"ParentPID":       {"parent", "pid"},
	"ParentCmd":       {"parent", "cmd"},
	"ParentCommand":   {"parent", "cmd"},
	"ParentArgs":      {"parent", "args"},
	"ContainerName":   {"container", "name"},
	"ContainerId":     {"container", "id"},
	"ContainerImage":  {"container", "image"},
	"ContainerLabels": {"container", "labels"},
	"PodName":         {"pod", "name"},
	"PodNamespace":    {"pod", "namespace"},
	"PodUID":          {"pod", "uid"},
	"PodLabels":       {"pod", "labels"},
	"PodAnnotations":  {"pod", "annotations"},
}

// numeric fields become JSON numbers when they parse.
var ptcpdumpNumeric = map[string]bool{"pid": true, "threadId": true, "userId": true, "groupId": true}

// ParsePtcpdumpComments returns the processes named by ptcpdump packet
// comments, in order, without repeats. Comments that are not ptcpdump's
// ("hello", an analyst's note) are ignored.
func ParsePtcpdumpComments(comments []string) []map[string]any {
	var out []map[string]any
	var cur map[string]any
	seen := map[string]bool{} // keys of cur, to see where a packet's ends
	flush := func() {
		if cur != nil && !slices.ContainsFunc(out, func(p map[string]any) bool { return reflect.DeepEqual(p, cur) }) {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, c := range comments {
		for _, line := range strings.Split(c, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			dest, ok := ptcpdumpKey[k]
			if !ok {
				continue
			}
			id := dest[0] + "." + dest[1]
			if seen[id] {
				flush()
				seen = map[string]bool{}
			}
			seen[id] = true
			if cur == nil {
				cur = map[string]any{}
			}
			var val any = v
			if ptcpdumpNumeric[dest[1]] {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					val = n
				}
			}
			if dest[0] == "" {
				cur[dest[1]] = val
				continue
			}
			sub, _ := cur[dest[0]].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				cur[dest[0]] = sub
			}
			sub[dest[1]] = val
		}
	}
	flush()
	return out
}

// Ptcpdump returns the enricher that attaches the process named by
// ptcpdump's packet comments as entry._process; when the packets of an
// exchange name several processes, entry._processes lists them all (the
// first is _process).
func Ptcpdump() Enricher { return &ptcpdumpEnricher{} }

type ptcpdumpEnricher struct {
	withComments, attached, several int
	pids                            map[int64]bool
}

func (p *ptcpdumpEnricher) Name() string { return PtcpdumpName }

func (p *ptcpdumpEnricher) Enrich(i int, e *har.Entry) error {
	var comments []string
	switch t := e.Extra["_packetComments"].(type) {
	case []string:
		comments = t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				comments = append(comments, s)
			}
		}
	case string:
		comments = []string{t}
	}
	if len(comments) == 0 {
		return nil
	}
	p.withComments++
	procs := ParsePtcpdumpComments(comments)
	if len(procs) == 0 {
		return nil
	}
	p.attached++
	e.Extra.Set("_process", procs[0])
	if len(procs) > 1 {
		p.several++
		list := make([]any, len(procs))
		for i, x := range procs {
			list[i] = x
		}
		e.Extra.Set("_processes", list)
	}
	if p.pids == nil {
		p.pids = map[int64]bool{}
	}
	for _, x := range procs {
		if pid, ok := x["pid"].(int64); ok {
			p.pids[pid] = true
		}
	}
	return nil
}

// Report implements Enricher; it says nothing when no entry had packet
// comments (a HAR from elsewhere, a capture not made by ptcpdump).
func (p *ptcpdumpEnricher) Report(s *Summary) {
	if p.withComments == 0 {
		return
	}
	r := &SourceReport{Source: PtcpdumpName}
	r.add("entries with packet comments", p.withComments)
	r.add("entries with a process", p.attached)
	r.add("entries whose packets name several processes", p.several)
	r.add("distinct PIDs", len(p.pids))
	if p.withComments > p.attached {
		r.Notes = append(r.Notes, fmt.Sprintf("%d entries have packet comments that are not ptcpdump's", p.withComments-p.attached))
	}
	s.Sources = append(s.Sources, r)
}
