package enrich

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tracewire/tracewire/har"
)

// PiRogue's aes_info.json is written by the Frida script log_aes_info.js:
// a JSON array of records
//
//	{"type": "aes_info_log", "timestamp": <ms>, "pid": 1234, "process": "com.example",
//	 "data": {"alg": "AES/CBC/PKCS5Padding", "key": "<hex>", "iv": "<hex>", "in": "<hex>", "out": "<hex>"}}
//
// one per Cipher.doFinal (in is what went in, out what came out) and one per
// SecretKeySpec (only key and alg). An app that encrypts a body before
// sending it wrote a record whose out is the request's body, or part of it;
// one that decrypts a response wrote a record whose in is the response's
// body. A body that is exactly a ciphertext (after the HAR's encoding, or
// once base64-decoded) is replaced by the plaintext, and the original is
// kept in _decryption on the request or response:
//
//	{"originalBase64Content", "alg", "key", "iv", "pid", "process", "timestamp" (s),
//	 "primitiveParameters": {"algorithm", "key", "iv"}, "match": "body|base64-decoded body"}
//
// (primitiveParameters and originalBase64Content are the names of
// pcapng-utils, so PiRogue's viewers show them). A ciphertext found inside
// a larger body never replaces it: _decryptedPart gives the plaintext
// ("plaintext", or "plaintextBase64" when it is not UTF-8) with the
// ciphertext's "offset" and "length" in the body ("match" says whether in
// the body or in its base64 decoding), and the same operation fields. Digests, MACs, signatures
// and RSA are skipped: their "out" is not a ciphertext of "in" that a body
// could carry, and matching them would invent plaintexts.

// AESInfoName names the source in summaries.
const AESInfoName = "pirogue aes_info decryption"

// minCiphertext avoids matching tiny values that occur anywhere by chance.
const minCiphertext = 8

// Skip reasons of aes_info records.
const (
	skipKeyOnly = "no input or output (key creation)"
	skipAlg     = "digest, MAC, signature or RSA algorithm"
	skipHex     = "input or output is not hex"
	skipShort   = "ciphertext shorter than 8 bytes"
)

// cryptoOp is one encryption or decryption.
type cryptoOp struct {
	in, out          []byte
	alg, key, iv     string
	pid              any
	process          string
	ts               float64 // seconds, 0 when unknown
	hasTS, hasPidVal bool
}

// AESInfo holds the operations of an aes_info.json, indexed by the first
// bytes of their ciphertexts.
type AESInfo struct {
	Stats ReadStats
	ops   []cryptoOp
	// byOut and byIn index operations by the first 8 bytes of out
	// (ciphertexts of requests) and of in (ciphertexts of responses).
	byOut, byIn map[uint64][]int32
}

