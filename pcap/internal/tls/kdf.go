package tls

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// Protocol versions as they appear on the wire.
const (
	verSSL30 = 0x0300
	verTLS10 = 0x0301
	verTLS11 = 0x0302
	verTLS12 = 0x0303
	verTLS13 = 0x0304
)

// pHash is P_hash of RFC 5246 section 5, appended to out until n bytes.
func pHash(out []byte, h func() hash.Hash, secret, seed []byte, n int) []byte {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// prf computes n bytes of the PRF of the given protocol version: SSL 3.0
// has none (see ssl3KeyBlock), TLS 1.0 and 1.1 XOR P_MD5 and P_SHA1 over
// the two halves of the secret, TLS 1.2 uses P_SHA256 or, for the
// SHA-384 suites, P_SHA384.
func prf(version uint16, sha384 bool, secret []byte, label string, seed []byte, n int) []byte {
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	if version >= verTLS12 {
		h := sha256.New
		if sha384 {
			h = sha512.New384
		}
		return pHash(nil, h, secret, ls, n)
	}
	half := (len(secret) + 1) / 2
	a := pHash(nil, md5.New, secret[:half], ls, n)
	b := pHash(nil, sha1.New, secret[len(secret)-half:], ls, n)
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

// ssl3Hash is SSL 3.0's key derivation: MD5(secret + SHA1("A" + secret +
// seed)) + MD5(secret + SHA1("BB" + secret + seed)) + ... until n bytes.
func ssl3Hash(secret, seed []byte, n int) []byte {
	var out []byte
	md, sh := md5.New(), sha1.New()
	for i := 0; len(out) < n && i < 26; i++ {
		sh.Reset()
		for j := 0; j <= i; j++ {
			sh.Write([]byte{'A' + byte(i)})
		}
		sh.Write(secret)
		sh.Write(seed)
		inner := sh.Sum(nil)
		md.Reset()
		md.Write(secret)
		md.Write(inner)
		out = md.Sum(out)
	}
	if len(out) < n {
		return nil
	}
	return out[:n]
}

// masterFromPMS derives the master secret from a pre-master secret. With
// the extended master secret extension (RFC 7627) the seed is the hash of
// the handshake up to the ClientKeyExchange instead of the randoms.
func masterFromPMS(version uint16, sha384 bool, pms, clientRandom, serverRandom, sessionHash []byte) []byte {
	if version == verSSL30 {
		return ssl3Hash(pms, cat(clientRandom, serverRandom), 48)
	}
	if sessionHash != nil {
		return prf(version, sha384, pms, "extended master secret", sessionHash, 48)
	}
	return prf(version, sha384, pms, "master secret", cat(clientRandom, serverRandom), 48)
}

// keyBlock expands the master secret into n bytes of key material.
func keyBlock(version uint16, sha384 bool, master, clientRandom, serverRandom []byte, n int) []byte {
	if version == verSSL30 {
		return ssl3Hash(master, cat(serverRandom, clientRandom), n)
	}
	return prf(version, sha384, master, "key expansion", cat(serverRandom, clientRandom), n)
}

// sessionHash hashes a TLS 1.2 (or older) handshake transcript as the
// extended master secret needs: with the PRF's hash, or MD5 and SHA-1
// concatenated before TLS 1.2.
func sessionHash(version uint16, sha384 bool, transcript []byte) []byte {
	if version >= verTLS12 {
		if sha384 {
			s := sha512.Sum384(transcript)
			return s[:]
		}
		s := sha256.Sum256(transcript)
		return s[:]
	}
	m := md5.Sum(transcript)
	s := sha1.Sum(transcript)
	return cat(m[:], s[:])
}

func cat(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// Label prefixes of HKDF-Expand-Label: RFC 8446 and drafts from 20 on use
// "tls13 ", earlier drafts "TLS 1.3, ".
const (
	labelPrefix      = "tls13 "
	labelPrefixDraft = "TLS 1.3, "
)

// expandLabel is HKDF-Expand-Label of RFC 8446 section 7.1.
func expandLabel(sha384 bool, secret []byte, prefix, label string, context []byte, n int) []byte {
	info := make([]byte, 0, 4+len(prefix)+len(label)+len(context))
	info = append(info, byte(n>>8), byte(n), byte(len(prefix)+len(label)))
	info = append(info, prefix...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	h := sha256.New
	if sha384 {
		h = sha512.New384
	}
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		// Only for n > 255 hash lengths, which we never ask for.
		return nil
	}
	return out
}
