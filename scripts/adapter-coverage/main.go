// Command adapter-coverage measures how many of the data-carrying requests
// to tracking companies' hosts (adapters/hosts/hosts.yaml) in a directory
// of HAR files get an adapter finding, and lists the hosts of the rest:
//
//	go run ./scripts/adapter-coverage ../shared/corpus/har
//
// A request carries data when its query or body is not empty; it is
// counted when its host is in the host directory or an adapter handles it.
package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "adapter-coverage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: adapter-coverage DIR")
	}
	m, err := match.New(match.Options{})
	if err != nil {
		return err
	}
	var files []string
	err = filepath.WalkDir(args[0], func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".har") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	var found, quiet, undecoded, unreadable int
	missed := map[string]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		r := har.NewReader(fh)
		err = m.StreamHAR(context.Background(), r, 1, func(res *match.Result) error {
			switch {
			case res.Undecoded != nil:
				undecoded++
				missed[res.Undecoded.Company.Name+" "+res.Undecoded.Host+res.Undecoded.Path]++
			case res.Adapter != "" && hasAdapterFinding(res):
				found++
			case res.Adapter != "" && carriesData(res.Entry.URL, res):
				quiet++
			}
			return nil
		})
		fh.Close()
		if err != nil {
			unreadable++ // the corpus holds broken HARs on purpose
		}
	}
	total := found + quiet + undecoded
	if total == 0 {
		return fmt.Errorf("no requests to tracking companies in %s", args[0])
	}
	fmt.Printf("%d HAR files (%d not read to the end)\n", len(files), unreadable)
	fmt.Printf("data-carrying requests to tracking companies: %d\n", total)
	fmt.Printf("  with an adapter finding:          %d (%.1f%%)\n", found, 100*float64(found)/float64(total))
	fmt.Printf("  decoded by an adapter, no finding: %d\n", quiet)
	fmt.Printf("  not decoded (listed as undecoded): %d\n", undecoded)
	keys := make([]string, 0, len(missed))
	for k := range missed {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if missed[keys[i]] != missed[keys[j]] {
			return missed[keys[i]] > missed[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Printf("  %4d  %s\n", missed[k], k)
	}
	return nil
}

func hasAdapterFinding(r *match.Result) bool {
	for _, f := range r.Findings {
		if f.Source == match.SourceAdapter {
			return true
		}
	}
	return false
}

// carriesData is true for a request an adapter handled with a query or a
// body (the steps then read something).
func carriesData(url string, r *match.Result) bool {
	if strings.Contains(url, "?") {
		return true
	}
	for _, s := range r.Steps {
		if s.Status == "ok" {
			return true
		}
	}
	return false
}
