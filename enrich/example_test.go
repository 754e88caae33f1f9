package enrich_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/tracewire/tracewire/enrich"
)

// A Pipeline runs enrichers over the entries of a source (here a HAR
// file) and hands each enriched entry on. A backend's provenance log says
// whose data each request carried: those requests get _owners.
func ExamplePipeline() {
	f, err := os.Open("../testdata/report/provenance.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	prov, err := enrich.ReadProvenance(f, "provenance.jsonl")
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	p := &enrich.Pipeline{Enrichers: []enrich.Enricher{prov.Enricher(enrich.DefaultProvenanceOptions())}}
	src := &enrich.HARFile{Path: "../testdata/report/shop-backend.har"}
	for e, err := range p.Enrich(context.Background(), src.All()) {
		if err != nil {
			log.Fatal(err)
		}
		if owners, ok := e.Extra["_owners"]; ok {
			fmt.Println(e.Request.Method, e.Request.URL, "carried data of", owners)
		}
	}
	if err := p.Summary().WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// POST https://api.payments.example/v1/charges carried data of [alice@example.com]
	// POST https://graph.facebook.com/v19.0/1234567890/events carried data of [alice@example.com]
	// enrich: 2 entries
	// provenance log (provenance.jsonl):
	//   records: 2 read, 2 used
	//   network events: 1
	//   network events found in a request: 1
	//   network events found in no request: 0
	//   entries with owners: 2
	//   other sink events: 1
	//   owners: 1
	//   owner alice@example.com: file_write ×1; to /var/log/shop/audit.log
}
