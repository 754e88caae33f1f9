package tls

// Sessions recorded from OpenSSL's s_client and s_server, which do what Go's
// crypto/tls cannot be made to do: TLS 1.3 with AES-256-GCM or ChaCha20,
// KeyUpdate, 0-RTT early data, encrypt-then-MAC, renegotiation and session
// ID resumption. A Go proxy between them records the bytes; the recordings
// are fixtures in testdata/openssl (regenerate with -update-openssl, which
// needs the openssl command).

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

var updateOpenSSL = flag.Bool("update-openssl", false, "re-record testdata/openssl with the openssl command")

type fixture struct {
	Name    string
	Command []string // how the connections were made, for the reader
	Keylog  string
	RSAKey  string `json:",omitempty"` // the server's key, for RSA key exchange
	Conns   []fixtureConn
}

type fixtureConn struct {
	Wires []fixtureWire
	// Sent is what the client and the server sent in clear.
	Sent [2]string
}

type fixtureWire struct {
	Dir  int
	Data []byte
}

// step is one line typed into s_client (side 0) or s_server (side 1).
type step struct {
	side int
	line string
	// command lines (K, R) are s_client commands, not data.
	command bool
}

type opensslScenario struct {
	name        string
	server      []string
	client      []string
	steps       []step
	earlyData   string // sent as 0-RTT data by a second, resumed connection
	twoConns    bool   // a second connection resumes the first
	noKeylog    bool   // decrypt with the RSA key only
	wantSuite   string
	wantVersion string
}

var opensslScenarios = []opensslScenario{
	{name: "tls13-aes256gcm-keyupdate", server: []string{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"},
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}, {0, "K\n", true}, {0, "3 after key update\n", false}, {1, "4 server after key update\n", false}, {0, "K\n", true}, {0, "5 twice\n", false}, {1, "6 twice\n", false}},
		wantSuite: "TLS_AES_256_GCM_SHA384", wantVersion: "TLS 1.3"},
	{name: "tls13-chacha20-keyupdate", server: []string{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"},
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}, {0, "K\n", true}, {0, "3 after key update\n", false}, {1, "4 server after key update\n", false}},
		wantSuite: "TLS_CHACHA20_POLY1305_SHA256", wantVersion: "TLS 1.3"},
	{name: "tls13-early-data", server: []string{"-tls1_3", "-early_data"}, earlyData: "0 early request\n", twoConns: true,
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}},
		wantSuite: "TLS_AES_256_GCM_SHA384", wantVersion: "TLS 1.3"},
	{name: "tls12-cbc-etm", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384"},
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}},
		wantSuite: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", wantVersion: "TLS 1.2"},
	{name: "tls12-renegotiation", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-client_renegotiation"},
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}, {0, "R\n", true}, {0, "3 after renegotiation\n", false}, {1, "4 server after renegotiation\n", false}},
		wantSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", wantVersion: "TLS 1.2"},
	{name: "tls12-rsa-session-id", server: []string{"-tls1_2", "-cipher", "AES128-SHA256", "-no_ticket"}, client: []string{"-no_ticket"}, twoConns: true, noKeylog: true,
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}},
		wantSuite: "TLS_RSA_WITH_AES_128_CBC_SHA256", wantVersion: "TLS 1.2"},
	{name: "tls11-dhe-aes128-sha", server: []string{"-tls1_1", "-cipher", "DHE-RSA-AES128-SHA:@SECLEVEL=0"}, client: []string{"-cipher", "DEFAULT:@SECLEVEL=0"},
		steps:     []step{{0, "1 hello\n", false}, {1, "2 from server\n", false}},
		wantSuite: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", wantVersion: "TLS 1.1"},
}

