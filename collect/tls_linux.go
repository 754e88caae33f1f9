//go:build linux

package collect

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

// libDirs are where findLibSSL looks for libssl.
var libDirs = []string{"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib", "/usr/local/lib64"}

// findLibSSL lists the libssl shared objects of the system (the library
// directories and their multiarch subfolders), one path per file: a file
// reached by several names is listed once, since a uprobe is set on the
// file and would fire once per attachment.
func findLibSSL() []string {
	var out []string
	seen := map[[2]uint64]bool{}
	var dirs []string
	for _, d := range libDirs {
		dirs = append(dirs, d)
		if m, _ := filepath.Glob(filepath.Join(d, "*-linux-gnu*")); len(m) > 0 {
			dirs = append(dirs, m...)
		}
	}
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "libssl.so*"))
		sort.Strings(m)
		for _, p := range m {
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
				continue
			}
			k := [2]uint64{uint64(st.Dev), st.Ino}
			if seen[k] {
				continue
			}
			seen[k] = true
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			out = append(out, p)
		}
	}
	return out
}

// attachTLS sets the SSL uprobes on each library. It returns the links
// and the libraries with SSL_write or SSL_write_ex.
func attachTLS(objs *collectObjects, libs []string) ([]link.Link, []string, error) {
	if runtime.GOARCH != "amd64" {
		return nil, nil, fmt.Errorf("--tls-uprobes reads the x86-64 registers at a uprobe; this is %s", runtime.GOARCH)
	}
	if len(libs) == 0 {
		return nil, nil, errors.New("no libssl found to set the TLS uprobes on (looked for libssl.so* in " + strings.Join(libDirs, ", ") + " and their *-linux-gnu folders)")
	}
	var links []link.Link
	var used []string
	for _, lib := range libs {
		ex, err := link.OpenExecutable(lib)
		if err != nil {
			closeAll(links)
			return nil, nil, fmt.Errorf("%s: %w", lib, err)
		}
		data := 0
		for _, p := range []struct {
			sym   string
			entry bool
		}{
			{"SSL_write", true}, {"SSL_read", true}, {"SSL_write_ex", true}, {"SSL_read_ex", true},
			{"SSL_do_handshake", true}, {"SSL_connect", true}, {"SSL_accept", true},
		} {
			prog := objs.SslHandshake
			switch p.sym {
			case "SSL_write":
				prog = objs.SslWrite
			case "SSL_read":
				prog = objs.SslRead
			case "SSL_write_ex":
				prog = objs.SslWriteEx
			case "SSL_read_ex":
				prog = objs.SslReadEx
			}
			l, err := ex.Uprobe(p.sym, prog, nil)
			if err != nil {
				if errors.Is(err, link.ErrNoSymbol) {
					continue
				}
				closeAll(links)
				return nil, nil, fmt.Errorf("uprobe on %s in %s: %w", p.sym, lib, err)
			}
			links = append(links, l)
			r, err := ex.Uretprobe(p.sym, objs.SslReturn, nil)
			if err != nil {
				closeAll(links)
				return nil, nil, fmt.Errorf("uretprobe on %s in %s: %w", p.sym, lib, err)
			}
			links = append(links, r)
			if strings.HasPrefix(p.sym, "SSL_write") {
				data++
			}
		}
		if data > 0 {
			used = append(used, lib)
		}
	}
	if len(used) == 0 {
		closeAll(links)
		return nil, nil, fmt.Errorf("no SSL_write in %s", strings.Join(libs, ", "))
	}
	return links, used, nil
}

func closeAll(ls []link.Link) {
	for _, l := range ls {
		l.Close()
	}
}

// readTLS copies TLS ring buffer records to w until the reader is flushed
// or closed.
func readTLS(rd *ringbuf.Reader, w *bufio.Writer) error {
	var rec ringbuf.Record
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrFlushed) || errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return w.Flush()
			}
			return err
		}
		if err := writeRaw(w, rec.RawSample); err != nil {
			return err
		}
	}
}
