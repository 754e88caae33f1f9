package tls

// What QUIC (pcap/internal/quic) needs of this package: QUIC carries the
// TLS 1.3 handshake in CRYPTO frames instead of records, so it parses the
// handshake messages itself with these and looks up the same key log
// secrets by client random.

// Secrets13 are the TLS 1.3 traffic secrets a key log gives for one client
// random; a missing one is nil.
type Secrets13 struct {
	ClientEarly, ClientHandshake, ServerHandshake, ClientTraffic, ServerTraffic []byte
}

// TLS13 returns the TLS 1.3 secrets of a client random.
func (k *Keys) TLS13(clientRandom []byte) (Secrets13, bool) {
	s := k.lookup(clientRandom)
	if s == nil {
		return Secrets13{}, false
	}
	return Secrets13{
		ClientEarly: s.early, ClientHandshake: s.clientHS, ServerHandshake: s.serverHS,
		ClientTraffic: s.clientApp, ServerTraffic: s.serverApp,
	}, true
}

// Hello is what QUIC uses of a ClientHello.
type Hello struct {
	Random []byte
	SNI    string
	ALPN   []string
}

// Handshake message types QUIC looks at.
const (
	HandshakeClientHello         = hsClientHello
	HandshakeServerHello         = hsServerHello
	HandshakeEncryptedExtensions = hsEncryptedExts
)

// ParseClientHello parses the body of a ClientHello handshake message
// (after its 4-byte header).
func ParseClientHello(body []byte) (Hello, bool) {
	ch, ok := parseClientHello(body)
	if !ok {
		return Hello{}, false
	}
	return Hello{Random: ch.random, SNI: ch.sni, ALPN: ch.alpn}, true
}

// ParseServerHello returns the cipher suite and negotiated version of a
// ServerHello body, and whether it is a HelloRetryRequest.
func ParseServerHello(body []byte) (suite, version uint16, retry, ok bool) {
	sh, ok := parseServerHello(body)
	if !ok {
		return 0, 0, false, false
	}
	return sh.suite, sh.version, sh.retry, true
}

// ParseEncryptedExtensions returns the ALPN protocol the server chose.
func ParseEncryptedExtensions(body []byte) string {
	alpn, _ := parseEncryptedExtensions(body)
	return alpn
}

// SuiteName returns the IANA name of a cipher suite ("0x1304" when
// unknown).
func SuiteName(id uint16) string { return suiteByID(id).name }
