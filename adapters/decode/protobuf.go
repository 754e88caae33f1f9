package decode

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	json "github.com/go-json-experiment/json/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// maxProtoDepth bounds how deep length-delimited fields are tried as
// nested messages.
const maxProtoDepth = 64

// DecodeProtobuf decodes a protobuf message. Without a schema, keys are
// field numbers ("1", "2", ...), a repeated field becomes a list, varints
// and fixed64 are unsigned integers (int64, or json.Number above 2^63-1, so
// 64-bit values stay exact), fixed32 an unsigned integer, and a
// length-delimited field a nested message when its bytes parse completely
// as one, else its bytes as a string. This is the heuristic of CyberChef's
// decoder, which TrackHAR uses, so paths written for it hold. Fields named
// in the schema get the schema's name and type.
func DecodeProtobuf(b []byte, schema ProtoSchema) (map[string]any, error) {
	if len(b) == 0 {
		return nil, errors.New("decodeProtobuf: empty input")
	}
	return protoMessage(b, schema, 0)
}

// consumeValue reads one value of a wire type (varint, fixed or
// length-delimited): the bits of a number, or the bytes. n < 0 is
// protowire's error code.
func consumeValue(b []byte, wire protowire.Type) (u uint64, raw []byte, n int) {
	switch wire {
	case protowire.VarintType:
		u, n = protowire.ConsumeVarint(b)
	case protowire.Fixed64Type:
		u, n = protowire.ConsumeFixed64(b)
	case protowire.Fixed32Type:
		var x uint32
		x, n = protowire.ConsumeFixed32(b)
		u = uint64(x)
	default:
		raw, n = protowire.ConsumeBytes(b)
	}
	return u, raw, n
}

func unsignedValue(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return json.Number(strconv.FormatUint(u, 10))
}