// ignoredAlg reports algorithms whose records are not ciphertexts of a
// body: digests, MACs, signatures (Android's MessageDigest, Mac and
// Signature names) and RSA.
func ignoredAlg(alg string) bool {
	a := strings.ToUpper(strings.TrimSpace(alg))
	for _, p := range []string{"SHA", "MD2", "MD4", "MD5", "HMAC", "PBEWITHHMAC", "AESCMAC", "CMAC", "GMAC", "POLY1305",
		"DSA", "ECDSA", "ED25519", "ED448", "EDDSA", "NONEWITH", "RSA", "SIPHASH", "BLAKE", "KECCAK", "RIPEMD", "WHIRLPOOL", "CRC"} {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return false
}

// ReadAESInfo reads PiRogue's aes_info.json. name is used in messages.
func ReadAESInfo(r io.Reader, name string) (*AESInfo, error) {
	a := &AESInfo{Stats: ReadStats{File: name}, byOut: map[uint64][]int32{}, byIn: map[uint64][]int32{}}
	if err := readJSONRecords(r, &a.Stats, a.parse); err != nil {
		return nil, err
	}
	return a, nil
}

// aesInfoRecord is a record of aes_info.json as it is decoded.
type aesInfoRecord struct {
	Timestamp jnum          `json:"timestamp"`
	Pid       jnum          `json:"pid"`
	Process   jstr          `json:"process"`
	Data      jobj[aesData] `json:"data"`
}

type aesData struct {
	Alg jstr `json:"alg"`
	Key jstr `json:"key"`
	IV  jstr `json:"iv"`
	In  jstr `json:"in"`
	Out jstr `json:"out"`
}

func (a *AESInfo) parse(rec int, off int64, d *jsontext.Decoder) error {
	var x aesInfoRecord
	if err := json.UnmarshalDecode(d, &x); err != nil {
		return err
	}
	var op cryptoOp
	if ts := x.Timestamp; ts.num && timeUnitOf(ts.float) == "ms" {
		op.ts, op.hasTS = ts.float/1000, true
	}
	if x.Pid.whole {
		op.pid, op.hasPidVal = x.Pid.int, true
	} else if x.Pid.kind == '"' {
		if s, err := jsontext.AppendUnquote(nil, x.Pid.raw); err == nil {
			op.pid, op.hasPidVal = string(s), true
		}
	}
	op.process = x.Process.String()
	if x.Data.kind != '{' {
		return problem(skipNoData, "data is %s", kindName(x.Data.kind))
	}
	f := &x.Data.v
	op.alg, op.key, op.iv = f.Alg.String(), f.Key.String(), f.IV.String()
	inHex, outHex := f.In.String(), f.Out.String()
	if inHex == "" || outHex == "" {
		return problem(skipKeyOnly, "alg %q", op.alg)
	}
	if ignoredAlg(op.alg) {
		return problem(skipAlg, "alg %q", op.alg)
	}
	var err error
	if op.in, err = hex.DecodeString(inHex); err != nil {
		return problem(skipHex, "in: %v", err)
	}
	if op.out, err = hex.DecodeString(outHex); err != nil {
		return problem(skipHex, "out: %v", err)
	}
	return a.add(&op)
}

// add indexes an operation.
func (a *AESInfo) add(op *cryptoOp) error {
	// A record is indexed under each direction its ciphertext could have
	// travelled in; too short a ciphertext matches anything.
	ok := false
	id := int32(len(a.ops))
	if len(op.out) >= minCiphertext {
		k := binary.BigEndian.Uint64(op.out)
		a.byOut[k] = append(a.byOut[k], id)
		ok = true
	}
	if len(op.in) >= minCiphertext {
		k := binary.BigEndian.Uint64(op.in)
		a.byIn[k] = append(a.byIn[k], id)
		ok = true
	}
	if !ok {
		return problem(skipShort, "%d and %d bytes", len(op.in), len(op.out))
	}
	a.ops = append(a.ops, *op)
	return nil
}

// Enricher returns the enricher that replaces encrypted bodies.
func (a *AESInfo) Enricher() Enricher { return &decryptEnricher{a: a, used: map[int32]bool{}} }

type decryptEnricher struct {
	a                   *AESInfo
	requests, responses int
	viaBase64           int
	inside              int // ciphertexts found inside a larger body
	kept                int
	used                map[int32]bool
}

func (d *decryptEnricher) Name() string { return AESInfoName }

func (d *decryptEnricher) Enrich(i int, e *har.Entry) error {
	if pd := e.Request.PostData; pd != nil && pd.Text != "" {
		if done(e.Request.Extra) {
			d.kept++
		} else if body, err := pd.Body(); err == nil {
			if dec, pt, whole := d.find(body, d.a.byOut, true); !whole && dec != nil {
				e.Request.Extra.Set("_decryptedPart", dec)
				d.inside++
			} else if dec != nil {
				pd.SetBody(pt)
				// The form fields described the ciphertext.
				pd.Params = nil
				e.Request.Extra.Set("_decryption", dec)
				d.requests++
			}
		}
	}
	if c := &e.Response.Content; c.Text != "" {
		if done(e.Response.Extra) {
			d.kept++
		} else if body, err := c.Body(); err == nil {
			if dec, pt, whole := d.find(body, d.a.byIn, false); !whole && dec != nil {
				e.Response.Extra.Set("_decryptedPart", dec)
				d.inside++
			} else if dec != nil {
				c.SetBody(pt)
				e.Response.Extra.Set("_decryption", dec)
				d.responses++
			}
		}
	}
	return nil
}

// done says whether a request or response was looked at already (by an
// earlier run, or another aes_info file).
func done(x har.Extra) bool {
	_, a := x["_decryption"]
	_, b := x["_decryptedPart"]
	return a || b
}

// find looks for a recorded ciphertext that is the whole body, or the
// whole of its base64 decoding: the body is then replaced by the
// plaintext (whole is true; the returned object is _decryption). Failing
// that, it looks for one inside the body or its decoding: the body is then
// kept, and the returned object (_decryptedPart) gives the plaintext with
// where the ciphertext lies — a 16-byte match inside a font is more likely
// chance than an encrypted font.
func (d *decryptEnricher) find(body []byte, index map[uint64][]int32, request bool) (dec map[string]any, pt []byte, whole bool) {
	forms := [][]byte{body}
	if dec64, ok := decodeBase64Body(body); ok {
		forms = append(forms, dec64)
	}
	hows := []string{"body", "base64-decoded body"}
	op, at, how := int32(-1), 0, ""
	for k, b := range forms {
		if op = d.whole(b, index, request); op >= 0 {
			how, whole = hows[k], true
			break
		}
	}
	for k, b := range forms {
		if op >= 0 {
			break
		}
		if op, at = d.search(b, index, request); op >= 0 {
			how = hows[k]
		}
	}
	if op < 0 {
		return nil, nil, false
	}
	d.used[op] = true
	if how != "body" {
		d.viaBase64++
	}
	c := &d.a.ops[op]
	pt = c.in
	if !request {
		pt = c.out
	}
	dec = map[string]any{
		"alg":                 c.alg,
		"key":                 c.key,
		"iv":                  c.iv,
		"process":             c.process,
		"match":               how,
		"primitiveParameters": map[string]any{"algorithm": c.alg, "key": c.key, "iv": c.iv},
	}
	if whole {
		dec["originalBase64Content"] = base64.StdEncoding.EncodeToString(body)
	} else {
		ct := c.out
		if !request {
			ct = c.in
		}
		dec["offset"] = int64(at)
		dec["length"] = int64(len(ct))
		if utf8.Valid(pt) {
			dec["plaintext"] = string(pt)
		} else {
			dec["plaintextBase64"] = base64.StdEncoding.EncodeToString(pt)
		}
	}
	if c.hasPidVal {
		dec["pid"] = c.pid
	}
	if c.hasTS {
		dec["timestamp"] = c.ts
	}
	return dec, pt, whole
}

// ciphertext is operation id's ciphertext in the direction searched.
func (d *decryptEnricher) ciphertext(id int32, request bool) []byte {
	if request {
		return d.a.ops[id].out
	}
	return d.a.ops[id].in
}

// whole returns the first operation whose ciphertext is exactly b; -1
// when none.
func (d *decryptEnricher) whole(b []byte, index map[uint64][]int32, request bool) int32 {
	if len(b) < minCiphertext {
		return -1
	}
	for _, id := range index[binary.BigEndian.Uint64(b)] {
		if bytes.Equal(d.ciphertext(id, request), b) {
			return id
		}
	}
	return -1
}

// search returns the operation whose ciphertext occurs in b, and where:
// the longest one (the most specific), the first recorded on a tie, at its
// first place; -1 when none.
func (d *decryptEnricher) search(b []byte, index map[uint64][]int32, request bool) (int32, int) {
	best, at := int32(-1), 0
	bestLen := 0
	for i := 0; i+minCiphertext <= len(b); i++ {
		ids, ok := index[binary.BigEndian.Uint64(b[i:])]
		if !ok {
			continue
		}
		for _, id := range ids {
			ct := d.ciphertext(id, request)
			if len(ct) > bestLen && bytes.HasPrefix(b[i:], ct) {
				best, bestLen, at = id, len(ct), i
			} else if len(ct) == bestLen && id < best && bytes.HasPrefix(b[i:], ct) {
				best, at = id, i
			}
		}
	}
	return best, at
}

// decodeBase64Body decodes a body that is entirely base64 (standard or
// URL alphabet, padded or not, line breaks allowed), as apps often send
// ciphertexts.
func decodeBase64Body(b []byte) ([]byte, bool) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', ' ', '\t':
			return -1
		}
		return r
	}, string(bytes.TrimSpace(b)))
	if len(s) < 12 {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if out, err := enc.DecodeString(s); err == nil {
			return out, true
		}
	}
	return nil, false
}

func (d *decryptEnricher) Report(s *Summary) {
	r := &SourceReport{Source: AESInfoName, Read: &d.a.Stats}
	r.add("operations", len(d.a.ops))
	r.add("requests decrypted", d.requests)
	r.add("responses decrypted", d.responses)
	r.add("decrypted through a base64 layer", d.viaBase64)
	r.add("operations used", len(d.used))
	if d.inside > 0 {
		r.add("ciphertexts inside a larger body (body kept, plaintext in _decryptedPart)", d.inside)
	}
	if d.kept > 0 {
		r.add("bodies that already had a _decryption", d.kept)
	}
	s.Sources = append(s.Sources, r)
}
