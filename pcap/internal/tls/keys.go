package tls

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
)

// Keys holds the secrets known for a capture, looked up by client random.
// It is filled before conversion starts (key log files, every DSB of the
// capture, RSA keys); during conversion it only learns the master secrets
// of TLS 1.2 sessions, by session ID and ticket, so that an abbreviated
// handshake can reuse the secret of the full one it resumes.
type Keys struct {
	mu sync.Mutex
	// byRandom holds the key log secrets by client random.
	byRandom map[[32]byte]*secrets
	// rsaPMS holds pre-master secrets of the key log's "RSA" lines, by the
	// first 8 bytes of the encrypted pre-master secret.
	rsaPMS map[[8]byte][]byte
	// sessions maps "id:"+session ID and "tk:"+ticket to master secrets,
	// from "RSA Session-ID:" lines and from sessions decrypted earlier.
	sessions map[string][]byte
	rsaKeys  []*rsa.PrivateKey
}

// secrets are the key log lines of one client random.
type secrets struct {
	master []byte // CLIENT_RANDOM (TLS 1.2 and older)
	pms    []byte // PMS_CLIENT_RANDOM
	// TLS 1.3 traffic secrets.
	early, clientHS, serverHS, clientApp, serverApp []byte
}

// NewKeys returns an empty key store.
func NewKeys() *Keys {
	return &Keys{
		byRandom: map[[32]byte]*secrets{},
		rsaPMS:   map[[8]byte][]byte{},
		sessions: map[string][]byte{},
	}
}

// ignoredLabels are key log labels that are valid but carry nothing that
// decrypting TCP TLS needs (exporter, ECH and QUIC-only secrets, later
// generations we derive ourselves).
var ignoredLabels = map[string]bool{
	"EXPORTER_SECRET":       true,
	"EARLY_EXPORTER_SECRET": true,
	"ECH_SECRET":            true,
	"ECH_CONFIG":            true,
}

func ignoredLabel(label string) bool {
	if ignoredLabels[label] {
		return true
	}
	// Later generations of application secrets (..._SECRET_1, _2, ...)
	// follow from generation 0 by KeyUpdate, which we derive ourselves.
	for _, p := range []string{"CLIENT_TRAFFIC_SECRET_", "SERVER_TRAFFIC_SECRET_"} {
		if len(label) > len(p) && label[:len(p)] == p && label[len(p):] != "0" {
			return true
		}
	}
	return false
}

// AddKeyLog adds the secrets of an NSS key log (SSLKEYLOGFILE format);
// unknown labels and malformed lines are skipped and counted. Lines of
// known labels that decryption does not need (EXPORTER_SECRET, ...) count
// as neither. When two lines give a secret for the same client random the
// first wins, so merging several sources does not depend on their order
// unless they disagree.
func (k *Keys) AddKeyLog(data []byte) (added, skipped int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM from Windows editors
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSpace(line)
		// Some key logs end their lines with a backslash, as if written
		// for a shell (Wireshark's quic_follow_multistream.pcapng DSB);
		// Wireshark reads them, so do we.
		line = bytes.TrimSpace(bytes.TrimSuffix(line, []byte{'\\'}))
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		switch k.addLine(line) {
		case lineAdded:
			added++
		case lineSkipped:
			skipped++
		}
	}
	return added, skipped
}

type lineResult int

const (
	lineAdded lineResult = iota
	lineIgnored
	lineSkipped
)

