package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tracewire/tracewire/i18n"
)

// WriteSenders lists, after detect's table, the process and stack that
// sent each request with findings, from the enrichment's _stacktrace (a
// tracewire collect folder, PiRogue socket traces, eBPF events), requests
// numbered from 1 as in the table. Nothing when no request has one.
func WriteSenders(w io.Writer, entries []Evidence, lang string) error {
	var b strings.Builder
	for _, ev := range entries {
		if ev.Entry == nil {
			continue
		}
		st, ok := ev.Entry.Request.Extra["_stacktrace"].(map[string]any)
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\n" + i18n.UI(lang, "detect.sentBy") + "\n")
		}
		proc, _ := st["process"].(string)
		fmt.Fprintf(&b, "#%d %s", ev.Index+1, proc) // numbered from 1, as in the table
		var ids []string
		if s := fmt.Sprint(st["pid"]); st["pid"] != nil {
			ids = append(ids, "pid "+s)
		}
		if s := fmt.Sprint(st["threadId"]); st["threadId"] != nil {
			ids = append(ids, i18n.UI(lang, "detect.thread")+" "+s)
		}
		if len(ids) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(ids, ", "))
		}
		if ev, _ := st["socketEventType"].(string); ev != "" {
			fmt.Fprintf(&b, ", %s", ev)
		}
		b.WriteString("\n")
		n := 0
		frame := func(s string) {
			if n < maxSenderFrames {
				fmt.Fprintf(&b, "    %s\n", s)
			} else if n == maxSenderFrames {
				b.WriteString("    …\n")
			}
			n++
		}
		if list, ok := st["stack"].([]any); ok {
			for _, f := range list {
				if m, ok := f.(map[string]any); ok {
					s, _ := m["str"].(string)
					frame(s)
				}
			}
		}
		if list, ok := st["nativeStack"].([]any); ok {
			for _, f := range list {
				m, ok := f.(map[string]any)
				if !ok {
					continue
				}
				fn, _ := m["function"].(string)
				if fn == "" {
					fn = "?"
					if a, _ := m["address"].(string); a != "" {
						fn = a
					}
				}
				s := fn
				if file, _ := m["file"].(string); file != "" {
					s += " " + file
					if l := fmt.Sprint(m["line"]); m["line"] != nil {
						s += ":" + l
					}
				}
				if mod, _ := m["module"].(string); mod != "" {
					s += " [" + mod + "]"
				}
				frame(s)
			}
		}
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxSenderFrames bounds the frames listed per request.
const maxSenderFrames = 24
