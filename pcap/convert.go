package pcap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/internal/version"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tcp"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

// Convert reads the capture files in inputs as one stream and calls emit
// for every HTTP exchange found, as a HAR entry, in order of request time
// (ties broken by connection, then by order within the connection), so the
// same inputs always give the same sequence. Entries that were spooled to
// disk come back decoded from JSON, so their Extra values have the generic
// JSON types (see har.Extra).
//
// emit may be nil to only fill the Summary (flows, notes). An error from
// emit stops the conversion and is returned. Problems with the inputs that
// could be worked around (a truncated file, undecodable packets) are
// reported in the Summary, not as errors; errors are for what stops the
// conversion (unreadable files or key files, ctx cancelled).
func Convert(ctx context.Context, inputs []string, opts Options, emit func(*har.Entry) error) (*Summary, error) {
	var mode emitMode
	if emit != nil {
		mode = emitEntries
	}
	return run(ctx, inputs, opts, mode, func(it *item) error {
		e := it.e
		if e == nil {
			var err error
			if e, err = decodeEntry(it.raw); err != nil {
				return err
			}
		}
		return emit(e)
	})
}

// errStop ends a conversion whose entries are no longer wanted.
var errStop = errors.New("stopped")

// Entries is Convert as a sequence of entries, as the other stages pass
// them: ranging over it converts the inputs and yields Convert's entries,
// then the error that stopped the conversion, if any. *sum is set when the
// conversion ends (nil when it could not start).
func Entries(ctx context.Context, inputs []string, opts Options, sum **Summary) iter.Seq2[*har.Entry, error] {
	return func(yield func(*har.Entry, error) bool) {
		s, err := Convert(ctx, inputs, opts, func(e *har.Entry) error {
			if !yield(e, nil) {
				return errStop
			}
			return nil
		})
		*sum = s
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
}

// ConvertHAR converts the inputs (see Convert) into one HAR file written to
// w. The log's creator is tracewire; besides the entries it carries
// "_tlsErrors" (one object per TLS connection that could not be decrypted)
// and "_warnings" (problems with the inputs and with single flows), both
// sorted in capture order. Nothing is written when an error stops the
// conversion before the output starts.
func ConvertHAR(ctx context.Context, inputs []string, opts Options, w io.Writer, wopts ...har.WriterOption) (*Summary, error) {
	log := &har.Log{Creator: har.Creator{Name: version.Name, Version: version.Version}}
	var hw *har.Writer
	sum, err := run(ctx, inputs, opts, emitRaw, func(it *item) error {
		if hw == nil {
			hw = har.NewWriter(w, log, wopts...)
		}
		if it.raw == nil {
			it.raw = har.AppendEntry(nil, it.e)
		}
		return hw.WriteRaw(it.raw)
	})
	if err != nil {
		return sum, err
	}
	if hw == nil {
		hw = har.NewWriter(w, log, wopts...)
	}
	if tl := tlsErrorsJSON(sum.TLSErrors); len(tl) > 0 {
		log.Extra.Set("_tlsErrors", tl)
	}
	if wl := warningsJSON(sum); len(wl) > 0 {
		log.Extra.Set("_warnings", wl)
	}
	if err := hw.Close(); err != nil {
		return sum, fmt.Errorf("write HAR: %w", err)
	}
	return sum, nil
}

type emitMode int

const (
	emitNone    emitMode = iota // only the summary
	emitEntries                 // entries kept as *har.Entry until spooled
	emitRaw                     // entries encoded at once (the output is JSON)
)

// maxNotes bounds the notes kept in a Summary.
const maxNotes = 10000

// converter is the state of one conversion; it is the Sink of every
// connection's parsers.
type converter struct {
	ctx    context.Context
	opts   Options
	mode   emitMode
	sorter *sorter
	disp   *dispatcher
	sum    *Summary
	file   string
	fsum   *FileSummary
	next   uint64 // Index of the next connection (newIndex)
	// seq numbers the entries of each open connection (by Index).
	seq       map[uint64]uint32
	tlsFailed map[uint64]bool
	// noSecrets: no TLS secret or key was given at all.
	noSecrets bool
	// unanalysed collects the current input's flows without HTTP.
	unanalysed unanalysed
	err        error
}

func run(ctx context.Context, inputs []string, opts Options, mode emitMode, out func(*item) error) (*Summary, error) {
	sum := &Summary{}
	if len(inputs) == 0 {
		return sum, errors.New("no input files")
	}
	keys, err := loadKeys(inputs, opts, sum)
	if err != nil {
		return sum, err
	}
	lim := httpmsg.DefaultLimits
	if opts.MaxBodySize > 0 {
		lim.MaxBody = opts.MaxBodySize
	}
	if opts.MaxDecodedSize > 0 {
		lim.MaxDecoded = opts.MaxDecodedSize
	}
	c := &converter{
		ctx:       ctx,
		opts:      opts,
		mode:      mode,
		disp:      &dispatcher{keys: keys, limits: lim},
		sum:       sum,
		seq:       map[uint64]uint32{},
		tlsFailed: map[uint64]bool{},
	}
	// The key logs and the capture's embedded secrets are all loaded
	// by now.
	randoms, rsaKeys, _ := keys.Len()
	c.noSecrets = randoms == 0 && rsaKeys == 0
	c.disp.tunnel.newIndex = c.newIndex
	c.disp.tunnel.ended = c.ended
	c.disp.tunnel.communityID = communityid.Config{Seed: opts.CommunityIDSeed}
	c.disp.tunnel.idle = opts.IdleTimeout
	if mode != emitNone {
		c.sorter = newSorter(mode == emitRaw, opts.MemoryBudget, opts.TempDir)
		defer c.sorter.close()
	}
	for i, in := range inputs {
		if err := c.convertFile(i, len(inputs), in); err != nil {
			return sum, err
		}
	}
	slices.SortFunc(sum.Flows, func(a, b FlowInfo) int { return cmpInt(a.Index, b.Index) })
	slices.SortFunc(sum.TLSErrors, func(a, b TLSError) int { return cmpInt(a.Index, b.Index) })
	c.trimNotes()
	if c.sorter != nil {
		if err := c.sorter.each(out); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// loadKeys gathers the TLS secrets of the key log files, the RSA keys and
// every Decryption Secrets Block of the inputs.
func loadKeys(inputs []string, opts Options, sum *Summary) (*tls.Keys, error) {
	keys := tls.NewKeys()
	for _, f := range opts.KeyLogFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("key log: %w", err)
		}
		if added, _ := keys.AddKeyLog(b); added == 0 {
			// A key log is text; binary or JSON is another file given
			// by mistake, and analysing without its keys would pass
			// for a capture whose TLS could not be decrypted.
			if info := filekind.Sniff(b[:min(len(b), filekind.HeadSize)]); info.Compression != "" || info.Kind != filekind.Text && info.Kind != filekind.Empty {
				return nil, fmt.Errorf("key log %s is %s, not a key log (text, lines such as \"CLIENT_RANDOM <client random> <secret>\"): no TLS secrets in it", f, info)
			}
			sum.Warnings = append(sum.Warnings, Warning{File: f, Message: "no TLS secrets in this key log file"})
		}
	}
	for _, f := range opts.RSAKeyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("RSA key: %w", err)
		}
		if err := keys.AddRSAKey(b); err != nil {
			return nil, fmt.Errorf("RSA key %s: %w", f, err)
		}
	}
	for _, in := range inputs {
		secrets, err := capture.Secrets(in)
		if err != nil {
			// Reported with the file's other problems when it is read.
			continue
		}
		for _, s := range secrets {
			keys.AddKeyLog(s)
		}
	}
	return keys, nil
}

