package report

import (
	"fmt"

	"github.com/tracewire/tracewire/match"
)

// AddAnalysis writes what an analysis found as detect writes the results
// it matches itself: one result per entry with findings, in entry order,
// the number of entries read, the analysis's warnings (those of entries
// left out as malformed recorded as skips) and, for the json document in
// full, the build, ID and inputs.
func (d *DetectWriter) AddAnalysis(a *Analysis) error {
	for i := 0; i < len(a.Findings); {
		j := i
		for j < len(a.Findings) && a.Findings[j].Entry.Index == a.Findings[i].Entry.Index {
			j++
		}
		r := match.Result{Entry: a.Findings[i].Entry, Adapter: a.Findings[i].Adapter, Findings: a.Findings[i:j], Parsed: a.Entry(a.Findings[i].Entry.Index)}
		if err := d.Add(&r); err != nil {
			return err
		}
		i = j
	}
	d.SetEntries(a.EntriesRead)
	if d.o.Format == "json" && !d.o.ValuesOnly {
		d.SetMeta(&DetectMeta{Tool: a.Tool, ID: a.ID, Inputs: a.Inputs})
	}
	isSkipped := map[int]bool{}
	for _, idx := range a.SkippedEntries {
		isSkipped[idx] = true
	}
	for _, w := range a.Warnings {
		var idx int
		if _, err := fmt.Sscanf(w, "entry %d skipped as malformed", &idx); err == nil && isSkipped[idx] {
			d.Skip(idx, w)
			continue
		}
		d.Warn(w)
	}
	return nil
}
