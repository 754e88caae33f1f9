package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// Versions handled.
const (
	Version1 = 0x00000001
	Version2 = 0x6b3343cf
)

// Initial salts (RFC 9001 section 5.2, RFC 9369 section 3.3.1).
var (
	saltV1 = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	// IETF drafts 29 to 32 (as Chrome spoke in 2020-2021), and 23 to 28.
	saltD29 = []byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99}
	saltD23 = []byte{0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02}
	saltV2  = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
)

// Cipher suites QUIC can use (TLS 1.3's, less AES-CCM which Go lacks).
const (
	suiteAES128 = 0x1301
	suiteAES256 = 0x1302
	suiteChaCha = 0x1303
)

var errSuite = errors.New("unsupported cipher suite")

// expandLabel is TLS 1.3's HKDF-Expand-Label (RFC 8446 section 7.1) with
// an empty context.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 4+6+len(label))
	info = append(info, byte(n>>8), byte(n), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		return nil
	}
	return out
}

// labels are the HKDF labels of a QUIC version.
type labels struct{ key, iv, hp, ku string }

func labelsOf(version uint32) labels {
	if version == Version2 {
		return labels{"quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"}
	}
	return labels{"quic key", "quic iv", "quic hp", "quic ku"}
}

// keys protect the packets of one direction at one encryption level (and
// key phase).
type keys struct {
	suite  uint16
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	hp     headerProtector
	lab    labels
}

type headerProtector interface {
	mask(sample []byte) [5]byte
}

type aesHP struct{ b cipher.Block }

func (h aesHP) mask(sample []byte) [5]byte {
	var out [16]byte
	h.b.Encrypt(out[:], sample[:16])
	return [5]byte(out[:5])
}

type chachaHP struct{ key []byte }

func (h chachaHP) mask(sample []byte) [5]byte {
	var out [5]byte
	c, err := chacha20.NewUnauthenticatedCipher(h.key, sample[4:16])
	if err != nil {
		return out
	}
	c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
	c.XORKeyStream(out[:], out[:])
	return out
}

func hashOf(suite uint16) func() hash.Hash {
	if suite == suiteAES256 {
		return sha512.New384
	}
	return sha256.New
}

// newKeys derives the packet protection keys of a traffic secret (RFC
// 9001 section 5.1).
func newKeys(suite uint16, secret []byte, lab labels) (*keys, error) {
	h := hashOf(suite)
	keyLen := 16
	if suite == suiteAES256 || suite == suiteChaCha {
		keyLen = 32
	}
	k := &keys{suite: suite, secret: secret, lab: lab}
	key := expandLabel(h, secret, lab.key, keyLen)
	k.iv = expandLabel(h, secret, lab.iv, 12)
	hp := expandLabel(h, secret, lab.hp, keyLen)
	if key == nil || k.iv == nil || hp == nil {
		return nil, errSuite
	}
	switch suite {
	case suiteAES128, suiteAES256:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if k.aead, err = cipher.NewGCM(b); err != nil {
			return nil, err
		}
		hb, err := aes.NewCipher(hp)
		if err != nil {
			return nil, err
		}
		k.hp = aesHP{hb}
	case suiteChaCha:
		var err error
		if k.aead, err = chacha20poly1305.New(key); err != nil {
			return nil, err
		}
		k.hp = chachaHP{hp}
	default:
		return nil, errSuite
	}
	return k, nil
}

// next derives the keys of the next key phase (RFC 9001 section 6.1); the
// header protection key stays.
func (k *keys) next() *keys {
	h := hashOf(k.suite)
	secret := expandLabel(h, k.secret, k.lab.ku, len(k.secret))
	n, err := newKeys(k.suite, secret, k.lab)
	if err != nil {
		return nil
	}
	n.hp = k.hp
	return n
}

// open decrypts a packet's payload, appending the plaintext to dst.
func (k *keys) open(dst []byte, pn uint64, header, payload []byte) ([]byte, error) {
	var nonce [12]byte
	copy(nonce[:], k.iv)
	for i := range 8 {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	return k.aead.Open(dst, nonce[:], payload, header)
}

// initialKeys derives the client and server Initial keys from the
// Destination Connection ID of the client's first Initial packet (RFC
// 9001 section 5.2).
func initialKeys(version uint32, dcid []byte) (client, server *keys) {
	salt := saltV1
	switch d := version & 0xff; {
	case version == Version2:
		salt = saltV2
	case version>>8 != 0xff0000:
	case d >= 29 && d <= 32:
		salt = saltD29
	case d >= 23 && d <= 28:
		salt = saltD23
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil, nil
	}
	lab := labelsOf(version)
	client, _ = newKeys(suiteAES128, expandLabel(sha256.New, initial, "client in", 32), lab)
	server, _ = newKeys(suiteAES128, expandLabel(sha256.New, initial, "server in", 32), lab)
	return client, server
}
