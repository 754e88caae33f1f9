package enrich

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
)

// encrypt is AES-CBC with PKCS#7 padding, as Android's
// AES/CBC/PKCS5Padding, so the fixture is a real ciphertext.
func encrypt(t *testing.T, key, iv, pt []byte) []byte {
	t.Helper()
	blk, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(pt)%aes.BlockSize
	buf := append(append([]byte(nil), pt...), []byte(strings.Repeat(string(rune(pad)), pad))...)
	out := make([]byte, len(buf))
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(out, buf)
	return out
}

func aesRecord(alg string, key, iv, in, out []byte, ts int64) string {
	b, _ := json.Marshal(map[string]any{
		"type": "aes_info_log", "dump": "aes_info.json", "data_type": "json", "timestamp": ts, "pid": 4242, "process": "com.example.app",
		"data": map[string]any{"alg": alg, "key": hex.EncodeToString(key), "iv": hex.EncodeToString(iv), "in": hex.EncodeToString(in), "out": hex.EncodeToString(out)},
	})
	return string(b)
}

func TestDecryption(t *testing.T) {
	key := []byte("0123456789abcdef")
	iv := []byte("fedcba9876543210")
	reqPT := []byte(`{"adid":"38400000-8cf0-11bd-b23e-10b96e40000d","email":"alice@example.com"}`)
	reqCT := encrypt(t, key, iv, reqPT)
	respPT := []byte(`{"ok":true,"segment":"high-value"}`)
	respCT := encrypt(t, key, iv, respPT)
	b64PT := []byte(`{"lat":48.85,"lon":2.35}`)
	b64CT := encrypt(t, key, iv, b64PT)
	digest := make([]byte, 32)
	copy(digest, reqCT) // a "digest" whose out equals the request's first bytes: must not match

	recs := []string{
		aesRecord("AES", key, nil, nil, nil, 1700000009000),                                     // SecretKeySpec: key only
		aesRecord("AES/CBC/PKCS5Padding", key, iv, reqPT, reqCT, 1700000009500),                 // encrypts the request
		aesRecord("AES/CBC/PKCS5Padding", key, iv, respCT, respPT, 1700000010500),               // decrypts the response
		aesRecord("AES/CBC/PKCS5Padding", key, iv, b64PT, b64CT, 1700000011000),                 // sent as base64 text
		aesRecord("SHA-256", nil, nil, []byte("something hashed"), digest, 1700000009600),       // digest: skipped
		aesRecord("HmacSHA256", key, nil, []byte("mac input, long"), digest, 1700000009600),     // MAC: skipped
		aesRecord("RSA/ECB/PKCS1Padding", key, nil, []byte("wrapped key ..."), digest, 1),       // RSA: skipped
		aesRecord("AES/GCM/NoPadding", key, iv, []byte("short"), []byte("tiny"), 1700000009600), // too short
	}
	a, err := ReadAESInfo(strings.NewReader("["+strings.Join(recs, ",\n")+"]"), "aes_info.json")
	if err != nil {
		t.Fatal(err)
	}
	for reason, n := range map[string]int{skipKeyOnly: 1, skipAlg: 3, skipShort: 1} {
		if got := a.Stats.Skips(reason); got != n {
			t.Errorf("skips %q = %d, want %d (%v)", reason, got, n, a.Stats.Skipped)
		}
	}

	// 1: binary request body (base64 in the HAR) that is exactly the
	// ciphertext; a response body that is exactly a ciphertext.
	e1 := entry(flowA, baseSec+10, baseSec+10.4, "HTTP/1.1")
	e1.Request.Method = "POST"
	e1.Request.PostData = &har.PostData{MimeType: "application/octet-stream", Params: []har.Param{{Name: "x"}}}
	e1.Request.PostData.SetBody(reqCT)
	origReq := e1.Request.PostData.Text
	e1.Response.Content.MimeType = "application/octet-stream"
	e1.Response.Content.SetBody(respCT)
	// 2: the ciphertext sent as base64 text.
	e2 := entry(flowA, baseSec+11, 0, "HTTP/1.1")
	e2.Request.PostData = &har.PostData{MimeType: "text/plain", Text: base64.StdEncoding.EncodeToString(b64CT)}
	// 3: a body with nothing recorded, and one too short.
	e3 := entry(flowA, baseSec+12, baseSec+12.1, "HTTP/1.1")
	e3.Request.PostData = &har.PostData{MimeType: "text/plain", Text: "hello world, nothing secret here"}
	e3.Response.Content.SetBody(reqCT[:7])
	// 4: the ciphertext after an IV prefix: inside a larger body, so the
	// body stays and the plaintext goes beside it.
	e4 := entry(flowA, baseSec+13, 0, "HTTP/1.1")
	e4.Request.Method = "POST"
	e4.Request.PostData = &har.PostData{MimeType: "application/octet-stream", Params: []har.Param{{Name: "x"}}}
	e4.Request.PostData.SetBody(append(append([]byte(nil), iv...), reqCT...))
	origReq4 := e4.Request.PostData.Text

	s := run(t, []*har.Entry{e1, e2, e3, e4}, a.Enricher())

	if got, _ := e1.Request.PostData.Body(); string(got) != string(reqPT) {
		t.Errorf("request body = %q, want the plaintext", got)
	}
	if e1.Request.PostData.Encoding != "" || e1.Request.PostData.Params != nil {
		t.Errorf("request postData encoding %q params %v", e1.Request.PostData.Encoding, e1.Request.PostData.Params)
	}
	dec, _ := e1.Request.Extra["_decryption"].(map[string]any)
	wantDec := fmt.Sprintf(`{"alg":"AES/CBC/PKCS5Padding","iv":%q,"key":%q,"match":"body","originalBase64Content":%q,"pid":4242,"primitiveParameters":{"algorithm":"AES/CBC/PKCS5Padding","iv":%[1]q,"key":%[2]q},"process":"com.example.app","timestamp":1700000009.5}`,
		hex.EncodeToString(iv), hex.EncodeToString(key), origReq)
	if got, _ := json.Marshal(dec); string(got) != wantDec {
		t.Errorf("request _decryption:\n got %s\nwant %s", got, wantDec)
	}
	if got, _ := e1.Response.Content.Body(); string(got) != string(respPT) || e1.Response.Content.Size != int64(len(respPT)) {
		t.Errorf("response body = %q size %d", got, e1.Response.Content.Size)
	}
	if d, _ := e1.Response.Extra["_decryption"].(map[string]any); d["originalBase64Content"] != base64.StdEncoding.EncodeToString(respCT) || d["timestamp"] != 1700000010.5 {
		t.Errorf("response _decryption = %v", d)
	}
	if e2.Request.PostData.Text != string(b64PT) {
		t.Errorf("base64 request body = %q", e2.Request.PostData.Text)
	}
	if d, _ := e2.Request.Extra["_decryption"].(map[string]any); d["match"] != "base64-decoded body" {
		t.Errorf("base64 request _decryption = %v", d)
	}
	if _, ok := e3.Request.Extra["_decryption"]; ok || e3.Request.PostData.Text != "hello world, nothing secret here" {
		t.Error("entry 3 request changed")
	}
	if _, ok := e3.Response.Extra["_decryption"]; ok {
		t.Error("entry 3 response changed")
	}
	if e4.Request.PostData.Text != origReq4 || e4.Request.PostData.Encoding != "base64" || len(e4.Request.PostData.Params) != 1 {
		t.Errorf("entry 4: the body with the ciphertext inside changed: %+v", e4.Request.PostData)
	}
	if _, ok := e4.Request.Extra["_decryption"]; ok {
		t.Error("entry 4 got a _decryption")
	}
	part, _ := json.Marshal(e4.Request.Extra["_decryptedPart"])
	wantPart := fmt.Sprintf(`{"alg":"AES/CBC/PKCS5Padding","iv":%q,"key":%q,"length":%d,"match":"body","offset":16,"pid":4242,"plaintext":%q,"primitiveParameters":{"algorithm":"AES/CBC/PKCS5Padding","iv":%[1]q,"key":%[2]q},"process":"com.example.app","timestamp":1700000009.5}`,
		hex.EncodeToString(iv), hex.EncodeToString(key), len(reqCT), reqPT)
	if string(part) != wantPart {
		t.Errorf("entry 4 _decryptedPart:\n got %s\nwant %s", part, wantPart)
	}
	r := s.Source(AESInfoName)
	for name, want := range map[string]int{"requests decrypted": 2, "responses decrypted": 1, "decrypted through a base64 layer": 1, "operations used": 3,
		"ciphertexts inside a larger body (body kept, plaintext in _decryptedPart)": 1} {
		if got := r.Count(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}

	// Running again on the decrypted entries changes nothing.
	before := string(har.MarshalEntry(e1))
	before4 := string(har.MarshalEntry(e4))
	run(t, []*har.Entry{e1, e4}, a.Enricher())
	if after := string(har.MarshalEntry(e1)); after != before {
		t.Errorf("second run changed the entry")
	}
	if after := string(har.MarshalEntry(e4)); after != before4 {
		t.Errorf("second run changed entry 4")
	}
}

// TestDecryptionInsideLargerBody is issue 10's case: a 16-byte ciphertext
// (one AES block) recorded by a decryption occurs by chance, or as part of
// something else, inside a 52 KB font. The font must stay the font; the
// plaintext is attached beside it with the ciphertext's offset.
func TestDecryptionInsideLargerBody(t *testing.T) {
	key := []byte("0123456789abcdef")
	iv := []byte("fedcba9876543210")
	pt := []byte("uid=42")
	ct := encrypt(t, key, iv, pt)
	if len(ct) != 16 {
		t.Fatalf("ciphertext of %d bytes", len(ct))
	}
	font := make([]byte, 52_000)
	for i := range font {
		font[i] = byte(i*7 + i/251)
	}
	copy(font, "wOF2")
	const at = 30_011
	copy(font[at:], ct)
	a, err := ReadAESInfo(strings.NewReader("["+aesRecord("AES/CBC/PKCS5Padding", key, iv, ct, pt, 1700000010500)+"]"), "aes_info.json")
	if err != nil {
		t.Fatal(err)
	}
	e := entry(flowA, baseSec+10, baseSec+10.4, "HTTP/1.1")
	e.Response.Content.MimeType = "font/woff2"
	e.Response.Content.SetBody(font)
	orig := e.Response.Content
	s := run(t, []*har.Entry{e}, a.Enricher())
	if got, _ := e.Response.Content.Body(); string(got) != string(font) || e.Response.Content.Size != orig.Size || e.Response.Content.Text != orig.Text {
		t.Fatalf("the font was replaced: %d bytes now", len(got))
	}
	if _, ok := e.Response.Extra["_decryption"]; ok {
		t.Error("the font response got a _decryption")
	}
	part, _ := e.Response.Extra["_decryptedPart"].(map[string]any)
	if part["offset"] != int64(at) || part["length"] != int64(16) || part["plaintext"] != string(pt) || part["match"] != "body" {
		t.Errorf("_decryptedPart = %v", part)
	}
	r := s.Source(AESInfoName)
	if r.Count("responses decrypted") != 0 || r.Count("ciphertexts inside a larger body (body kept, plaintext in _decryptedPart)") != 1 {
		t.Errorf("counts %v", r.Counts)
	}
}

func TestDecryptionMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, in, wantErr string
		skip              string
	}{
		{name: "bad hex", in: `[{"timestamp":1700000009000,"data":{"alg":"AES","in":"zz","out":"00112233445566778899"}}]`, skip: skipHex},
		{name: "data not an object", in: `[{"timestamp":1700000009000,"data":"x"}]`, skip: skipNoData},
		{name: "truncated", in: `[{"timestamp":1700000009000,"data":{"alg":"AES","in":"00`, skip: ""},
		{name: "broken", in: `[{"timestamp":1700000009000,"data":{"alg":"AES" "in":"00"}}]`, wantErr: "aes_info.json: record 0 at byte 48: invalid JSON: invalid character '\"' after object value (expecting ',' or '}')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAESInfo(strings.NewReader(tc.in), "aes_info.json")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.skip != "" && a.Stats.Skips(tc.skip) != 1 {
				t.Errorf("skips %v, want one %q", a.Stats.Skipped, tc.skip)
			}
			if tc.skip == "" && a.Stats.Truncated == "" {
				t.Errorf("not reported as truncated: %+v", a.Stats)
			}
		})
	}
}
