package tls

// After a gap a direction's record boundaries are lost. resyncFeed searches
// the bytes that follow for a plausible record header (type 20-24, version
// 3.x, a length the record layer allows, and another plausible header
// right after it) and confirms it by authenticating the record under a
// sequence number near the expected one. Cleartext records (a gap in the
// handshake) cannot be authenticated and are taken on the headers alone.

type resyncResult int

const (
	resyncNo   resyncResult = iota // not a record here
	resyncWait                     // need more bytes to decide
	resyncOK                       // found; processing resumes at the returned offset
)

func (p *parser) resyncFeed(h *half, data []byte, m meta) {
	if h.dead {
		return
	}
	if len(data) > 0 {
		h.rmarks = append(h.rmarks, mark{off: len(h.rbuf), m: m})
		h.rbuf = append(h.rbuf, data...)
	}
	for i := 0; i+5 <= len(h.rbuf); i++ {
		b := h.rbuf[i:]
		if !plausible(b, true) {
			continue
		}
		end := i + 5 + recLen(b)
		if end > len(h.rbuf) {
			p.dropPrefix(h, i)
			return
		}
		if end+5 <= len(h.rbuf) && !plausible(h.rbuf[end:], false) {
			continue
		}
		res, resume := p.tryResync(h, i, end)
		if h.dead {
			return
		}
		switch res {
		case resyncWait:
			p.dropPrefix(h, i)
			return
		case resyncOK:
			p.resume(h, resume)
			return
		}
	}
	if len(h.rbuf) > 4 {
		p.dropPrefix(h, len(h.rbuf)-4)
	}
}

// dropPrefix discards the first n bytes searched, failing the direction
// when too much was searched in vain.
func (p *parser) dropPrefix(h *half, n int) {
	if n <= 0 {
		return
	}
	h.scanned += n
	h.rbuf = h.rbuf[:copy(h.rbuf, h.rbuf[n:])]
	k := 0
	for k+1 < len(h.rmarks) && h.rmarks[k+1].off <= n {
		k++
	}
	h.rmarks = h.rmarks[:copy(h.rmarks, h.rmarks[k:])]
	for i := range h.rmarks {
		h.rmarks[i].off -= n
		if h.rmarks[i].off < 0 {
			h.rmarks[i].off = 0
		}
	}
	if h.scanned > maxScan {
		m := meta{}
		if len(h.rmarks) > 0 {
			m = h.rmarks[0].m
		}
		p.fail(h, "gap", m.time, "%s: data lost before frame %d; no record found in the %d bytes after it", h.role, m.frame, h.scanned)
	}
}

// metaAt returns the meta of the chunk that carried rbuf[off].
func (h *half) metaAt(off int) meta {
	var m meta
	for _, k := range h.rmarks {
		if k.off > off {
			break
		}
		m = k.m
	}
	return m
}

// resume ends the search and feeds the rest of the searched bytes as
// records again, each run with the meta of its chunk.
func (p *parser) resume(h *half, from int) {
	type run struct {
		b []byte
		m meta
	}
	var runs []run
	for i, k := range h.rmarks {
		end := len(h.rbuf)
		if i+1 < len(h.rmarks) {
			end = h.rmarks[i+1].off
		}
		start := max(k.off, from)
		if start < end {
			runs = append(runs, run{b: append([]byte(nil), h.rbuf[start:end]...), m: k.m})
		}
	}
	h.rbuf, h.rmarks = h.rbuf[:0], h.rmarks[:0]
	h.resync = false
	h.scanned = 0
	for _, r := range runs {
		if h.dead {
			return
		}
		if h.resync {
			p.resyncFeed(h, r.b, r.m)
		} else {
			p.feed(h, r.b, r.m)
		}
	}
}

// tryResync checks whether rbuf[i:end] is a record of the direction.
func (p *parser) tryResync(h *half, i, end int) (resyncResult, int) {
	rec := h.rbuf[i:end]
	m := h.metaAt(i)
	if h.cipher == nil {
		if rec[0] == recApplicationData {
			// Encrypted data: the ChangeCipherSpec may have been lost.
			if p.sh == nil || isTLS13(p.version) || !p.lostCCS(h, rec[0], rec[5:], m) {
				return resyncNo, 0
			}
			h.resync = false
			return resyncOK, end
		}
		h.resync = false
		p.record(h, rec, m)
		return resyncOK, end
	}
	if h.cipher.chained() {
		return p.tryResyncChained(h, i, end)
	}
	if pt, seq, err := openAny(h.cipher, p.scratch, seqCandidates(h, rec[5:]), rec[:5], rec[5:]); err == nil {
		h.seq = seq + 1
		h.good++
		h.bad = 0
		h.skipInner = true
		h.resync = false
		p.plain(h, rec[0], pt, m)
		return resyncOK, end
	}
	return resyncNo, 0
}

// tryResyncChained resynchronises a CBC cipher with implicit IVs (SSL 3.0,
// TLS 1.0): the record at i cannot be decrypted without its predecessor,
// but its last ciphertext block is the IV of the record after it.
func (p *parser) tryResyncChained(h *half, i, end int) (resyncResult, int) {
	c, ok := h.cipher.(*cbc)
	if !ok {
		return resyncNo, 0
	}
	bs := c.block.BlockSize()
	body := h.rbuf[i+5 : end]
	if len(body) < bs || len(body)%bs != 0 {
		return resyncNo, 0
	}
	if end+5 > len(h.rbuf) {
		return resyncWait, 0
	}
	next := h.rbuf[end:]
	if !plausible(next, true) {
		return resyncNo, 0
	}
	end2 := end + 5 + recLen(next)
	if end2 > len(h.rbuf) {
		return resyncWait, 0
	}
	rec := h.rbuf[end:end2]
	saved := c.iv
	c.iv = append([]byte(nil), body[len(body)-bs:]...)
	seqs := seqCandidates(h, rec[5:])
	for i := range seqs {
		seqs[i]++ // the record after the one at i
	}
	if pt, seq, err := c.openAny(p.scratch, seqs, rec[:5], rec[5:]); err == nil {
		h.seq = seq + 1
		h.good++
		h.bad = 0
		h.skipInner = true
		h.resync = false
		p.plain(h, rec[0], pt, h.metaAt(end))
		return resyncOK, end2
	}
	c.iv = saved
	return resyncNo, 0
}

// seqCandidates lists the sequence numbers to try for the first record
// after a gap, most likely first: the explicit nonce of AES-GCM, then
// numbers around the guess the size of the gap gives.
func seqCandidates(h *half, body []byte) []uint64 {
	// Bound the work on one candidate: an AEAD decrypts the whole record
	// for each number.
	tries := min(maxSeqTries, max(16, maxTrialBytes/max(len(body), 1)))
	out := make([]uint64, 0, tries+1)
	base := h.seq
	if s, ok := h.cipher.explicitSeq(body); ok && s >= base && s-base < 1<<32 {
		out = append(out, s)
	}
	est := 0
	if h.lost > 0 {
		avg := h.avgRec
		if avg < 32 {
			avg = 5 + 1<<14
		}
		est = h.lost / avg
	}
	out = append(out, base+uint64(est))
	for k := 1; len(out) < tries; k++ {
		out = append(out, base+uint64(est+k))
		if est-k >= 0 {
			out = append(out, base+uint64(est-k))
		}
	}
	return out
}
