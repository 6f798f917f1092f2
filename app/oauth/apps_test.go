package oauth

import (
	"strings"
	"testing"
)

func TestRedirectURIsAppsMayRegister(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example/callback":      true,
		"https://app.example/cb?tab=1":      true,
		"http://127.0.0.1/callback":         true,
		"http://[::1]:8080/callback":        true,
		"http://localhost:9000/cb":          true,
		"com.example.app:/oauth":            true,
		"nutshell://callback":               true,
		OOB:                                 true,
		"http://app.example/callback":       false, // plain http off the machine
		"https://app.example/cb#fragment":   false,
		"https://user:pw@app.example/cb":    false,
		"javascript:alert(document.cookie)": false,
		"JavaScript:alert(1)":               false,
		"data:text/html,<script>1</script>": false,
		"/relative/callback":                false,
		"https:///no-host":                  false,
		"https://app.example/has space":     false,
		"https://app.example/\ncallback":    false,
		"file:///etc/passwd":                false,
		"vbscript:msgbox":                   false,
		"https://app.example/" + long(1100): false,
		"https://app.example/" + long(900):  true,
	} {
		if err := validateRedirectURI(uri); (err == nil) != ok {
			t.Errorf("validateRedirectURI(%q) = %v, want ok=%v", uri, err, ok)
		}
	}
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestRedirectMatching(t *testing.T) {
	for _, tc := range []struct {
		registered, requested string
		match                 bool
	}{
		{"https://app.example/cb", "https://app.example/cb", true},
		{"https://app.example/cb", "https://app.example/cb/", false},
		{"https://app.example/cb", "https://app.example/cb?x=1", false},
		{"https://app.example/cb", "https://app.example:8443/cb", false},
		{"https://app.example/cb", "https://APP.example/cb", false},
		// RFC 8252 §7.3: native apps on loopback pick their port at run time.
		{"http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", true},
		{"http://127.0.0.1:1000/cb", "http://127.0.0.1:2000/cb", true},
		{"http://127.0.0.1/cb", "http://127.0.0.1:51234/other", false},
		{"http://127.0.0.1/cb", "http://localhost:51234/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.2:51234/cb", false},
		{"http://127.0.0.1/cb", "https://127.0.0.1:51234/cb", false},
		{"https://127.0.0.1/cb", "https://127.0.0.1:51234/cb", false},
	} {
		if got := redirectMatches(tc.registered, tc.requested); got != tc.match {
			t.Errorf("redirectMatches(%q, %q) = %v, want %v", tc.registered, tc.requested, got, tc.match)
		}
	}
}

func TestPKCEVerifier(t *testing.T) {
	v := "a-verifier_of.exactly~forty-three-characters"[:43]
	challenge := S256(v)
	if !challengePattern.MatchString(challenge) || !verifierMatches(challenge, v) {
		t.Fatalf("S256(%q) = %q does not verify", v, challenge)
	}
	for _, bad := range []string{v[:42], v + "!", "", v[:42] + "b"} {
		if verifierMatches(challenge, bad) {
			t.Errorf("verifier %q matched", bad)
		}
	}
	if verifierMatches(challenge, long(129)) {
		t.Error("a 129-character verifier matched")
	}
}

// TestClientIDsNeverLookLikeFlags: an id starting with "-" cannot be
// passed to pecan app trust; one in 64 base64url strings starts so.
func TestClientIDsNeverLookLikeFlags(t *testing.T) {
	for range 2000 {
		id, err := newClientID()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(id, "-") || len(id) < 20 {
			t.Fatalf("client id %q", id)
		}
	}
}
