package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
)

// maxMultipartParts bounds the parts read from one body.
const maxMultipartParts = 1000

// ParseMultipart parses a multipart body into {name: value}: a field's
// text, repeated names as lists. A file part's value is its content; its
// file name and type are under "<name>.filename" and "<name>.contentType".
func ParseMultipart(body []byte, boundary string) (map[string]any, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	out := map[string]any{}
	for i := 0; ; i++ {
		if i == maxMultipartParts {
			return out, nil
		}
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(out) > 0 {
				return out, nil // keep the parts before a truncation
			}
			return nil, fmt.Errorf("parseMultipart: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(p, MaxDecodedSize))
		if err != nil && len(out) == 0 {
			return nil, fmt.Errorf("parseMultipart: %w", err)
		}
		name := p.FormName()
		if name == "" {
			name = fmt.Sprintf("part%d", i)
		}
		add(out, name, string(b))
		if fn := p.FileName(); fn != "" {
			add(out, name+".filename", fn)
			if ct := p.Header.Get("Content-Type"); ct != "" {
				add(out, name+".contentType", ct)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("parseMultipart: no parts")
	}
	return out, nil
}
