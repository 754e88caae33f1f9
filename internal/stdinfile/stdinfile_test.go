package stdinfile

import (
	"os"
	"strings"
	"testing"
)

func TestSpool(t *testing.T) {
	in, cleanup, err := Spool(strings.NewReader("data"), []string{"a.pcap", "-"})
	if err != nil {
		t.Fatal(err)
	}
	if in[0] != "a.pcap" || Display(in[0]) != "a.pcap" || Display(in[1]) != "-" {
		t.Errorf("inputs %q, shown as %q %q", in, Display(in[0]), Display(in[1]))
	}
	if b, err := os.ReadFile(in[1]); err != nil || string(b) != "data" {
		t.Errorf("spooled %q, %v", b, err)
	}
	cleanup()
	if _, err := os.Stat(in[1]); !os.IsNotExist(err) {
		t.Errorf("not removed: %v", err)
	}
	if _, _, err := Spool(strings.NewReader(""), []string{"-", "-"}); err == nil || err.Error() != "standard input given twice" {
		t.Errorf("twice: %v", err)
	}
}
