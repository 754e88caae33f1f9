package report

import (
	"testing"

	"github.com/tracewire/tracewire/enrich"
)

// TestTimeShiftText: the methodology's time shift says in English what
// enrich.TimeShift.String says, and in German the same in German.
func TestTimeShiftText(t *testing.T) {
	for _, tt := range []struct {
		ts enrich.TimeShift
		de string
	}{
		{enrich.TimeShift{Seconds: -18000, Events: 3}, "Zeiten um -5h0m0s verschoben (geschätzt: 3 Ereignisse, die jeweils in genau einer Anfrage gefunden wurden, stimmen darin überein)"},
		{enrich.TimeShift{Seconds: 1.5}, "Zeiten um +1.5s verschoben (von Hand gesetzt)"},
	} {
		if got, want := timeShiftText(&tt.ts, newTranslator("en")), tt.ts.String(); got != want {
			t.Errorf("en: %q, want %q", got, want)
		}
		if got := timeShiftText(&tt.ts, newTranslator("de")); got != tt.de {
			t.Errorf("de: %q, want %q", got, tt.de)
		}
	}
}
