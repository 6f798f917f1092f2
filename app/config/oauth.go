package config

import "time"

// OAuthConfig tunes the OAuth pages and codes.
type OAuthConfig struct {
	CodeTTL    time.Duration `koanf:"code_ttl"`
	SessionTTL time.Duration `koanf:"session_ttl"`
}

func (c *Config) validateOAuth() error {
	if d := c.OAuth.CodeTTL; d < 10*time.Second || d > 10*time.Minute {
		// RFC 6749 §4.1.2: codes should live at most ten minutes.
		return keyError("oauth.code_ttl", "want 10s to 10m, got %s", d)
	}
	if d := c.OAuth.SessionTTL; d < time.Minute {
		return keyError("oauth.session_ttl", "want at least 1m, got %s", d)
	}
	return nil
}
