// Command trafficgen talks to itself over loopback, for the collector's
// tests and benchmark: it serves HTTP on 127.0.0.1, HTTPS (HTTP/1.1) on
// [::1] and HTTP/2 over TLS on 127.0.0.1, and sends each a few requests.
// TLS keys go to $SSLKEYLOGFILE when it is set.
//
// With -bench D it instead sends plain HTTP requests to itself over
// 127.0.0.1 from -workers goroutines for D (at most -rate requests per
// second, 0 for as many as it can; with -raw 64-byte TCP exchanges
// instead of HTTP) and prints the requests per second and its CPU time.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 3, "requests to each server")
	bench := flag.Duration("bench", 0, "benchmark plain HTTP for this long instead")
	workers := flag.Int("workers", 4, "benchmark: concurrent clients")
	rate := flag.Int("rate", 0, "benchmark: at most this many requests per second (0: no limit)")
	raw := flag.Bool("raw", false, "benchmark: 64-byte request and answer over TCP instead of HTTP")
	flag.Parse()
	if *bench > 0 {
		benchmark(*bench, *workers, *rate, *raw)
		return
	}
	var keylog io.Writer
	if p := os.Getenv("SSLKEYLOGFILE"); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		keylog = f
	}
	cert := selfSigned()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"proto":%q,"path":%q,"got":%d}`, r.Proto, r.URL.Path, len(body))
	})
	plain := listen("tcp4", "127.0.0.1:0")
	tls1 := listen("tcp6", "[::1]:0")
	tls2 := listen("tcp4", "127.0.0.1:0")
	srv := func(protos []string) *http.Server {
		s := &http.Server{Handler: handler, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos}}
		if len(protos) == 1 && protos[0] == "http/1.1" {
			s.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
		return s
	}
	go srv(nil).Serve(plain)
	go srv([]string{"http/1.1"}).ServeTLS(tls1, "", "")
	go srv([]string{"h2", "http/1.1"}).ServeTLS(tls2, "", "")

	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	client := func(h2 bool) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, KeyLogWriter: keylog, ServerName: "localhost"}, DisableKeepAlives: false}
		if h2 {
			tr.ForceAttemptHTTP2 = true
		} else {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	for _, c := range []struct {
		url string
		h2  bool
	}{
		{"http://" + plain.Addr().String(), false},
		{"https://" + tls1.Addr().String(), false},
		{"https://" + tls2.Addr().String(), true},
	} {
		cl := client(c.h2)
		for i := 0; i < *n; i++ {
			body := fmt.Sprintf(`{"email":"alice@example.com","i":%d}`, i)
			resp, err := cl.Post(c.url+"/collect?uid=trafficgen", "application/json", bytes.NewBufferString(body))
			if err != nil {
				log.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Printf("%s %s %s\n", c.url, resp.Proto, b)
		}
		cl.CloseIdleConnections()
	}
}

func listen(network, addr string) net.Listener {
	l, err := net.Listen(network, addr)
	if err != nil {
		log.Fatal(err)
	}
	return l
}

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func benchmark(d time.Duration, workers, rate int, raw bool) {
	var do func(w int) error
	if raw {
		// A request is 64 bytes written, read by the server, and 64 bytes
		// back: the four socket calls of an HTTP exchange, without
		// net/http's CPU, to reach higher rates.
		l := listen("tcp4", "127.0.0.1:0")
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					b := make([]byte, 64)
					for {
						if _, err := io.ReadFull(c, b); err != nil {
							return
						}
						if _, err := c.Write(b); err != nil {
							return
						}
					}
				}()
			}
		}()
		conns := make([]net.Conn, workers)
		for i := range conns {
			c, err := net.Dial("tcp4", l.Addr().String())
			if err != nil {
				log.Fatal(err)
			}
			conns[i] = c
		}
		bufs := make([][]byte, workers)
		for i := range bufs {
			bufs[i] = make([]byte, 64)
		}
		do = func(w int) error {
			if _, err := conns[w].Write(bufs[w]); err != nil {
				return err
			}
			_, err := io.ReadFull(conns[w], bufs[w])
			return err
		}
	} else {
		l := listen("tcp4", "127.0.0.1:0")
		go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("ok"))
		}))
		url := "http://" + l.Addr().String() + "/bench"
		cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
		do = func(int) error {
			resp, err := cl.Get(url)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var done, next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if rate > 0 {
					// Request k is due at start + k/rate: the rate holds
					// overall, whatever each worker's share.
					due := start.Add(time.Duration(next.Add(1)-1) * time.Second / time.Duration(rate))
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
				}
				if err := do(w); err != nil {
					if ctx.Err() != nil {
						return
					}
					log.Fatal(err)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("%d requests in %.2f s: %.0f requests/s, %.2f s CPU (%.0f µs per request)\n",
		done.Load(), el, float64(done.Load())/el, cpu.Seconds(), float64(cpu.Microseconds())/float64(done.Load()))
}