// progressEvery is how many packets pass between checks of the context and
// progress reports.
const progressEvery = 8192

func (c *converter) convertFile(i, n int, file string) error {
	path := file
	if name, ok := c.opts.Names[file]; ok {
		path = name
	}
	if err := c.ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.file = path
	c.sum.Files = append(c.sum.Files, FileSummary{Path: path})
	c.fsum = &c.sum.Files[len(c.sum.Files)-1]
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	r, err := capture.NewReader(path, f)
	if err != nil {
		return err
	}
	defer r.Close()

	asm := tcp.New(tcp.Config{
		Factory:      c.disp.factory(0),
		Sink:         c,
		CommunityID:  communityid.Config{Seed: c.opts.CommunityIDSeed},
		IdleTimeout:  c.opts.IdleTimeout,
		MemoryBudget: flowBudget(c.opts.FlowBudget),
		NewIndex:     c.newIndex,
		Ended:        c.ended,
	})
	progress := func(done bool) {
		if c.opts.Progress == nil {
			return
		}
		off, _ := f.Seek(0, io.SeekCurrent)
		c.opts.Progress(Progress{File: path, FileIndex: i, Files: n, Offset: off, Size: size,
			Packets: c.fsum.Packets, Entries: c.sum.Entries, Done: done})
	}
	udp := newUDPFlows(c)
	dec := decode.NewDecoder()
	var firstErr error
	var firstErrFrame uint64
	// Packets of link types the decoder does not know, by link type,
	// with the first frame of each: said, never skipped in silence.
	type linkCount struct{ packets, frame uint64 }
	unsupported := map[uint16]*linkCount{}
	tp := &tcp.Packet{}
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: frame %d: %w", path, c.fsum.Packets+1, err)
		}
		c.fsum.Packets++
		c.sum.Packets++
		if c.fsum.Packets%progressEvery == 0 {
			if err := c.ctx.Err(); err != nil {
				return fmt.Errorf("%s: stopped at frame %d: %w", path, p.Frame, err)
			}
			progress(false)
		}
		d, err := dec.Decode(p)
		if err != nil {
			var le *decode.UnsupportedLinkError
			if errors.As(err, &le) {
				lc := unsupported[le.LinkType]
				if lc == nil {
					lc = &linkCount{frame: p.Frame}
					unsupported[le.LinkType] = lc
				}
				lc.packets++
				c.fsum.UnsupportedLink++
			}
			if !errors.Is(err, decode.ErrSkip) {
				c.fsum.DecodeErrors++
				c.sum.DecodeErrors++
				if firstErr == nil {
					firstErr, firstErrFrame = err, p.Frame
				}
			}
			continue
		}
		if d.TCP == nil {
			if d.Proto == protoUDP {
				udp.add(d, p.Time, p.Frame, p.Comments)
				if c.err != nil {
					return c.err
				}
			}
			continue
		}
		*tp = tcp.Packet{Src: d.Src, Dst: d.Dst, TCP: d.TCP, Time: p.Time, Frame: p.Frame, Comments: p.Comments}
		asm.Add(tp)
		if c.err != nil {
			return c.err
		}
	}
	asm.Close()
	udp.close()
	if c.err != nil {
		return c.err
	}
	c.sum.Warnings = append(c.sum.Warnings, c.unanalysed.warnings(path)...)
	if n := asm.Evicted(); n > 0 {
		c.sum.Warnings = append(c.sum.Warnings, Warning{File: path, Message: fmt.Sprintf(
			"%d connections were ended before their end because the open connections held more than the flow memory budget (%d MiB); their unfinished exchanges are marked incomplete, and what they sent later starts new flows",
			n, flowBudget(c.opts.FlowBudget)>>20)})
	}
	for _, w := range r.Warnings() {
		c.sum.Warnings = append(c.sum.Warnings, Warning{File: path, Frame: w.Frame, Message: w.Msg, Truncated: w.Stop})
	}
	lts := make([]uint16, 0, len(unsupported))
	for lt := range unsupported {
		lts = append(lts, lt)
	}
	slices.Sort(lts)
	for _, lt := range lts {
		lc := unsupported[lt]
		msg := fmt.Sprintf("%d packets of link type %d, which is not supported, were not analysed (the first is frame %d)", lc.packets, lt, lc.frame)
		if lc.packets == 1 {
			msg = fmt.Sprintf("a packet of link type %d, which is not supported, was not analysed", lt)
		}
		c.sum.Warnings = append(c.sum.Warnings, Warning{File: path, Frame: lc.frame, Message: msg})
	}
	if firstErr != nil {
		msg := fmt.Sprintf("%d packets could not be decoded; the first: %v", c.fsum.DecodeErrors, firstErr)
		if c.fsum.DecodeErrors == 1 {
			msg = fmt.Sprintf("a packet could not be decoded: %v", firstErr)
		}
		c.sum.Warnings = append(c.sum.Warnings, Warning{File: path, Frame: firstErrFrame, Message: msg})
	}
	progress(true)
	if err := c.ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// flowBudget is the tcp.Config.MemoryBudget for Options.FlowBudget.
