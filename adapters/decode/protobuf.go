package decode

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

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

type protoError struct {
	off int
	msg string
}

func (e *protoError) Error() string { return fmt.Sprintf("decodeProtobuf: byte %d: %s", e.off, e.msg) }

func readVarint(b []byte, off int) (uint64, int, error) {
	v, n := protowire.ConsumeVarint(b[off:])
	if n < 0 {
		if errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF) {
			return 0, 0, &protoError{off, "truncated varint"}
		}
		return 0, 0, &protoError{off, "varint overflows 64 bits"}
	}
	return v, off + n, nil
}

func unsignedValue(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return json.Number(strconv.FormatUint(u, 10))
}

func protoMessage(b []byte, schema ProtoSchema, depth int) (map[string]any, error) {
	m := map[string]any{}
	off := 0
	for off < len(b) {
		tag, n, err := readVarint(b, off)
		if err != nil {
			return nil, err
		}
		start := off
		off = n
		num := tag >> 3
		wire := tag & 7
		var raw []byte
		var v any
		var u uint64
		switch wire {
		case 0:
			u, off, err = readVarint(b, off)
			if err != nil {
				return nil, err
			}
			v = unsignedValue(u)
		case 1:
			if off+8 > len(b) {
				return nil, &protoError{off, "truncated fixed64"}
			}
			u = binary.LittleEndian.Uint64(b[off:])
			v = unsignedValue(u)
			off += 8
		case 5:
			if off+4 > len(b) {
				return nil, &protoError{off, "truncated fixed32"}
			}
			u = uint64(binary.LittleEndian.Uint32(b[off:]))
			v = int64(u)
			off += 4
		case 2:
			l, n, err := readVarint(b, off)
			if err != nil {
				return nil, err
			}
			if l > uint64(len(b)-n) {
				return nil, &protoError{off, fmt.Sprintf("length %d beyond the end", l)}
			}
			off = n
			raw = b[off : off+int(l)]
			off += int(l)
			v = nil // decided below
		default:
			return nil, &protoError{start, fmt.Sprintf("unsupported wire type %d", wire)}
		}
		key := strconv.FormatUint(num, 10)
		f, inSchema := schema[int(num)]
		if num > math.MaxInt32 {
			inSchema = false
		}
		if inSchema {
			if tv, ok := protoTyped(f, wire, v, u, raw, depth); ok {
				name := f.Name
				if name == "" {
					name = key
				}
				if f.Repeated {
					old, _ := m[name].([]any)
					if l, ok := tv.([]any); ok && f.Type != "message" && f.Type != "" && wire == 2 && f.Type != "string" && f.Type != "bytes" {
						m[name] = append(old, l...) // packed
					} else {
						m[name] = append(old, tv)
					}
					continue
				}
				protoAdd(m, name, tv)
				continue
			}
		}
		if wire == 2 {
			v = protoBytes(raw, depth)
		}
		protoAdd(m, key, v)
	}
	return m, nil
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

func protoAdd(m map[string]any, key string, v any) {
	old, ok := m[key]
	if !ok {
		m[key] = v
		return
	}
	if l, ok := old.(protoList); ok {
		m[key] = append(l, v)
		return
	}
	m[key] = protoList{old, v}
}

// protoList marks lists made of repeated fields while decoding; they are
// plain []any in the result (see finishProto).
type protoList = []any

// protoTyped decodes a field the schema describes; ok is false when the
// wire type does not fit the type, and the field is then decoded as if it
// were not in the schema.
func protoTyped(f ProtoField, wire uint64, v any, u uint64, raw []byte, depth int) (any, bool) {
	t := f.Type
	if t == "" {
		if wire == 2 {
			if f.Fields != nil {
				if sub, err := protoMessage(raw, f.Fields, depth+1); err == nil {
					return sub, true
				}
			}
			return protoBytes(raw, depth), true
		}
		return v, true
	}
	switch t {
	case "string", "bytes":
		if wire != 2 {
			return nil, false
		}
		return string(raw), true
	case "message":
		if wire != 2 || depth >= maxProtoDepth {
			return nil, false
		}
		sub, err := protoMessage(raw, f.Fields, depth+1)
		if err != nil {
			return nil, false
		}
		return sub, true
	}
	// Scalars: one value, or a packed list when length-delimited.
	if wire == 2 {
		var out []any
		for off := 0; off < len(raw); {
			var x any
			var ok bool
			x, off, ok = protoScalar(t, raw, off)
			if !ok {
				return nil, false
			}
			out = append(out, x)
		}
		return out, true
	}
	return protoConvert(t, wire, u)
}

func protoScalar(t string, b []byte, off int) (any, int, bool) {
	switch t {
	case "fixed64", "sfixed64", "double":
		if off+8 > len(b) {
			return nil, 0, false
		}
		v, ok := protoConvert(t, 1, binary.LittleEndian.Uint64(b[off:]))
		return v, off + 8, ok
	case "fixed32", "sfixed32", "float":
		if off+4 > len(b) {
			return nil, 0, false
		}
		v, ok := protoConvert(t, 5, uint64(binary.LittleEndian.Uint32(b[off:])))
		return v, off + 4, ok
	}
	u, n, err := readVarint(b, off)
	if err != nil {
		return nil, 0, false
	}
	v, ok := protoConvert(t, 0, u)
	return v, n, ok
}

func protoConvert(t string, wire uint64, u uint64) (any, bool) {
	want := uint64(0)
	switch t {
	case "fixed64", "sfixed64", "double":
		want = 1
	case "fixed32", "sfixed32", "float":
		want = 5
	}
	if wire != want {
		return nil, false
	}
	switch t {
	case "int64", "enum":
		return int64(u), true
	case "int32":
		return int64(int32(u)), true
	case "uint64", "fixed64":
		return unsignedValue(u), true
	case "uint32", "fixed32":
		return int64(uint32(u)), true
	case "sint32", "sint64":
		return int64(u>>1) ^ -int64(u&1), true
	case "bool":
		return u != 0, true
	case "sfixed64":
		return int64(u), true
	case "sfixed32":
		return int64(int32(uint32(u))), true
	case "double":
		return math.Float64frombits(u), true
	case "float":
		return float64(math.Float32frombits(uint32(u))), true
	}
	return nil, false
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

var protoTypes = map[string]bool{
	"": true, "string": true, "bytes": true, "int32": true, "int64": true, "uint32": true,
	"uint64": true, "sint32": true, "sint64": true, "bool": true, "enum": true,
	"fixed32": true, "fixed64": true, "sfixed32": true, "sfixed64": true,
	"float": true, "double": true, "message": true,
}

// Check reports a field number out of range, an unknown type, or fields
// given for a type that is not a message.
func (s ProtoSchema) Check() error {
	for num, f := range s {
		if num < 1 || num > 1<<29-1 {
			return fmt.Errorf("field number %d out of range", num)
		}
		if !protoTypes[f.Type] {
			return fmt.Errorf("field %d: unknown type %q", num, f.Type)
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
