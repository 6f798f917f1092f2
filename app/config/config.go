// Package config loads Pecan's configuration: defaults, then a YAML file,
// then PECAN_* environment variables. Every problem names the key at fault.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Config is the whole configuration. The koanf tags are the YAML keys.
type Config struct {
	Listen     string           `koanf:"listen"`
	Host       string           `koanf:"host"`
	Scheme     string           `koanf:"scheme"`
	Database   DatabaseConfig   `koanf:"database"`
	Redis      RedisConfig      `koanf:"redis"`
	HTTP       HTTPConfig       `koanf:"http"`
	RateLimits RateLimitsConfig `koanf:"rate_limits"`
	Delivery   DeliveryConfig   `koanf:"delivery"`
	OAuth      OAuthConfig      `koanf:"oauth"`
	Log        LogConfig        `koanf:"log"`
	Crosspost  CrosspostConfig  `koanf:"crosspost"`
	Admin      AdminConfig      `koanf:"admin"`
}

// AdminConfig is the operator's own listener, for profiling.
type AdminConfig struct {
	// Listen serves Go's profiler (/debug/pprof/) on its own address;
	// empty means off. It has no authentication: keep it on loopback.
	Listen string `koanf:"listen"`
}

// DatabaseConfig names the SQL database.
type DatabaseConfig struct {
	URL          string `koanf:"url"`
	MaxOpenConns int    `koanf:"max_open_conns"`
}

// RedisConfig names the Redis server; an empty URL means in-process state.
type RedisConfig struct {
	URL    string `koanf:"url"`
	Prefix string `koanf:"prefix"`
}

// HTTPConfig tunes the HTTP server.
type HTTPConfig struct {
	BodyLimit       ByteSize      `koanf:"body_limit"`
	TrustedProxies  []string      `koanf:"trusted_proxies"`
	CORSOrigins     []string      `koanf:"cors_origins"`
	ReadTimeout     time.Duration `koanf:"read_timeout"`
	WriteTimeout    time.Duration `koanf:"write_timeout"`
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// MaxInFlight is how many requests are worked on at once; more wait
	// their turn, and past MaxWaiting waiting ones the next gets 503.
	MaxInFlight int `koanf:"max_in_flight"`
	MaxWaiting  int `koanf:"max_waiting"`
	// TokenCacheTTL is how long a token that authenticated is trusted
	// without a database lookup (0: never); see tokens.Processor.CacheFor.
	TokenCacheTTL time.Duration `koanf:"token_cache_ttl"`
	// RelationCacheTTL is how long what a viewer's follows, mutes and
	// blocks are with a user is remembered (0: never); see
	// graph.Processor.CacheRelationsFor.
	RelationCacheTTL time.Duration `koanf:"relation_cache_ttl"`
}

// RateLimitsConfig holds one rate per bucket.
type RateLimitsConfig struct {
	Enabled              bool `koanf:"enabled"`
	UnauthenticatedReads Rate `koanf:"unauthenticated_reads"`
	AuthenticatedReads   Rate `koanf:"authenticated_reads"`
	Writes               Rate `koanf:"writes"`
	TokenCreation        Rate `koanf:"token_creation"`
	OAuth                Rate `koanf:"oauth"`
	SignInPerAccount     Rate `koanf:"sign_in_per_account"`
	SignInPerIP          Rate `koanf:"sign_in_per_ip"`
}

// DeliveryConfig tunes outbound deliveries.
type DeliveryConfig struct {
	Workers               int           `koanf:"workers"`
	PerHost               int           `koanf:"per_host"`
	PollInterval          time.Duration `koanf:"poll_interval"`
	BackoffBase           time.Duration `koanf:"backoff_base"`
	BackoffMax            time.Duration `koanf:"backoff_max"`
	Retention             time.Duration `koanf:"retention"`
	AllowPrivateAddresses bool          `koanf:"allow_private_addresses"`
}

// LogConfig picks the log level and format.
type LogConfig struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"`
}