// TestOpenSSLSessions decrypts the recorded OpenSSL sessions and compares
// the plaintext with what was typed.
func TestOpenSSLSessions(t *testing.T) {
	if *updateOpenSSL {
		generateOpenSSLFixtures(t)
	}
	for _, sc := range opensslScenarios {
		t.Run(sc.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "openssl", sc.name+".json"))
			if err != nil {
				t.Fatalf("fixture missing (regenerate with -update-openssl): %v", err)
			}
			var fx fixture
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			keys := NewKeys()
			if fx.RSAKey != "" {
				if err := keys.AddRSAKey([]byte(fx.RSAKey)); err != nil {
					t.Fatal(err)
				}
			}
			if added, skipped := keys.AddKeyLog([]byte(fx.Keylog)); skipped != 0 || added == 0 && !sc.noKeylog {
				t.Fatalf("key log: %d added, %d skipped", added, skipped)
			}
			for i, fc := range fx.Conns {
				var ws []wire
				for _, w := range fc.Wires {
					ws = append(ws, wire{dir: stream.Dir(w.Dir), data: w.Data})
				}
				for sname, split := range splits {
					col, conn := run(keys, ws, split)
					for d := range 2 {
						if string(col.got[d]) != fc.Sent[d] {
							t.Errorf("connection %d, %s, %s: got %q, want %q", i+1, sname, stream.Dir(d), col.got[d], fc.Sent[d])
						}
					}
					if len(col.notes) != 0 {
						t.Errorf("connection %d, %s: notes %v", i+1, sname, col.notes)
					}
					if conn.CipherSuite != sc.wantSuite || conn.TLSVersion != sc.wantVersion {
						t.Errorf("connection %d: %q %q, want %q %q", i+1, conn.TLSVersion, conn.CipherSuite, sc.wantVersion, sc.wantSuite)
					}
				}
			}
			if sc.earlyData != "" {
				// Without the early secret (the -noearly key log of the
				// corpus), the early data is reported and the rest decrypts.
				var kl []string
				for _, l := range strings.Split(fx.Keylog, "\n") {
					if !strings.HasPrefix(l, "CLIENT_EARLY_TRAFFIC_SECRET") {
						kl = append(kl, l)
					}
				}
				k := NewKeys()
				k.AddKeyLog([]byte(strings.Join(kl, "\n")))
				fc := fx.Conns[len(fx.Conns)-1]
				var ws []wire
				for _, w := range fc.Wires {
					ws = append(ws, wire{dir: stream.Dir(w.Dir), data: w.Data})
				}
				col, _ := run(k, ws, nil)
				if want := strings.TrimPrefix(fc.Sent[0], sc.earlyData); string(col.got[0]) != want {
					t.Errorf("without the early secret: client %q, want %q", col.got[0], want)
				}
				if string(col.got[1]) != fc.Sent[1] {
					t.Errorf("without the early secret: server %q", col.got[1])
				}
				if len(col.notes) != 1 || !strings.Contains(col.notes[0].Reason, "no CLIENT_EARLY_TRAFFIC_SECRET") {
					t.Errorf("notes %v", col.notes)
				}
				skipped := false
				for _, c := range col.chunks {
					skipped = skipped || c.Dir == stream.ClientToServer && c.Skip == -1
				}
				if !skipped {
					t.Errorf("the inner parser was not told that the early data is missing")
				}
			}
		})
	}
}

