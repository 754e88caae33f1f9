package tls

import (
	"compress/zlib"
	"errors"
	"io"
)

// maxDecompressed bounds the plaintext of one compressed record: TLS allows
// 2^14 bytes; more is a bomb or a broken stream.
const maxDecompressed = 1<<14 + 1024

var errDecompress = errors.New("TLS compression: bad DEFLATE stream")

// inflater undoes TLS DEFLATE compression (RFC 3749) for one direction.
// The records form one zlib stream, each ending at a sync flush. Go's
// inflaters pull their input and keep the first error, so the stream is
// inflated by a goroutine that blocks for the next record; the handoff
// over channels makes the parser wait until everything a record holds has
// come out.
type inflater struct {
	in   chan []byte
	idle chan inflated // the output of a record, sent when more input is needed
	err  error
	done bool
}

type inflated struct {
	out  []byte
	bomb bool
}

func newInflater() *inflater {
	z := &inflater{in: make(chan []byte), idle: make(chan inflated)}
	go z.run()
	return z
}

// pullReader hands the goroutine's inflater one record after another.
type pullReader struct {
	z    *inflater
	cur  []byte
	out  *[]byte
	bomb *bool
}

func (r *pullReader) Read(b []byte) (int, error) {
	for len(r.cur) == 0 {
		// The record is used up: everything it encodes has been read
		// out (a sync flush ends it), so hand the output over.
		r.z.idle <- inflated{out: *r.out, bomb: *r.bomb}
		*r.out, *r.bomb = nil, false
		next, ok := <-r.z.in
		if !ok {
			return 0, io.EOF
		}
		r.cur = next
	}
	n := copy(b, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (z *inflater) run() {
	// Closing idle tells inflate and close that the goroutine is done.
	defer close(z.idle)
	var out []byte
	var bomb bool
	first, ok := <-z.in
	if !ok {
		return
	}
	pr := &pullReader{z: z, cur: first, out: &out, bomb: &bomb}
	zr, err := zlib.NewReader(pr)
	if err == nil {
		buf := make([]byte, 4096)
		for {
			n, rerr := zr.Read(buf)
			if len(out)+n > maxDecompressed {
				bomb = true
			}
			if !bomb {
				out = append(out, buf[:n]...)
			}
			if rerr != nil {
				break
			}
		}
	}
	// The stream ended or broke: swallow further records until closed.
	go func() {
		for range z.in {
		}
	}()
}

// inflate returns the plaintext of one compressed record, valid until the
// next call.
func (z *inflater) inflate(b []byte) ([]byte, error) {
	if z.err != nil || z.done {
		return nil, errDecompress
	}
	z.in <- b
	r, ok := <-z.idle
	if !ok || r.bomb {
		z.err = errDecompress
		z.close()
		return nil, z.err
	}
	return r.out, nil
}

// close ends the goroutine.
func (z *inflater) close() {
	if z == nil || z.done {
		return
	}
	z.done = true
	close(z.in)
	// Drain a pending hand-over so the goroutine can see the close.
	for range z.idle {
	}
}
