// Package communityid computes Community ID flow hashes (version 1 of the
// corelight specification), the identifier tracewire uses to join packets,
// HAR entries and socket traces recorded on a device.
package communityid

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
)

// IP protocol numbers with special handling.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)

// Flow is one direction of a flow as seen in a packet. For ICMP and ICMPv6,
// SrcPort holds the message type and DstPort the code, as in the spec's
// baseline data. For protocols without ports both are ignored.
type Flow struct {
	Proto   uint8
	Src     netip.Addr
	Dst     netip.Addr
	SrcPort uint16
	DstPort uint16
}

// Config selects the spec's options; the zero value is the default (seed 0,
// base64).
type Config struct {
	Seed  uint16
	NoB64 bool
}

// ID returns the Community ID of f with default settings.
func (f Flow) ID() string { return Config{}.ID(f) }

// ID returns the Community ID of f, or "" when the addresses are not both
// IPv4 or both IPv6.
func (c Config) ID(f Flow) string {
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return ""
	}
	sport, dport := f.SrcPort, f.DstPort
	hasPorts := true
	oneWay := false
	switch f.Proto {
	case ProtoTCP, ProtoUDP, ProtoSCTP:
	case ProtoICMP:
		sport, dport, oneWay = icmpPorts(icmp4Pairs, uint8(f.SrcPort), uint8(f.DstPort))
	case ProtoICMPv6:
		sport, dport, oneWay = icmpPorts(icmp6Pairs, uint8(f.SrcPort), uint8(f.DstPort))
	default:
		hasPorts = false
	}

	// Order the endpoints so the smaller address (then port) comes first;
	// one-way ICMP messages keep their direction.
	if !oneWay {
		cmp := src.Compare(dst)
		if cmp > 0 || (cmp == 0 && hasPorts && sport > dport) {
			src, dst = dst, src
			sport, dport = dport, sport
		}
	}

	buf := make([]byte, 0, 2+16+16+2+4)
	buf = append(buf, byte(c.Seed>>8), byte(c.Seed))
	buf = append(buf, src.AsSlice()...)
	buf = append(buf, dst.AsSlice()...)
	buf = append(buf, f.Proto, 0)
	if hasPorts {
		buf = append(buf, byte(sport>>8), byte(sport), byte(dport>>8), byte(dport))
	}
	sum := sha1.Sum(buf)
	if c.NoB64 {
		return "1:" + hex.EncodeToString(sum[:])
	}
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// icmpPorts maps an ICMP type and code to the port pair the spec hashes: a
// request/response type pair hashes both types so the two directions share
// an ID; any other message is one-way and hashes type and code.
func icmpPorts(pairs map[uint8]uint8, typ, code uint8) (sport, dport uint16, oneWay bool) {
	if other, ok := pairs[typ]; ok {
		return uint16(typ), uint16(other), false
	}
	return uint16(typ), uint16(code), true
}

// Request/response pairs of ICMPv4 (echo, router, timestamp, information,
// address mask).
var icmp4Pairs = symmetric(map[uint8]uint8{8: 0, 10: 9, 13: 14, 15: 16, 17: 18})

// Request/response pairs of ICMPv6 (echo, multicast listener, router and
// neighbor discovery, node information, home agent discovery).
var icmp6Pairs = symmetric(map[uint8]uint8{128: 129, 130: 131, 133: 134, 135: 136, 139: 140, 144: 145})

func symmetric(m map[uint8]uint8) map[uint8]uint8 {
	out := make(map[uint8]uint8, 2*len(m))
	for a, b := range m {
		out[a], out[b] = b, a
	}
	return out
}
