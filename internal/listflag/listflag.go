// Package listflag reads the values of a repeatable command-line option
// that also takes comma-separated lists (--iface eth0,wlan0 --iface lo,
// --formats html,md). The CLI and the library packages that parse such
// options (batch, collect) share it so that they split alike; they may not
// import each other.
package listflag

import "strings"

// Split splits each value at commas and trims white space around the
// items, dropping empty ones; the items keep their order, repeats included.
func Split(values []string) []string {
	var out []string
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}