func (k *Keys) addLine(line []byte) lineResult {
	f := bytes.Fields(line)
	if len(f) == 0 {
		return lineIgnored
	}
	label := string(f[0])
	if label == "RSA" && len(f) == 3 && bytes.HasPrefix(f[1], []byte("Session-ID:")) {
		// Wireshark's "RSA Session-ID:<id> Master-Key:<ms>" format.
		id, err1 := hex.DecodeString(string(bytes.TrimPrefix(f[1], []byte("Session-ID:"))))
		ms, err2 := hex.DecodeString(string(bytes.TrimPrefix(f[2], []byte("Master-Key:"))))
		if err1 != nil || err2 != nil || len(id) == 0 || len(id) > 32 || len(ms) != 48 {
			return lineSkipped
		}
		if _, ok := k.sessions["id:"+string(id)]; !ok {
			k.sessions["id:"+string(id)] = ms
		}
		return lineAdded
	}
	if len(f) != 3 {
		if ignoredLabel(label) {
			return lineIgnored
		}
		return lineSkipped
	}
	a, err1 := hex.DecodeString(string(f[1]))
	b, err2 := hex.DecodeString(string(f[2]))
	if err1 != nil || err2 != nil {
		return lineSkipped
	}
	if label == "RSA" {
		// RSA <first 8 bytes of the encrypted pre-master> <pre-master>.
		if len(a) != 8 || len(b) != 48 {
			return lineSkipped
		}
		var key [8]byte
		copy(key[:], a)
		if _, ok := k.rsaPMS[key]; !ok {
			k.rsaPMS[key] = b
		}
		return lineAdded
	}
	if ignoredLabel(label) {
		return lineIgnored
	}
	var dst func(*secrets) *[]byte
	switch label {
	case "CLIENT_RANDOM":
		if len(b) != 48 {
			return lineSkipped
		}
		dst = func(s *secrets) *[]byte { return &s.master }
	case "PMS_CLIENT_RANDOM":
		if len(b) == 0 || len(b) > 512 {
			return lineSkipped
		}
		dst = func(s *secrets) *[]byte { return &s.pms }
	case "CLIENT_EARLY_TRAFFIC_SECRET":
		dst = func(s *secrets) *[]byte { return &s.early }
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		dst = func(s *secrets) *[]byte { return &s.clientHS }
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		dst = func(s *secrets) *[]byte { return &s.serverHS }
	case "CLIENT_TRAFFIC_SECRET_0":
		dst = func(s *secrets) *[]byte { return &s.clientApp }
	case "SERVER_TRAFFIC_SECRET_0":
		dst = func(s *secrets) *[]byte { return &s.serverApp }
	default:
		return lineSkipped
	}
	if len(a) != 32 {
		return lineSkipped
	}
	if label != "CLIENT_RANDOM" && label != "PMS_CLIENT_RANDOM" && (len(b) < 16 || len(b) > 64) {
		return lineSkipped
	}
	var cr [32]byte
	copy(cr[:], a)
	s := k.byRandom[cr]
	if s == nil {
		s = &secrets{}
		k.byRandom[cr] = s
	}
	if p := dst(s); *p == nil {
		*p = b
	}
	return lineAdded
}

// AddRSAKey adds RSA server private keys (PEM, PKCS#1 or PKCS#8; every
// private key block of the file) for TLS 1.2 and older sessions with RSA
// key exchange. Keys of any size are accepted: old captures used 512- and
// 1024-bit keys that crypto/rsa refuses, so decryption uses math/big.
func (k *Keys) AddRSAKey(data []byte) error {
	n := 0
	var errs []error
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var key *rsa.PrivateKey
		switch b.Type {
		case "RSA PRIVATE KEY":
			var err error
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("PKCS#1 key %d: %w", n+len(errs)+1, err))
				continue
			}
		case "PRIVATE KEY":
			any, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("PKCS#8 key %d: %w", n+len(errs)+1, err))
				continue
			}
			var ok bool
			if key, ok = any.(*rsa.PrivateKey); !ok {
				errs = append(errs, fmt.Errorf("PKCS#8 key %d is a %T, not RSA", n+len(errs)+1, any))
				continue
			}
		default:
			continue
		}
		k.mu.Lock()
		k.rsaKeys = append(k.rsaKeys, key)
		k.mu.Unlock()
		n++
	}
	if n == 0 {
		if len(errs) == 0 {
			return errors.New("no RSA private key in PEM data")
		}
		return errors.Join(errs...)
	}
	return nil
}

// Len returns the number of client randoms with secrets, the number of
// RSA keys and of known sessions, for messages that say what was loaded.
func (k *Keys) Len() (randoms, rsaKeys, sessions int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.byRandom), len(k.rsaKeys), len(k.sessions)
}

func (k *Keys) lookup(cr []byte) *secrets {
	if k == nil || len(cr) != 32 {
		return nil
	}
	var key [32]byte
	copy(key[:], cr)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byRandom[key]
}

func (k *Keys) lookupRSAPMS(encPMS []byte) []byte {
	if k == nil || len(encPMS) < 8 {
		return nil
	}
	var key [8]byte
	copy(key[:], encPMS)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rsaPMS[key]
}

func (k *Keys) session(kind string, id []byte) []byte {
	if k == nil || len(id) == 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sessions[kind+string(id)]
}

// maxSessions bounds what conversion adds to the session cache.
const maxSessions = 1 << 16

func (k *Keys) remember(kind string, id, master []byte) {
	if k == nil || len(id) == 0 || len(master) != 48 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.sessions) >= maxSessions {
		return
	}
	if _, ok := k.sessions[kind+string(id)]; !ok {
		k.sessions[kind+string(id)] = bytes.Clone(master)
	}
}

func (k *Keys) rsaKeyList() []*rsa.PrivateKey {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rsaKeys
}
