package config

import "encoding/base64"

// CrosspostConfig holds what crossposting needs from the operator.
type CrosspostConfig struct {
	// SecretKey is the AES-256 key, base64, that seals the access tokens
	// of users' Mastodon targets. Empty: a key is made on first use and
	// kept in the database (server_keys), so tokens are sealed either way;
	// set one to keep the key out of the database and its backups.
	SecretKey string `koanf:"secret_key"`
}

// CrosspostKeySize is the length of crosspost.secret_key once decoded.
const CrosspostKeySize = 32

// Key decodes SecretKey; nil when none is set.
func (c CrosspostConfig) Key() []byte {
	key, err := base64.StdEncoding.DecodeString(c.SecretKey)
	if err != nil || len(key) != CrosspostKeySize {
		return nil
	}
	return key
}

func (c *Config) validateCrosspost() error {
	if c.Crosspost.SecretKey != "" && c.Crosspost.Key() == nil {
		// The value is a secret: the message must not repeat it.
		return keyError("crosspost.secret_key", "want %d random bytes in base64 (e.g. from `openssl rand -base64 32`), or empty", CrosspostKeySize)
	}
	return nil
}