func flowBudget(b int64) int64 {
	switch {
	case b == 0:
		return DefaultFlowBudget
	case b < 0:
		return 0
	}
	return b
}

// newIndex numbers connections in the order they appear, over all inputs
// and the packet tunnels inside them.
func (c *converter) newIndex() uint64 {
	c.next++
	return c.next - 1
}

// Entry implements stream.Sink.
func (c *converter) Entry(conn *stream.Conn, e *har.Entry) {
	n := c.seq[conn.Index]
	c.seq[conn.Index] = n + 1
	c.sum.Entries++
	c.fsum.Entries++
	if c.sorter == nil || c.err != nil {
		return
	}
	k := sortKey{conn: conn.Index, n: n}
	switch {
	case !e.StartedDateTime.IsZero():
		k.t = e.StartedDateTime.UnixNano()
	case e.Timestamp != 0:
		k.t = har.TimeOf(e.Timestamp).UnixNano()
	default:
		k.t = conn.First.UnixNano()
	}
	if err := c.sorter.add(k, e); err != nil {
		c.err = err
	}
}

// Note implements stream.Sink.
func (c *converter) Note(n stream.Note) {
	conn := n.Conn
	if conn == nil {
		conn = &stream.Conn{}
	}
	if n.Kind == "tls" {
		if c.tlsFailed[conn.Index] {
			return
		}
		c.tlsFailed[conn.Index] = true
		c.sum.TLSErrors = append(c.sum.TLSErrors, TLSError{
			File: c.file, Index: conn.Index, CommunityID: conn.CommunityID,
			Client: conn.Client, Server: conn.Server, SNI: conn.SNI,
			Time: conn.First, Reason: n.Reason, Cause: tlsCause(n.Cause, c.noSecrets),
		})
		return
	}
	if len(c.sum.Notes) >= 2*maxNotes {
		c.trimNotes()
	}
	c.sum.Notes = append(c.sum.Notes, Note{
		File: c.file, Index: conn.Index, CommunityID: conn.CommunityID,
		Client: conn.Client, Server: conn.Server, Time: n.Time,
		Kind: n.Kind, Reason: n.Reason,
	})
}

