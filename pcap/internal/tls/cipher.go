package tls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// errBadRecord is a record that fails authentication (AEAD tag, MAC or
// padding): a wrong key, a wrong sequence number or damaged bytes.
var errBadRecord = errors.New("bad record MAC")

// recordCipher decrypts and authenticates the records of one direction
// under one key. The state it keeps between records (the CBC IV of SSL 3.0
// and TLS 1.0, the RC4 keystream) only advances when a record
// authenticates, so a failed trial leaves it usable.
type recordCipher interface {
	// open returns the plaintext of the record with header hdr (5 bytes)
	// and fragment body, decrypted with sequence number seq into dst's
	// storage (cap(dst) must be at least len(body)).
	open(dst []byte, seq uint64, hdr, body []byte) ([]byte, error)
	// explicitSeq returns the sequence number the record's explicit nonce
	// suggests (TLS 1.2 AES-GCM, where most implementations send the
	// sequence number), for resynchronising after a gap.
	explicitSeq(body []byte) (uint64, bool)
	// chained reports whether decrypting a record needs the previous one
	// (CBC with implicit IV, RC4): such a cipher cannot resynchronise on a
	// record alone.
	chained() bool
}

// openAny tries the sequence numbers in order and returns the plaintext
// under the first that authenticates, for resynchronising after a gap.
// CBC checks only the MAC per number; AEADs must decrypt each time.
func openAny(c recordCipher, dst []byte, seqs []uint64, hdr, body []byte) ([]byte, uint64, error) {
	if cb, ok := c.(*cbc); ok {
		return cb.openAny(dst, seqs, hdr, body)
	}
	for _, s := range seqs {
		if pt, err := c.open(dst, s, hdr, body); err == nil {
			return pt, s, nil
		}
	}
	return nil, 0, errBadRecord
}

// newCipher12 makes the record cipher of one direction of an SSL 3.0 to
// TLS 1.2 session from its part of the key block.
func newCipher12(s *suite, version uint16, etm bool, macKey, key, iv []byte) (recordCipher, error) {
	m := newMACer(s.mac, version, macKey)
	switch s.bulk {
	case bulkAES128GCM, bulkAES256GCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("AES key: %w", err)
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			return nil, fmt.Errorf("GCM: %w", err)
		}
		c := &gcm12{aead: g}
		copy(c.salt[:], iv)
		return c, nil
	case bulkChaCha:
		a, err := chacha20poly1305.New(key)
		if err != nil {
			return nil, fmt.Errorf("ChaCha20-Poly1305 key: %w", err)
		}
		c := &xorNonce{aead: a, tls12: true}
		copy(c.iv[:], iv)
		return c, nil
	case bulkAES128CBC, bulkAES256CBC, bulkDES, bulk3DES:
		var b cipher.Block
		var err error
		switch s.bulk {
		case bulkDES:
			b, err = des.NewCipher(key)
		case bulk3DES:
			b, err = des.NewTripleDESCipher(key)
		default:
			b, err = aes.NewCipher(key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s key: %w", s.name, err)
		}
		c := &cbc{block: b, mac: m, version: version, etm: etm}
		if version < verTLS11 {
			c.iv = append([]byte(nil), iv...)
		}
		return c, nil
	case bulkRC4:
		r, err := rc4.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("RC4 key: %w", err)
		}
		return &streamCipher{rc4: r, mac: m, version: version}, nil
	case bulkNull:
		return &streamCipher{mac: m, version: version}, nil
	}
	return nil, fmt.Errorf("unsupported cipher suite %s (%s)", hex4(s.id), s.name)
}

