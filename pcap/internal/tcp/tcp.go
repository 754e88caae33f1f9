// Package tcp reassembles TCP connections with gopacket's reassembly and
// hands each connection's bytes, in order and per direction, to a
// stream.Parser; idle and closed connections are flushed and freed.
package tcp
