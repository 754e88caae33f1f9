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
