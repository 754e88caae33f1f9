package tls

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
)

// rsaDecryptPMS decrypts an RSA-encrypted pre-master secret (PKCS#1 v1.5,
// block type 2) with k, returning nil unless the padding is right and the
// secret has the 48 bytes TLS prescribes. It uses math/big rather than
// crypto/rsa because old captures have 512- and 1024-bit keys that
// crypto/rsa refuses, and constant time does not matter offline.
func rsaDecryptPMS(k *rsa.PrivateKey, c []byte) []byte {
	size := (k.N.BitLen() + 7) / 8
	if len(c) == 0 || len(c) > size || k.D == nil || k.D.Sign() <= 0 {
		return nil
	}
	ci := new(big.Int).SetBytes(c)
	if ci.Cmp(k.N) >= 0 {
		return nil
	}
	var m *big.Int
	if len(k.Primes) == 2 && k.Precomputed.Dp != nil && k.Precomputed.Qinv != nil {
		// CRT: about four times faster than one exponentiation mod N.
		p, q := k.Primes[0], k.Primes[1]
		m1 := new(big.Int).Exp(ci, k.Precomputed.Dp, p)
		m2 := new(big.Int).Exp(ci, k.Precomputed.Dq, q)
		h := m1.Sub(m1, m2)
		h.Mul(h, k.Precomputed.Qinv)
		h.Mod(h, p)
		h.Mul(h, q)
		m = h.Add(h, m2)
	} else {
		m = new(big.Int).Exp(ci, k.D, k.N)
	}
	if m.BitLen() > size*8 {
		return nil
	}
	em := m.FillBytes(make([]byte, size))
	if em[0] != 0 || em[1] != 2 {
		return nil
	}
	i := bytes.IndexByte(em[2:], 0)
	if i < 8 { // at least 8 bytes of padding
		return nil
	}
	pms := em[2+i+1:]
	if len(pms) != 48 {
		return nil
	}
	return pms
}

// orderRSAKeys puts first the keys whose public key is the certificate's,
// so the right key is normally tried first; the others follow because the
// certificate may be missing (resumption, a gap) or unparsable.
func orderRSAKeys(keys []*rsa.PrivateKey, cert []byte) []*rsa.PrivateKey {
	if len(keys) < 2 || cert == nil {
		return keys
	}
	c, err := x509.ParseCertificate(cert)
	if err != nil {
		return keys
	}
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return keys
	}
	out := make([]*rsa.PrivateKey, 0, len(keys))
	for _, k := range keys {
		if k.N.Cmp(pub.N) == 0 {
			out = append(out, k)
		}
	}
	for _, k := range keys {
		if k.N.Cmp(pub.N) != 0 {
			out = append(out, k)
		}
	}
	return out
}