// generateOpenSSLFixtures records every scenario.
func generateOpenSSLFixtures(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("-update-openssl needs openssl: %v", err)
	}
	dir := t.TempDir()
	_, _, keyPEM := testCerts(t)
	rsaCert, _, _ := testCerts(t)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaCert.Certificate[0]})
	keyFile, certFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(rsaCert.Certificate[0]); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("testdata", "openssl")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sc := range opensslScenarios {
		keylog := filepath.Join(dir, sc.name+".keys")
		sess := filepath.Join(dir, sc.name+".sess")
		fx := fixture{Name: sc.name}
		if sc.noKeylog {
			fx.RSAKey = string(keyPEM)
		}
		nconn := 1
		if sc.twoConns || sc.earlyData != "" {
			nconn = 2
		}
		server := append([]string{"-cert", certFile, "-key", keyFile, "-naccept", fmt.Sprint(nconn)}, sc.server...)
		var clients [][]string
		var early []string
		for i := range nconn {
			client := append([]string{}, sc.client...)
			if !sc.noKeylog {
				client = append(client, "-keylogfile", keylog)
			}
			if nconn == 2 {
				if i == 0 {
					client = append(client, "-sess_out", sess)
				} else {
					client = append(client, "-sess_in", sess)
				}
			}
			e := ""
			if i == 1 && sc.earlyData != "" {
				ef := filepath.Join(dir, "early.txt")
				if err := os.WriteFile(ef, []byte(sc.earlyData), 0o600); err != nil {
					t.Fatal(err)
				}
				client = append(client, "-early_data", ef)
				e = sc.earlyData
			}
			clients = append(clients, client)
			early = append(early, e)
			fx.Command = append(fx.Command, "openssl s_client "+strings.Join(client, " "))
		}
		fx.Command = append([]string{"openssl s_server " + strings.Join(server, " ")}, fx.Command...)
		fx.Conns = recordOpenSSL(t, server, clients, sc.steps)
		for i := range fx.Conns {
			fx.Conns[i].Sent[0] = early[i] + fx.Conns[i].Sent[0]
		}
		if !sc.noKeylog {
			kl, err := os.ReadFile(keylog)
			if err != nil {
				t.Fatal(err)
			}
			fx.Keylog = string(kl)
		}
		b, err := json.MarshalIndent(fx, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, sc.name+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recordOpenSSL runs one s_server and, one after the other, an s_client
// for each argument list, with a recording proxy between them, typing the
// steps into each connection.
func recordOpenSSL(t *testing.T, serverArgs []string, clients [][]string, steps []step) []fixtureConn {
	t.Helper()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	srvAddr := free()
	srv := exec.Command("openssl", append([]string{"s_server", "-accept", srvAddr}, serverArgs...)...)
	srvIn, _ := srv.StdinPipe()
	srvOut, _ := srv.StdoutPipe()
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(srvOut)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "ACCEPT") {
				once = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("s_server did not start")
	}
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	var out []fixtureConn
	for _, clientArgs := range clients {
		var mu sync.Mutex
		var wires []fixtureWire
		done := make(chan bool)
		go func() {
			defer close(done)
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", srvAddr)
			if err != nil {
				c.Close()
				return
			}
			var wg sync.WaitGroup
			relay := func(dst, src net.Conn, dir int) {
				defer wg.Done()
				buf := make([]byte, 65536)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						mu.Lock()
						wires = append(wires, fixtureWire{Dir: dir, Data: bytes.Clone(buf[:n])})
						mu.Unlock()
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
			wg.Add(2)
			go relay(s, c, 0)
			go relay(c, s, 1)
			wg.Wait()
			c.Close()
			s.Close()
		}()
		cli := exec.Command("openssl", append([]string{"s_client", "-connect", proxy.Addr().String()}, clientArgs...)...)
		cliIn, _ := cli.StdinPipe()
		cli.Stdout, cli.Stderr = io.Discard, io.Discard
		if err := cli.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(700 * time.Millisecond)
		var fc fixtureConn
		for _, s := range steps {
			w := cliIn
			if s.side == 1 {
				w = srvIn
			}
			if _, err := io.WriteString(w, s.line); err != nil {
				t.Fatalf("typing %q: %v", s.line, err)
			}
			if !s.command {
				fc.Sent[s.side] += s.line
			}
			time.Sleep(400 * time.Millisecond)
		}
		cliIn.Close()
		waitc := make(chan error, 1)
		go func() { waitc <- cli.Wait() }()
		select {
		case <-waitc:
		case <-time.After(10 * time.Second):
			_ = cli.Process.Kill()
			t.Fatal("s_client did not end")
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the proxy did not end")
		}
		mu.Lock()
		fc.Wires = wires
		mu.Unlock()
		if len(fc.Wires) == 0 {
			t.Fatal("nothing recorded")
		}
		out = append(out, fc)
	}
	return out
}
