package pcap_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap"
)

// Convert streams the HTTP exchanges of captures as HAR entries, in
// request order; TLS is decrypted with the key logs in Options and the
// secrets a pcapng embeds (as the sample capture does).
func ExampleConvert() {
	sum, err := pcap.Convert(context.Background(), []string{"../testdata/sample/tracking.pcapng"}, pcap.Options{},
		func(e *har.Entry) error {
			u := e.Request.URL
			if len(u) > 60 {
				u = u[:60] + "…"
			}
			fmt.Println(e.Request.Method, u, e.Response.Status)
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d packets, %d TCP connections, %d entries\n", sum.Packets, sum.Conns, sum.Entries)
	// Output:
	// GET http://api.example-weather.test/v2/forecast?city=Berlin&unit… 200
	// GET http://api.example-weather.test/v2/alerts?lat=52.5200&lon=13… 200
	// GET https://app-measurement.com/config/app/1:123456789012:androi… 304
	// POST https://app-measurement.com/a 204
	// POST https://graph.facebook.com/v17.0/123456789012345/activities 200
	// POST https://app.adjust.com/session 200
	// GET http://cdn.example-weather.test/icons/cloudy.png 200
	// POST https://region1.google-analytics.com/g/collect?v=2&tid=G-EXA… 204
	// 110 packets, 6 TCP connections, 8 entries
}