// Default is the configuration of the embedded default: SQLite in the
// working directory, no Redis, listening on loopback.
func Default() *Config {
	return &Config{
		Listen:   "127.0.0.1:8080",
		Host:     "localhost:8080",
		Scheme:   "https",
		Database: DatabaseConfig{URL: "sqlite://pecan.db", MaxOpenConns: 20},
		Redis:    RedisConfig{Prefix: "pecan:"},
		HTTP: HTTPConfig{
			BodyLimit:        1 << 20,
			TrustedProxies:   []string{},
			CORSOrigins:      []string{"*"},
			ReadTimeout:      15 * time.Second,
			WriteTimeout:     30 * time.Second,
			ShutdownTimeout:  15 * time.Second,
			MaxInFlight:      32,
			MaxWaiting:       4096,
			TokenCacheTTL:    5 * time.Second,
			RelationCacheTTL: 30 * time.Second,
		},
		RateLimits: RateLimitsConfig{
			Enabled:              true,
			UnauthenticatedReads: Rate{Count: 40, Period: time.Minute},
			AuthenticatedReads:   Rate{Count: 5000, Period: time.Hour},
			Writes:               Rate{Count: 20, Period: time.Minute},
			TokenCreation:        Rate{Count: 10, Period: time.Hour},
			OAuth:                Rate{Count: 300, Period: time.Minute},
			SignInPerAccount:     Rate{Count: 10, Period: 15 * time.Minute},
			SignInPerIP:          Rate{Count: 30, Period: 15 * time.Minute},
		},
		Delivery: DeliveryConfig{
			Workers: 8, PerHost: 4, PollInterval: time.Second,
			BackoffBase: 10 * time.Second, BackoffMax: 6 * time.Hour, Retention: 7 * 24 * time.Hour,
		},
		OAuth: OAuthConfig{CodeTTL: 5 * time.Minute, SessionTTL: 7 * 24 * time.Hour},
		Log:   LogConfig{Level: "info", Format: "json"},
	}
}

// PublicURL is where the world reaches this instance.
func (c *Config) PublicURL() string { return c.Scheme + "://" + c.Host }

// Validate checks every value; the error names the first bad key.
func (c *Config) Validate() error {
	checks := []func() error{
		c.validateNetwork, c.validateStores, c.validateHTTP, c.validateLimits, c.validateDelivery, c.validateOAuth, c.validateRest,
		c.validateCrosspost, c.validateAdmin,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func keyError(key, format string, args ...any) error {
	return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
}

func (c *Config) validateNetwork() error {
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return keyError("listen", "want host:port like 127.0.0.1:8080, got %q", c.Listen)
	}
	if u, err := url.Parse("//" + c.Host); c.Host == "" || err != nil || u.Host != c.Host || u.User != nil {
		return keyError("host", "want a host name with an optional port and nothing else, got %q", c.Host)
	}
	switch c.Scheme {
	case "https":
	case "http":
		if !c.Delivery.AllowPrivateAddresses {
			return keyError("scheme", `"http" is allowed only together with delivery.allow_private_addresses: true (local testing)`)
		}
	default:
		return keyError("scheme", `want "https" or "http", got %q`, c.Scheme)
	}
	return nil
}

func (c *Config) validateStores() error {
	u := c.Database.URL
	if !strings.HasPrefix(u, "sqlite://") && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return keyError("database.url", "want sqlite://path or postgres://…, got %q", u)
	}
	if u == "sqlite://" {
		return keyError("database.url", "sqlite:// needs a file path, like sqlite://pecan.db")
	}
	if c.Database.MaxOpenConns < 1 {
		return keyError("database.max_open_conns", "want at least 1, got %d", c.Database.MaxOpenConns)
	}
	if r := c.Redis.URL; r != "" && !strings.HasPrefix(r, "redis://") && !strings.HasPrefix(r, "rediss://") {
		return keyError("redis.url", "want redis://… or rediss://…, or empty for none; got %q", r)
	}
	return nil
}