// trimNotes sorts the notes in capture order and keeps the first
// maxNotes, so which notes are kept does not depend on the order in which
// connections ended.
func (c *converter) trimNotes() {
	slices.SortStableFunc(c.sum.Notes, func(a, b Note) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmpInt(a.Index, b.Index)
	})
	if len(c.sum.Notes) > maxNotes {
		c.sum.NotesDropped += len(c.sum.Notes) - maxNotes
		c.sum.Notes = slices.Delete(c.sum.Notes, maxNotes, len(c.sum.Notes))
	}
}

// protoUDP is UDP's IP protocol number.
const protoUDP = 17

// ended is called by the reassembler when a connection is done.
func (c *converter) ended(conn *stream.Conn) {
	c.sum.Conns++
	c.fsum.Conns++
	reqs := max(conn.Requests, int(c.seq[conn.Index]))
	delete(c.seq, conn.Index)
	failed := c.tlsFailed[conn.Index]
	delete(c.tlsFailed, conn.Index)
	if reqs == 0 && !failed {
		// Undecrypted TLS is named in the TLS errors already.
		c.unanalysed.add("", conn, 0)
	}
	if !c.opts.ListFlows {
		return
	}
	proto := conn.Protocol
	if proto == "" && reqs > 0 {
		proto = "http/1"
	}
	c.sum.Flows = append(c.sum.Flows, FlowInfo{
		File: c.file, Index: conn.Index, Transport: "tcp",
		Client: conn.Client, Server: conn.Server, CommunityID: conn.CommunityID,
		Protocol: proto, First: conn.First, Last: conn.Last,
		BytesToServer: conn.Bytes[stream.ClientToServer], BytesToClient: conn.Bytes[stream.ServerToClient],
		Requests: reqs,
		SNI:      conn.SNI, ALPN: conn.ALPN, TLSVersion: conn.TLSVersion, CipherSuite: conn.CipherSuite,
		Decrypted: conn.Decrypted, Gaps: conn.Gaps,
	})
}

func tlsErrorsJSON(errs []TLSError) []any {
	var out []any
	for _, e := range errs {
		out = append(out, map[string]any{
			"communityId":     e.CommunityID,
			"client":          e.Client.String(),
			"server":          e.Server.String(),
			"sni":             e.SNI,
			"reason":          e.Reason,
			"startedDateTime": e.Time.UTC().Format(time.RFC3339Nano),
			"file":            e.File,
		})
	}
	return out
}

// maxHARWarnings bounds the warnings written into a HAR log.
const maxHARWarnings = 1000

func warningsJSON(sum *Summary) []any {
	var out []any
	for _, w := range sum.Warnings {
		m := map[string]any{"file": w.File, "message": w.Message}
		if w.Frame > 0 {
			m["frame"] = int64(w.Frame)
		}
		out = append(out, m)
	}
	for _, n := range sum.Notes {
		if len(out) >= maxHARWarnings {
			break
		}
		out = append(out, map[string]any{
			"file":            n.File,
			"communityId":     n.CommunityID,
			"client":          n.Client.String(),
			"server":          n.Server.String(),
			"kind":            n.Kind,
			"message":         n.Reason,
			"startedDateTime": n.Time.UTC().Format(time.RFC3339Nano),
		})
	}
	if more := len(sum.Notes) + len(sum.Warnings) + sum.NotesDropped - len(out); more > 0 {
		out = append(out, map[string]any{"message": fmt.Sprintf("%d more notes not listed", more)})
	}
	return out
}
