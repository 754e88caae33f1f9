package batch_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tracewire/tracewire/batch"
)

// Run with the zero Options analyses every capture and HAR file found and
// writes nothing; with Options.Out it writes reports and resumes.
func ExampleRun() {
	s, err := batch.Run(context.Background(), []string{"../testdata/sample"}, batch.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range s.Results {
		fmt.Println(r.ID, r.Status, r.Findings, "findings")
	}
	// Output: sample/tracking.pcapng ok 63 findings
}
