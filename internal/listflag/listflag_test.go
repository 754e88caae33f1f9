package listflag

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   []string
	}{
		{"none", nil, nil},
		{"one", []string{"eth0"}, []string{"eth0"}},
		{"commas and spaces", []string{"eth0, wlan0", "", "lo"}, []string{"eth0", "wlan0", "lo"}},
		{"empty items dropped", []string{",html,, ,md,"}, []string{"html", "md"}},
		{"only separators", []string{",", " , ", ""}, nil},
		{"repeats kept in order", []string{"pdf,html", "pdf"}, []string{"pdf", "html", "pdf"}},
		{"inner spaces kept", []string{" a b ,c"}, []string{"a b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Split(tc.values); !slices.Equal(got, tc.want) {
				t.Errorf("Split(%q) = %q, want %q", tc.values, got, tc.want)
			}
		})
	}
}
