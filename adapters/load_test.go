package adapters

import "testing"

func TestDefaultLoads(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Trackers) == 0 || len(db.Adapters) == 0 {
		t.Fatalf("empty database: %d trackers, %d adapters", len(db.Trackers), len(db.Adapters))
	}
	for _, a := range db.Adapters {
		if db.Adapter(a.ID()) != a {
			t.Errorf("Adapter(%q) does not find it", a.ID())
		}
	}
}

// FuzzParseFile checks that the loader of adapter files and of the host
// directory returns an error, never a panic, on any text.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(testFile))
	f.Add([]byte("companies:\n- {name: Example, domains: [example.com]}\n"))
	f.Add([]byte("tracker: {slug: x, name: X}\nadapters:\n- {slug: a, name: A, endpointUrls: [{regex: '('}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseFile("x.yaml", b)
		_, _ = ParseHosts(b)
	})
}
