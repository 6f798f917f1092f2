package federation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(privPEM, "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("private PEM is not PKCS#8: %.40q", privPEM)
	}
	if !strings.HasPrefix(pubPEM, "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("public PEM is not PKIX: %.40q", pubPEM)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if got := priv.N.BitLen(); got != 2048 {
		t.Errorf("key size %d bits, want 2048", got)
	}
	if !pub.Equal(&priv.PublicKey) {
		t.Error("public PEM does not hold the private key's public half")
	}
	h := sha256.Sum256([]byte("x"))
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Errorf("signature by generated key does not verify: %v", err)
	}

	priv2, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if priv2 == privPEM {
		t.Error("two calls returned the same key")
	}
}

func TestParseKeys(t *testing.T) {
	key := testKey(t) // the commented testdata PEM itself must parse
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }

	privCases := []struct {
		name, pem string
		ok        bool
	}{
		{"PKCS#8", enc("PRIVATE KEY", pkcs8), true},
		{"PKCS#1", enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), true},
		{"surrounding whitespace", "\n  " + enc("PRIVATE KEY", pkcs8) + "\n\n", true},
		{"leading comment", "# test-only\n" + enc("PRIVATE KEY", pkcs8), true},
		{"PKCS#1 bytes labelled PKCS#8", enc("PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), false},
		{"EC key", enc("PRIVATE KEY", ecPriv), false},
		{"public key", enc("PUBLIC KEY", pkix), false},
		{"not PEM", "hello", false},
		{"empty", "", false},
	}
	for _, c := range privCases {
		t.Run("private/"+c.name, func(t *testing.T) {
			got, err := ParsePrivateKey(c.pem)
			if !c.ok {
				if err == nil {
					t.Fatal("parsed, want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Error("parsed a different key")
			}
		})
	}

	pubCases := []struct {
		name, pem string
		ok        bool
	}{
		{"PKIX", enc("PUBLIC KEY", pkix), true},
		{"PKCS#1", enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey)), true},
		{"EC key", enc("PUBLIC KEY", ecPub), false},
		{"private key", enc("PRIVATE KEY", pkcs8), false},
		{"certificate label", enc("CERTIFICATE", pkix), false},
		{"truncated DER", enc("PUBLIC KEY", pkix[:40]), false},
		{"not PEM", "-----BEGIN PUBLIC KEY-----\nnope", false},
	}
	for _, c := range pubCases {
		t.Run("public/"+c.name, func(t *testing.T) {
			got, err := ParsePublicKey(c.pem)
			if !c.ok {
				if err == nil {
					t.Fatal("parsed, want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&key.PublicKey) {
				t.Error("parsed a different key")
			}
		})
	}
}

// testKey and otherKey are committed, test-only keys (see the comment at the
// top of each file) so fixtures are reproducible and tests need not spend
// time generating RSA keys.
func testKey(t testing.TB) *rsa.PrivateKey  { return loadKey(t, "testdata/test-key.pem") }
func otherKey(t testing.TB) *rsa.PrivateKey { return loadKey(t, "testdata/other-key.pem") }

func loadKey(t testing.TB, path string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(string(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}
