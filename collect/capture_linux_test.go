//go:build linux

package collect

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestCaptureStop captures numbered UDP datagrams on lo and stops the
// capture right after the last one was sent, after a pause, and with TCP
// traffic going on: stop must return promptly and the capture must hold
// every datagram sent before it.
func TestCaptureStop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capturing packets needs root")
	}
	for _, c := range []struct {
		name  string
		pause time.Duration // between the last datagram and stop
		tcp   bool          // bulk TCP traffic until stop
	}{
		{"at once", 0, false},
		{"after a pause", 300 * time.Millisecond, false},
		{"under load", 0, true},
		{"under load after a pause", 50 * time.Millisecond, true},
		{"at once again", 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.pcapng")
			capt, err := startCapture(path, []string{"lo"})
			if err != nil {
				t.Fatal(err)
			}
			rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			go func() {
				b := make([]byte, 2048)
				for {
					if _, err := rx.Read(b); err != nil {
						return
					}
				}
			}()
			stopTCP := make(chan struct{})
			tcpDone := make(chan struct{})
			if c.tcp {
				ln, err := net.Listen("tcp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				go func() {
					conn, err := ln.Accept()
					if err == nil {
						io.Copy(io.Discard, conn)
						conn.Close()
					}
				}()
				conn, err := net.Dial("tcp4", ln.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					defer close(tcpDone)
					defer conn.Close()
					buf := make([]byte, 256<<10)
					for {
						select {
						case <-stopTCP:
							return
						default:
						}
						if _, err := conn.Write(buf); err != nil {
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			} else {
				close(tcpDone)
			}
			tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			port := uint16(tx.LocalAddr().(*net.UDPAddr).Port)
			const n = 2000
			var msg [8]byte
			for i := uint64(0); i < n; i++ {
				binary.BigEndian.PutUint64(msg[:], i)
				if _, err := tx.Write(msg[:]); err != nil {
					t.Fatal(err)
				}
				if i%100 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			time.Sleep(c.pause)
			start := time.Now()
			_, warnings, err := capt.stop()
			took := time.Since(start)
			close(stopTCP)
			<-tcpDone
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("stop took %v", took)
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
			if took > time.Second {
				t.Errorf("stop took %v", took)
			}
			seen := readSeqs(t, path, port)
			missing := 0
			for i := uint64(0); i < n; i++ {
				if !seen[i] {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%d of %d datagrams sent before stop are not in the capture", missing, n)
			}
		})
	}
}

// readSeqs returns the sequence numbers of the datagrams from port in a
// capture.
func readSeqs(t *testing.T, path string, port uint16) map[uint64]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok || uint16(u.SrcPort) != port || len(u.Payload) != 8 {
			continue
		}
		seq := binary.BigEndian.Uint64(u.Payload)
		if seen[seq] {
			t.Errorf("datagram %d captured twice", seq)
		}
		seen[seq] = true
	}
	return seen
}
