package i18n

import "testing"

func TestCatalogsLoad(t *testing.T) {
	if err := Err(); err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		if len(Keys(lang, "properties")) == 0 {
			t.Errorf("%s: no property labels", lang)
		}
	}
}

func TestSameKeysInEveryLanguage(t *testing.T) {
	for _, section := range []string{"properties", "contexts", "encodings", "ui", "trackers"} {
		en := map[string]bool{}
		for _, k := range Keys("en", section) {
			en[k] = true
		}
		for _, lang := range Languages[1:] {
			other := map[string]bool{}
			for _, k := range Keys(lang, section) {
				other[k] = true
				if !en[k] {
					t.Errorf("%s: %s.%s has no English text", lang, section, k)
				}
			}
			for k := range en {
				if !other[k] {
					t.Errorf("%s: %s.%s is missing", lang, section, k)
				}
			}
		}
	}
}

func TestFallbacks(t *testing.T) {
	tests := []struct{ lang, name, want string }{
		{"en", "advertisingId", "Advertising ID"},
		{"de", "advertisingId", "Werbe-ID"},
		{"fr", "advertisingId", "Advertising ID"}, // unknown language: English
		{"de", "noSuchProperty", "noSuchProperty"},
	}
	for _, tt := range tests {
		if got := Property(tt.lang, tt.name); got != tt.want {
			t.Errorf("Property(%q, %q) = %q, want %q", tt.lang, tt.name, got, tt.want)
		}
	}
	if HasProperty("de", "noSuchProperty") {
		t.Error("HasProperty reports a missing label")
	}
	if Tracker("de", "google") == "" || Tracker("de", "google") == Tracker("en", "google") {
		t.Error("German Google description missing or not German")
	}
}

// TestWebSocketContext: findings in WebSocket messages (context
// "websocket") are labelled in every language.
func TestWebSocketContext(t *testing.T) {
	for _, lang := range Languages {
		if got := Context(lang, "websocket"); got == "" || got == "websocket" {
			t.Errorf("%s: context websocket is labelled %q", lang, got)
		}
	}
}

// TestDiagnostics: messages of the capture readers are translated when a
// pattern matches the whole message, the most specific pattern first;
// others, and English, stay as written.
func TestDiagnostics(t *testing.T) {
	for _, tt := range []struct{ lang, msg, want string }{
		{"de", "no key for client random ab85fc5f", "kein Schlüssel für das Client-Random ab85fc5f"},
		{"de", "no key for client random ab85 (extended master secret: handshake incomplete)", "kein Schlüssel für das Client-Random ab85 (Extended Master Secret: Handshake unvollständig)"},
		{"de", "cipher suite 0x1301 (TLS_AES_128_GCM_SHA256) does not go with TLS 1.2", "die Cipher-Suite 0x1301 (TLS_AES_128_GCM_SHA256) passt nicht zu TLS 1.2"},
		{"de", "no key for client random", "no key for client random"},
		{"de", "something else entirely", "something else entirely"},
		{"en", "no key for client random ab85fc5f", "no key for client random ab85fc5f"},
	} {
		if got := Diagnostic(tt.lang, tt.msg); got != tt.want {
			t.Errorf("Diagnostic(%q, %q) = %q, want %q", tt.lang, tt.msg, got, tt.want)
		}
	}
	if _, err := compileDiagnostics(map[string]string{"a {} b": "c"}); err == nil {
		t.Error("a translation with fewer {} than its pattern is accepted")
	}
}