func (c *Config) validateHTTP() error {
	if c.HTTP.BodyLimit < 1024 {
		return keyError("http.body_limit", "want at least 1KiB, got %d bytes", c.HTTP.BodyLimit)
	}
	for _, p := range c.HTTP.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return keyError("http.trusted_proxies", "%q is neither an IP address nor a CIDR range", p)
		}
	}
	if c.HTTP.MaxInFlight < 1 {
		return keyError("http.max_in_flight", "want at least 1, got %d", c.HTTP.MaxInFlight)
	}
	if c.HTTP.MaxWaiting < 0 {
		return keyError("http.max_waiting", "want 0 or more, got %d", c.HTTP.MaxWaiting)
	}
	if d := c.HTTP.TokenCacheTTL; d < 0 || d > time.Minute {
		return keyError("http.token_cache_ttl", "want 0s to 1m, got %s", d)
	}
	if d := c.HTTP.RelationCacheTTL; d < 0 || d > 10*time.Minute {
		return keyError("http.relation_cache_ttl", "want 0s to 10m, got %s", d)
	}
	durations := map[string]time.Duration{
		"http.read_timeout": c.HTTP.ReadTimeout, "http.write_timeout": c.HTTP.WriteTimeout,
		"http.shutdown_timeout": c.HTTP.ShutdownTimeout,
	}
	for _, key := range sortedKeys(durations) {
		if durations[key] <= 0 {
			return keyError(key, "want a positive duration like 15s, got %s", durations[key])
		}
	}
	return nil
}

func (c *Config) validateLimits() error {
	rates := map[string]Rate{
		"rate_limits.unauthenticated_reads": c.RateLimits.UnauthenticatedReads,
		"rate_limits.authenticated_reads":   c.RateLimits.AuthenticatedReads,
		"rate_limits.writes":                c.RateLimits.Writes,
		"rate_limits.token_creation":        c.RateLimits.TokenCreation,
		"rate_limits.oauth":                 c.RateLimits.OAuth,
		"rate_limits.sign_in_per_account":   c.RateLimits.SignInPerAccount,
		"rate_limits.sign_in_per_ip":        c.RateLimits.SignInPerIP,
	}
	for _, key := range sortedKeys(rates) {
		if err := rates[key].check(); err != nil {
			return keyError(key, "%v", err)
		}
	}
	return nil
}

func (c *Config) validateDelivery() error {
	d := c.Delivery
	if d.Workers < 1 || d.Workers > 256 {
		return keyError("delivery.workers", "want 1 to 256, got %d", d.Workers)
	}
	if d.PerHost < 1 {
		return keyError("delivery.per_host", "want at least 1, got %d", d.PerHost)
	}
	durations := map[string]time.Duration{
		"delivery.poll_interval": d.PollInterval, "delivery.backoff_base": d.BackoffBase,
		"delivery.backoff_max": d.BackoffMax, "delivery.retention": d.Retention,
	}
	for _, key := range sortedKeys(durations) {
		if durations[key] <= 0 {
			return keyError(key, "want a positive duration, got %s", durations[key])
		}
	}
	if d.BackoffMax < d.BackoffBase {
		return keyError("delivery.backoff_max", "want at least delivery.backoff_base (%s), got %s", d.BackoffBase, d.BackoffMax)
	}
	return nil
}

func (c *Config) validateAdmin() error {
	if c.Admin.Listen == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(c.Admin.Listen); err != nil || port == "" {
		return keyError("admin.listen", "want host:port like 127.0.0.1:6060, or empty for none; got %q", c.Admin.Listen)
	}
	return nil
}

func (c *Config) validateRest() error {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		return keyError("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		return keyError("log.format", "want json or text, got %q", c.Log.Format)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Load reads defaults, then the YAML file at path, then PECAN_* variables
// from environ (os.Environ() in the binary; tests pass their own). An empty
// path means config.yaml if it exists in the working directory.
func Load(path string, environ []string) (*Config, error) {
	cfg := Default()
	fields := fieldsOf(cfg)
	path, err := resolvePath(path)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := applyFile(path, fields); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(environ, fields); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func resolvePath(path string) (string, error) {
	if path == "" {
		if _, err := os.Stat("config.yaml"); err == nil {
			return "config.yaml", nil
		}
		return "", nil
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("config: file %s does not exist", path)
		}
		return "", fmt.Errorf("config: %w", err)
	}
	return path, nil
}
