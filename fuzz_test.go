package tracewire

import (
	"bytes"
	"testing"
)

// FuzzPeekTime: reading an entry's time from raw JSON never panics and
// finds only a member that is there.
func FuzzPeekTime(f *testing.F) {
	f.Add([]byte(`{"startedDateTime":"2023-04-07T13:04:57.078662+00:00"}`))
	f.Add([]byte(`{"_timestamp": 1700000000.25}`))
	f.Add([]byte(`{"a":"\"startedDateTime\": \"2001-01-01T00:00:00Z\""}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !peekTime(raw).IsZero() && !bytes.Contains(raw, []byte(`"startedDateTime"`)) && !bytes.Contains(raw, []byte(`"_timestamp"`)) {
			t.Fatalf("a time from nothing: %q", raw)
		}
	})
}