// newCipher13 makes the record cipher of a TLS 1.3 traffic secret.
// noAAD is for drafts before 25, which authenticated no record header.
func newCipher13(s *suite, secret []byte, prefix string, noAAD bool) (recordCipher, error) {
	key := expandLabel(s.sha384, secret, prefix, "key", nil, s.bulk.keyLen())
	iv := expandLabel(s.sha384, secret, prefix, "iv", nil, 12)
	var a cipher.AEAD
	var err error
	switch s.bulk {
	case bulkAES128GCM, bulkAES256GCM:
		var b cipher.Block
		if b, err = aes.NewCipher(key); err == nil {
			a, err = cipher.NewGCM(b)
		}
	case bulkChaCha:
		a, err = chacha20poly1305.New(key)
	default:
		return nil, fmt.Errorf("unsupported cipher suite %s (%s)", hex4(s.id), s.name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s key: %w", s.name, err)
	}
	c := &xorNonce{aead: a, noAAD: noAAD}
	copy(c.iv[:], iv)
	return c, nil
}

// gcm12 is AES-GCM in TLS 1.2 (RFC 5288): a 4-byte salt from the key block
// and an 8-byte explicit nonce in front of each record.
type gcm12 struct {
	aead cipher.AEAD
	salt [4]byte
	// nonce and aad are kept here rather than on the stack, where passing
	// them to the AEAD interface would move them to the heap per record.
	nonce [12]byte
	aad   [13]byte
}

func (c *gcm12) open(dst []byte, seq uint64, hdr, body []byte) ([]byte, error) {
	if len(body) < 8+c.aead.Overhead() {
		return nil, errBadRecord
	}
	copy(c.nonce[:4], c.salt[:])
	copy(c.nonce[4:], body[:8])
	binary.BigEndian.PutUint64(c.aad[:8], seq)
	copy(c.aad[8:11], hdr[:3])
	binary.BigEndian.PutUint16(c.aad[11:], uint16(len(body)-8-c.aead.Overhead()))
	pt, err := c.aead.Open(dst[:0], c.nonce[:], body[8:], c.aad[:])
	if err != nil {
		return nil, errBadRecord
	}
	return pt, nil
}

func (c *gcm12) explicitSeq(body []byte) (uint64, bool) {
	if len(body) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(body), true
}

func (c *gcm12) chained() bool { return false }

// xorNonce is an AEAD whose nonce is a fixed IV XORed with the sequence
// number: ChaCha20-Poly1305 in TLS 1.2 (RFC 7905) and every TLS 1.3
// cipher.
type xorNonce struct {
	aead cipher.AEAD
	iv   [12]byte
	// tls12 authenticates seq, type, version and length as TLS 1.2 does;
	// otherwise the record header is the additional data (TLS 1.3) or,
	// with noAAD, nothing (TLS 1.3 drafts before 25).
	tls12, noAAD bool
	// Per-record buffers (see gcm12).
	nonce [12]byte
	aad   [13]byte
}

func (c *xorNonce) open(dst []byte, seq uint64, hdr, body []byte) ([]byte, error) {
	if len(body) < c.aead.Overhead() {
		return nil, errBadRecord
	}
	c.nonce = c.iv
	for i := range 8 {
		c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	var aad []byte
	switch {
	case c.tls12:
		binary.BigEndian.PutUint64(c.aad[:8], seq)
		copy(c.aad[8:11], hdr[:3])
		binary.BigEndian.PutUint16(c.aad[11:], uint16(len(body)-c.aead.Overhead()))
		aad = c.aad[:]
	case !c.noAAD:
		aad = hdr[:5]
	}
	pt, err := c.aead.Open(dst[:0], c.nonce[:], body, aad)
	if err != nil {
		return nil, errBadRecord
	}
	return pt, nil
}

func (c *xorNonce) explicitSeq([]byte) (uint64, bool) { return 0, false }
func (c *xorNonce) chained() bool                     { return false }

// macer computes the MAC of MAC-then-encrypt and encrypt-then-MAC records:
// HMAC for TLS, the older keyed-hash construction for SSL 3.0.
type macer struct {
	alg  macAlg
	ssl3 bool
	key  []byte
	h    hash.Hash // HMAC for TLS, the plain hash for SSL 3.0
	sum  [64]byte
}

func newMACer(alg macAlg, version uint16, key []byte) *macer {
	var h func() hash.Hash
	switch alg {
	case macMD5:
		h = md5.New
	case macSHA1:
		h = sha1.New
	case macSHA256:
		h = sha256.New
	case macSHA384:
		h = sha512.New384
	default:
		return nil
	}
	m := &macer{alg: alg, key: append([]byte(nil), key...), ssl3: version == verSSL30}
	if m.ssl3 {
		m.h = h()
	} else {
		m.h = hmac.New(h, m.key)
	}
	return m
}

func (m *macer) size() int {
	if m == nil {
		return 0
	}
	return m.alg.size()
}

// compute returns the MAC of content sent as record type typ with the
// header's version, at sequence number seq. It is valid until the next call.
func (m *macer) compute(seq uint64, hdr []byte, content ...[]byte) []byte {
	var pre [13]byte
	binary.BigEndian.PutUint64(pre[:8], seq)
	pre[8] = hdr[0]
	n := 0
	for _, c := range content {
		n += len(c)
	}
	m.h.Reset()
	if !m.ssl3 {
		copy(pre[9:11], hdr[1:3])
		binary.BigEndian.PutUint16(pre[11:], uint16(n))
		m.h.Write(pre[:])
		for _, c := range content {
			m.h.Write(c)
		}
		return m.h.Sum(m.sum[:0])
	}
	// SSL 3.0: hash(key + pad2 + hash(key + pad1 + seq + type + length +
	// content)), pads of 48 bytes for MD5 and 40 for SHA-1.
	padLen := 48
	if m.alg != macMD5 {
		padLen = 40
	}
	var pad [48]byte
	for i := range pad {
		pad[i] = 0x36
	}
	binary.BigEndian.PutUint16(pre[9:11], uint16(n))
	m.h.Write(m.key)
	m.h.Write(pad[:padLen])
	m.h.Write(pre[:11])
	for _, c := range content {
		m.h.Write(c)
	}
	inner := m.h.Sum(m.sum[:0])
	var in [48]byte
	copy(in[:], inner)
	for i := range pad {
		pad[i] = 0x5c
	}
	m.h.Reset()
	m.h.Write(m.key)
	m.h.Write(pad[:padLen])
	m.h.Write(in[:len(inner)])
	return m.h.Sum(m.sum[:0])
}

// cbc is a CBC block cipher with MAC-then-encrypt or, with the
// encrypt_then_mac extension (RFC 7366), encrypt-then-MAC.
type cbc struct {
	block   cipher.Block
	mac     *macer
	version uint16
	etm     bool
	// iv is the chained IV of SSL 3.0 and TLS 1.0: the last ciphertext
	// block of the previous record. Nil from TLS 1.1 on, where each
	// record starts with its IV.
	iv  []byte
	dec cipher.BlockMode
}

func (c *cbc) open(dst []byte, seq uint64, hdr, body []byte) ([]byte, error) {
	pt, _, err := c.openAny(dst, []uint64{seq}, hdr, body)
	return pt, err
}

// openAny is open for the first of several sequence numbers whose MAC
// matches: the record is decrypted once, only the MAC is recomputed.
func (c *cbc) openAny(dst []byte, seqs []uint64, hdr, body []byte) ([]byte, uint64, error) {
	bs := c.block.BlockSize()
	ms := c.mac.size()
	data := body
	var seq uint64
	found := false
	if c.etm {
		if len(body) < ms {
			return nil, 0, errBadRecord
		}
		data = body[:len(body)-ms]
		for _, s := range seqs {
			if hmac.Equal(c.mac.compute(s, hdr, data), body[len(data):]) {
				seq, found = s, true
				break
			}
		}
		if !found {
			return nil, 0, errBadRecord
		}
	}
	iv := c.iv
	if iv == nil {
		if len(data) < bs {
			return nil, 0, errBadRecord
		}
		iv, data = data[:bs], data[bs:]
	}
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, 0, errBadRecord
	}
	pt := dst[:len(data)]
	c.decrypter(iv).CryptBlocks(pt, data)
	pad := int(pt[len(pt)-1])
	if c.version == verSSL30 {
		if pad >= bs {
			return nil, 0, errBadRecord
		}
	} else {
		if pad+1 > len(pt) {
			return nil, 0, errBadRecord
		}
		for _, b := range pt[len(pt)-1-pad:] {
			if int(b) != pad {
				return nil, 0, errBadRecord
			}
		}
	}
	n := len(pt) - pad - 1
	if !c.etm {
		n -= ms
		if n < 0 {
			return nil, 0, errBadRecord
		}
		for _, s := range seqs {
			if hmac.Equal(c.mac.compute(s, hdr, pt[:n]), pt[n:n+ms]) {
				seq, found = s, true
				break
			}
		}
		if !found {
			return nil, 0, errBadRecord
		}
	} else if n < 0 {
		return nil, 0, errBadRecord
	}
	if c.iv != nil {
		c.iv = append(c.iv[:0], data[len(data)-bs:]...)
	}
	return pt[:n], seq, nil
}

// decrypter returns a CBC decrypter starting at iv, reusing the last one
// when it can be reset (the standard library's can).
func (c *cbc) decrypter(iv []byte) cipher.BlockMode {
	if s, ok := c.dec.(interface{ SetIV([]byte) }); ok {
		s.SetIV(iv)
		return c.dec
	}
	c.dec = cipher.NewCBCDecrypter(c.block, iv)
	return c.dec
}

func (c *cbc) explicitSeq([]byte) (uint64, bool) { return 0, false }
func (c *cbc) chained() bool                     { return c.iv != nil }

// streamCipher is RC4 or the NULL cipher, with MAC-then-encrypt.
type streamCipher struct {
	rc4     *rc4.Cipher // nil for NULL
	mac     *macer
	version uint16
}

func (c *streamCipher) open(dst []byte, seq uint64, hdr, body []byte) ([]byte, error) {
	ms := c.mac.size()
	if len(body) < ms {
		return nil, errBadRecord
	}
	pt := dst[:len(body)]
	var next rc4.Cipher
	if c.rc4 != nil {
		// Decrypt with a copy so a failed trial keeps the keystream.
		next = *c.rc4
		next.XORKeyStream(pt, body)
	} else {
		copy(pt, body)
	}
	n := len(pt) - ms
	if ms > 0 && !hmac.Equal(c.mac.compute(seq, hdr, pt[:n]), pt[n:]) {
		return nil, errBadRecord
	}
	if c.rc4 != nil {
		*c.rc4 = next
	}
	return pt[:n], nil
}

func (c *streamCipher) explicitSeq([]byte) (uint64, bool) { return 0, false }
func (c *streamCipher) chained() bool                     { return c.rc4 != nil }