func protoMessage(b []byte, schema ProtoSchema, depth int) (map[string]any, error) {
	m := map[string]any{}
	for off := 0; off < len(b); {
		// Not protowire.ConsumeTag: it rejects field number 0, which the
		// schemaless heuristic accepts as CyberChef's does.
		tag, n := protowire.ConsumeVarint(b[off:])
		if n < 0 {
			return nil, fmt.Errorf("decodeProtobuf: byte %d: tag: %w", off, protowire.ParseError(n))
		}
		num, wire := tag>>3, protowire.Type(tag&7)
		if wire == protowire.StartGroupType || wire == protowire.EndGroupType || wire > protowire.Fixed32Type {
			return nil, fmt.Errorf("decodeProtobuf: byte %d: unsupported wire type %d", off, wire)
		}
		u, raw, vn := consumeValue(b[off+n:], wire)
		if vn < 0 {
			return nil, fmt.Errorf("decodeProtobuf: byte %d: field %d: %w", off+n, num, protowire.ParseError(vn))
		}
		off += n + vn
		var v any // the schemaless value; a length-delimited one is decided below
		switch wire {
		case protowire.Fixed32Type:
			v = int64(u)
		case protowire.VarintType, protowire.Fixed64Type:
			v = unsignedValue(u)
		}
		key := strconv.FormatUint(num, 10)
		if f, ok := schema[int(num)]; ok && num <= math.MaxInt32 {
			if tv, ok := protoTyped(f, wire, v, u, raw, depth); ok {
				name := f.Name
				if name == "" {
					name = key
				}
				if !f.Repeated {
					add(m, name, tv)
				} else if l, packed := tv.([]any); packed && protoScalars[f.Type].conv != nil {
					m[name] = append(asList(m[name]), l...)
				} else {
					m[name] = append(asList(m[name]), tv)
				}
				continue
			}
		}
		if wire == protowire.BytesType {
			v = protoBytes(raw, depth)
		}
		add(m, key, v)
	}
	return m, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// protoBytes decodes a length-delimited field without a schema.
func protoBytes(raw []byte, depth int) any {
	if len(raw) == 0 {
		return ""
	}
	if depth < maxProtoDepth {
		if sub, err := protoMessage(raw, nil, depth+1); err == nil {
			return sub
		}
	}
	return string(raw)
}

// add sets m[key] to v, or makes a list when key is repeated.
func add(m map[string]any, key string, v any) {
	old, ok := m[key]
	if !ok {
		m[key] = v
		return
	}
	if l, ok := old.([]any); ok {
		m[key] = append(l, v)
		return
	}
	m[key] = []any{old, v}
}

// protoTyped decodes a field the schema describes; ok is false when the
// wire type does not fit the type, and the field is then decoded as if it
// were not in the schema.
func protoTyped(f ProtoField, wire protowire.Type, v any, u uint64, raw []byte, depth int) (any, bool) {
	switch f.Type {
	case "":
		if wire != protowire.BytesType {
			return v, true
		}
		if f.Fields != nil {
			if sub, err := protoMessage(raw, f.Fields, depth+1); err == nil {
				return sub, true
			}
		}
		return protoBytes(raw, depth), true
	case "string", "bytes":
		return string(raw), wire == protowire.BytesType
	case "message":
		if wire != protowire.BytesType || depth >= maxProtoDepth {
			return nil, false
		}
		sub, err := protoMessage(raw, f.Fields, depth+1)
		return sub, err == nil
	}
	sc := protoScalars[f.Type]
	if wire == sc.wire {
		return sc.conv(u), true
	}
	if wire != protowire.BytesType {
		return nil, false
	}
	// A packed list of scalars.
	var out []any
	for len(raw) > 0 {
		u, _, n := consumeValue(raw, sc.wire)
		if n < 0 {
			return nil, false
		}
		out = append(out, sc.conv(u))
		raw = raw[n:]
	}
	return out, true
}

// protoScalars are the scalar types: their wire type and their value from
// the wire's bits.
var protoScalars = map[string]struct {
	wire protowire.Type
	conv func(u uint64) any
}{
	"int64":    {protowire.VarintType, func(u uint64) any { return int64(u) }},
	"enum":     {protowire.VarintType, func(u uint64) any { return int64(u) }},
	"int32":    {protowire.VarintType, func(u uint64) any { return int64(int32(u)) }},
	"uint64":   {protowire.VarintType, unsignedValue},
	"uint32":   {protowire.VarintType, func(u uint64) any { return int64(uint32(u)) }},
	"sint32":   {protowire.VarintType, func(u uint64) any { return protowire.DecodeZigZag(u) }},
	"sint64":   {protowire.VarintType, func(u uint64) any { return protowire.DecodeZigZag(u) }},
	"bool":     {protowire.VarintType, func(u uint64) any { return u != 0 }},
	"fixed64":  {protowire.Fixed64Type, unsignedValue},
	"sfixed64": {protowire.Fixed64Type, func(u uint64) any { return int64(u) }},
	"double":   {protowire.Fixed64Type, func(u uint64) any { return math.Float64frombits(u) }},
	"fixed32":  {protowire.Fixed32Type, func(u uint64) any { return int64(uint32(u)) }},
	"sfixed32": {protowire.Fixed32Type, func(u uint64) any { return int64(int32(uint32(u))) }},
	"float":    {protowire.Fixed32Type, func(u uint64) any { return float64(math.Float32frombits(uint32(u))) }},
}

// ProtoSchema names and types the fields of a protobuf message.
type ProtoSchema map[int]ProtoField

// ProtoField is one field of a ProtoSchema.
type ProtoField struct {
	// Name replaces the field number as key.
	Name string `yaml:"name"`
	// Type is one of: string, bytes, int32, int64, uint32, uint64, sint32,
	// sint64, bool, enum, fixed32, fixed64, sfixed32, sfixed64, float,
	// double, message. Empty keeps the schemaless decoding.
	Type string `yaml:"type,omitempty"`
	// Repeated makes the value always an array.
	Repeated bool `yaml:"repeated,omitempty"`
	// Fields is the schema of a message field.
	Fields ProtoSchema `yaml:"fields,omitempty"`
}

// Check reports a field number out of range, an unknown type, or fields
// given for a type that is not a message.
func (s ProtoSchema) Check() error {
	for num, f := range s {
		if !protowire.Number(num).IsValid() {
			return fmt.Errorf("field number %d out of range", num)
		}
		switch f.Type {
		case "", "string", "bytes", "message":
		default:
			if protoScalars[f.Type].conv == nil {
				return fmt.Errorf("field %d: unknown type %q", num, f.Type)
			}
		}
		if f.Fields != nil {
			if f.Type != "message" && f.Type != "" {
				return fmt.Errorf("field %d: fields given for type %s", num, f.Type)
			}
			if err := f.Fields.Check(); err != nil {
				return fmt.Errorf("field %d: %w", num, err)
			}
		}
	}
	return nil
}
