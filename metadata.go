package tracewire

import (
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/report"
)

// marshalTracker writes a tracker and its adapters as JSON, the canonical
// form the database hash is taken over: every exported field (so a field
// added to the format counts without a change here) but the links between
// tracker and adapters and the file name. JSON rather than the YAML of
// the files because it is fifty times faster and a batch run waits for it.
func marshalTracker(t *adapters.Tracker) ([]byte, error) {
	ads := make([]map[string]any, len(t.Adapters))
	for i, a := range t.Adapters {
		ads[i] = exported(a, "Tracker")
	}
	return json.Marshal(map[string]any{"tracker": exported(t, "Adapters", "File"), "adapters": ads})
}

// exported returns the exported fields of the struct p points to, but
// those named in skip.
func exported(p any, skip ...string) map[string]any {
	v := reflect.ValueOf(p).Elem()
	out := map[string]any{}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || slices.Contains(skip, f.Name) {
			continue
		}
		out[f.Name] = v.Field(i).Interface()
	}
	return out
}

// subjectOf reads what a HAR log says about the app, device or backend:
// tweasel's "_tweasel" log extension (written by cyanoacrylate and read by
// ReportHAR) and tracewire's own "_subject", which has the form of
// report.Subject.
func subjectOf(l *har.Log) *report.Subject {
	s := &report.Subject{}
	if l.Creator.Name != "" {
		s.Recorder = strings.TrimSpace(l.Creator.Name + " " + l.Creator.Version)
		if l.Creator.Comment != "" {
			s.Recorder += " (" + l.Creator.Comment + ")"
		}
	}
	if tw, ok := l.Extra["_tweasel"].(map[string]any); ok {
		if apps, ok := tw["apps"].([]any); ok && len(apps) > 0 {
			if m, ok := apps[0].(map[string]any); ok {
				s.App = &report.App{
					ID: str(m["id"]), Name: str(m["name"]), Version: str(m["version"]),
					VersionCode: str(m["versionCode"]), Platform: str(m["platform"]), MD5: str(m["md5"]),
				}
			}
		}
		if m, ok := tw["device"].(map[string]any); ok {
			s.Device = &report.Device{
				Platform: str(m["platform"]), Manufacturer: str(m["manufacturer"]), Model: str(m["model"]),
				OSVersion: str(m["osVersion"]), OSBuild: str(m["osBuild"]), RunTarget: str(m["runTarget"]),
			}
			if s.Device.Model == "" {
				s.Device.Model = str(m["modelCodeName"])
			}
		}
		s.RecordingStart, s.RecordingEnd = str(tw["startDate"]), str(tw["endDate"])
		if m, ok := tw["versions"].(map[string]any); ok {
			for k, v := range m {
				if sv := str(v); sv != "" {
					s.Tools = append(s.Tools, report.NameValue{Name: k, Value: sv})
				}
			}
			sort.Slice(s.Tools, func(i, j int) bool { return s.Tools[i].Name < s.Tools[j].Name })
		}
	}
	if v, ok := l.Extra["_subject"]; ok {
		if b, err := json.Marshal(v); err == nil {
			var own report.Subject
			if json.Unmarshal(b, &own) == nil {
				if own.App != nil {
					s.App = own.App
				}
				if own.Device != nil {
					s.Device = own.Device
				}
				if own.Backend != nil {
					s.Backend = own.Backend
				}
			}
		}
	}
	if s.App == nil && s.Device == nil && s.Backend == nil && s.Recorder == "" && s.RecordingStart == "" && len(s.Tools) == 0 {
		return nil
	}
	return s
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func appID(a *Analysis) string {
	if a.Subject != nil && a.Subject.App != nil {
		return a.Subject.App.ID
	}
	return ""
}

// experimentApp reads the analysed app's ID from a PiRogue
// experiment.json: "target" (a package name, or an object with
// "package_name", "package" or "id"), "app" (the same object) or
// "package_name" at the top; "" when it names none or cannot be read
// (the experiment's files are read, and their errors reported, by
// enrich.ReadExperiment).
func experimentApp(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var top map[string]any
	if json.Unmarshal(b, &top) != nil {
		return ""
	}
	fromObject := func(v any) string {
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case map[string]any:
			for _, k := range []string{"package_name", "package", "id"} {
				if s, ok := x[k].(string); ok && strings.TrimSpace(s) != "" {
					return strings.TrimSpace(s)
				}
			}
		}
		return ""
	}
	for _, k := range []string{"target", "app", "package_name"} {
		if id := fromObject(top[k]); id != "" {
			return id
		}
	}
	return ""
}
