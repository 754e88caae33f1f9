package enrich

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tracewire/tracewire/har"
)

// Some runtimes write provenance times in local time with a "Z" suffix, so
// on a host in UTC−5 every event is 5 h early and none falls within the
// window of its request. The shift is estimated from the events whose
// sample is found in exactly one request of the whole capture, whatever its
// time: each gives an offset (the request's time minus the event's),
// rounded to a quarter of an hour (time zones' granularity; an event is
// logged seconds before its request, which the rounding absorbs). When at
// least two such events exist and all their offsets agree, that offset is
// added to every event's time; when they disagree, nothing is shifted and
// the summary says so. A shift of zero changes nothing.

// shiftQuantum is what estimated offsets are rounded to.
const shiftQuantum = 15 * time.Minute

// minShiftEvents is the fewest agreeing events a shift is estimated from.
const minShiftEvents = 2

// TimeShift says that a source's times were shifted before pairing.
type TimeShift struct {
	// Seconds is what was added to the source's times.
	Seconds float64 `json:"seconds"`
	// Events counts the events the shift was estimated from; 0 when it was
	// set by hand.
	Events int `json:"events,omitempty"`
}

func (s *TimeShift) String() string {
	d := time.Duration(s.Seconds * float64(time.Second))
	sign := "+"
	if d < 0 {
		sign = "-"
		d = -d
	}
	if s.Events == 0 {
		return fmt.Sprintf("times shifted by %s%v (set by hand)", sign, d)
	}
	return fmt.Sprintf("times shifted by %s%v (estimated: %d events each found in exactly one request agree)", sign, d, s.Events)
}

// shiftEstimator finds, for each network event, the requests that carry
// its sample, whatever their time.
type shiftEstimator struct {
	evs []*provEvent
	// byPrefix indexes events by the first 4 bytes of their samples.
	byPrefix map[uint32][]int32
	hits     []int32   // requests carrying each event's sample (at most 2 counted)
	at       []float64 // the time of the first such request
	seen     []int32   // 1 + the last entry each event was found in
}

func newShiftEstimator(evs []*provEvent) *shiftEstimator {
	s := &shiftEstimator{evs: evs, byPrefix: map[uint32][]int32{}, hits: make([]int32, len(evs)), at: make([]float64, len(evs)), seen: make([]int32, len(evs))}
	for i, ev := range evs {
		k := binary.LittleEndian.Uint32([]byte(ev.sample))
		s.byPrefix[k] = append(s.byPrefix[k], int32(i))
	}
	return s
}

// observe counts the events whose samples request i carries.
func (s *shiftEstimator) observe(i int, e *har.Entry) {
	if len(s.evs) == 0 {
		return
	}
	ts := requestTime(e)
	for _, h := range requestText(&e.Request) {
		for j := 0; j+MinProvenanceSample <= len(h); j++ {
			ids, ok := s.byPrefix[binary.LittleEndian.Uint32(h[j:])]
			if !ok {
				continue
			}
			for _, id := range ids {
				if s.seen[id] == int32(i)+1 || !bytes.HasPrefix(h[j:], []byte(s.evs[id].sample)) {
					continue
				}
				s.seen[id] = int32(i) + 1
				if s.hits[id] == 0 {
					s.at[id] = ts
				}
				if s.hits[id] < 2 {
					s.hits[id]++
				}
			}
		}
	}
}

// estimate returns the shift to apply, or a note saying why there is none
// (empty when there is nothing to say).
func (s *shiftEstimator) estimate() (time.Duration, int, string) {
	votes := map[time.Duration]int{}
	n := 0
	for i, ev := range s.evs {
		if s.hits[i] != 1 || s.at[i] == 0 {
			continue
		}
		off := time.Duration((s.at[i] - ev.t) * float64(time.Second))
		q := time.Duration(math.Round(float64(off)/float64(shiftQuantum))) * shiftQuantum
		votes[q]++
		n++
	}
	switch {
	case len(votes) == 0:
		return 0, 0, ""
	case len(votes) > 1:
		var parts []string
		for q, c := range votes {
			parts = append(parts, fmt.Sprintf("%v ×%d", q, c))
		}
		sort.Strings(parts)
		return 0, 0, "times not shifted: the events found in exactly one request suggest different clock offsets (" + strings.Join(parts, ", ") + "); set --provenance-time-shift"
	}
	var q time.Duration
	for k := range votes {
		q = k
	}
	if q == 0 {
		return 0, 0, ""
	}
	if n < minShiftEvents {
		return 0, 0, fmt.Sprintf("times not shifted: only %d event found in exactly one request suggests a clock offset of %v; set --provenance-time-shift", n, q)
	}
	return q, n, ""
}

// provPlanner is the provenance enricher that estimates the shift first.
type provPlanner struct {
	*provEnricher
	est *shiftEstimator
}

// Observe implements Planner.
func (pp *provPlanner) Observe(i int, e *har.Entry) error {
	pp.est.observe(i, e)
	return nil
}

// Plan implements Planner.
func (pp *provPlanner) Plan(ctx context.Context) error {
	d, n, note := pp.est.estimate()
	pp.est = nil
	pp.shift, pp.note = d, note
	if d != 0 {
		pp.report = &TimeShift{Seconds: d.Seconds(), Events: n}
	}
	return nil
}

// needsRequests says that Observe reads requests, which a skimmed first
// pass does not carry.
func (pp *provPlanner) needsRequests() bool { return true }
