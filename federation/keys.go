package federation

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// keyBits is the size of the RSA keys Pecan generates for actors. Mastodon
// and GoToSocial both use 2048-bit RSA keys.
const keyBits = 2048

// GenerateKey makes an RSA 2048 key pair: PKCS#8 "PRIVATE KEY" PEM and PKIX
// "PUBLIC KEY" PEM. The public PEM is the form actor documents carry in
// publicKey.publicKeyPem.
func GenerateKey() (privatePEM, publicPEM string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return "", "", fmt.Errorf("generate RSA key: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("marshal private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("marshal public key: %w", err)
	}
	privatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
	publicPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return privatePEM, publicPEM, nil
}

// ParsePrivateKey reads an RSA private key from the first PEM block in
// pemText, either PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
// Surrounding whitespace and text before the block (a comment) are ignored.
func ParsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		return nil, errors.New("parse private key: no PEM block found")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#8 private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("parse private key: %T is not an RSA key", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#1 private key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("parse private key: unsupported PEM block %q", block.Type)
	}
}

// ParsePublicKey reads an RSA public key from the first PEM block in pemText,
// either PKIX ("PUBLIC KEY", what Mastodon and GoToSocial publish) or PKCS#1
// ("RSA PUBLIC KEY"). Surrounding whitespace and text before the block are
// ignored.
func ParsePublicKey(pemText string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		return nil, errors.New("parse public key: no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKIX public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("parse public key: %T is not an RSA key", k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#1 public key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("parse public key: unsupported PEM block %q", block.Type)
	}
}
