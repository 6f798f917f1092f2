package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultsWithNoFileAndNoEnvironment(t *testing.T) {
	t.Chdir(t.TempDir()) // no config.yaml here
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("got %+v, want the defaults", cfg)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Database.URL != "sqlite://pecan.db" || cfg.Redis.URL != "" || cfg.PublicURL() != "https://localhost:8080" {
		t.Fatalf("defaults changed: %+v", cfg)
	}
}

func TestConfigYAMLInWorkingDirectoryIsRead(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("config.yaml", []byte("host: social.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("", nil)
	if err != nil || cfg.Host != "social.example" {
		t.Fatalf("got %v, %v", cfg, err)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := writeFile(t, `
listen: 0.0.0.0:9000
host: social.example
database:
  url: postgres://pecan@db/pecan
redis:
  url: redis://cache:6379/1
http:
  body_limit: 64KiB
  trusted_proxies: [10.0.0.0/8]
rate_limits:
  writes: 5/10s
log:
  level: debug
`)
	cfg, err := Load(path, []string{
		"PECAN_DELIVERY_ALLOW_PRIVATE_ADDRESSES=true",
		"PECAN_SCHEME=http",
		"PECAN_RATE_LIMITS_WRITES=5/1s",
		"PECAN_HTTP_BODY_LIMIT=2MiB",
		"PECAN_HTTP_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1",
		"PECAN_DELIVERY_WORKERS=3",
		"PECAN_TEST_DATABASE_URL=ignored",
		"PECAN_NOT_A_KEY=ignored",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]any{
		"listen":          {cfg.Listen, "0.0.0.0:9000"},
		"database.url":    {cfg.Database.URL, "postgres://pecan@db/pecan"},
		"redis.url":       {cfg.Redis.URL, "redis://cache:6379/1"},
		"allow_private":   {cfg.Delivery.AllowPrivateAddresses, true},
		"scheme":          {cfg.PublicURL(), "http://social.example"},
		"writes":          {cfg.RateLimits.Writes, Rate{Count: 5, Period: time.Second}},
		"body_limit":      {cfg.HTTP.BodyLimit, ByteSize(2 << 20)},
		"trusted_proxies": {strings.Join(cfg.HTTP.TrustedProxies, "|"), "10.0.0.0/8|127.0.0.1"},
		"workers":         {cfg.Delivery.Workers, 3},
		"log.level":       {cfg.Log.Level, "debug"},
		"reads untouched": {cfg.RateLimits.AuthenticatedReads, Rate{Count: 5000, Period: time.Hour}},
	}
	for name, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		key        string
	}{
		{"listen without port", "", []string{"PECAN_LISTEN=localhost"}, "listen"},
		{"host with path", "host: example.com/pecan\n", nil, "host"},
		{"unknown scheme", "", []string{"PECAN_SCHEME=gopher"}, "scheme"},
		{"http without private addresses", "scheme: http\n", nil, "scheme"},
		{"database scheme", "", []string{"PECAN_DATABASE_URL=mysql://x"}, "database.url"},
		{"empty sqlite path", "", []string{"PECAN_DATABASE_URL=sqlite://"}, "database.url"},
		{"redis scheme", "redis:\n  url: http://cache\n", nil, "redis.url"},
		{"rate", "", []string{"PECAN_RATE_LIMITS_WRITES=abc"}, "rate_limits.writes"},
		{"zero rate", "rate_limits:\n  token_creation: 0/1h\n", nil, "rate_limits.token_creation"},
		{"byte size", "", []string{"PECAN_HTTP_BODY_LIMIT=lots"}, "http.body_limit"},
		{"tiny body limit", "http:\n  body_limit: 10\n", nil, "http.body_limit"},
		{"duration", "http:\n  read_timeout: soon\n", nil, "http.read_timeout"},
		{"workers zero", "", []string{"PECAN_DELIVERY_WORKERS=0"}, "delivery.workers"},
		{"workers not a number", "", []string{"PECAN_DELIVERY_WORKERS=many"}, "delivery.workers"},
		{"bool", "", []string{"PECAN_DELIVERY_ALLOW_PRIVATE_ADDRESSES=perhaps"}, "delivery.allow_private_addresses"},
		{"log level", "log:\n  level: loud\n", nil, "log.level"},
		{"log format", "", []string{"PECAN_LOG_FORMAT=xml"}, "log.format"},
		{"bad proxy", "", []string{"PECAN_HTTP_TRUSTED_PROXIES=10.0.0.0/8,proxy.local"}, "http.trusted_proxies"},
		{"unknown yaml key", "databse:\n  url: sqlite://x.db\n", nil, "databse.url"},
		{"unknown nested key", "http:\n  body_limt: 1MiB\n", nil, "http.body_limt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			} else {
				t.Chdir(t.TempDir())
			}
			_, err := Load(path, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.key+":") {
				t.Fatalf("error %v, want one naming %q", err, tc.key)
			}
		})
	}
}

func TestMissingExplicitFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("error %v", err)
	}
}

// TestExampleMatchesDefaults keeps config.example.yaml honest: it must load
// to exactly the defaults, and show every key at its full dotted path with
// its default value.
func TestExampleMatchesDefaults(t *testing.T) {
	const example = "../../config.example.yaml"
	cfg, err := Load(example, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("example loads to %+v, want the defaults %+v", cfg, Default())
	}
	text, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := yaml.Parser().Unmarshal(text)
	if err != nil {
		t.Fatal(err)
	}
	defaults, shown := fieldsOf(Default()), fieldsOf(&Config{})
	for _, key := range Keys() {
		raw, ok := lookup(tree, key)
		if !ok {
			t.Errorf("config.example.yaml does not show %s", key)
			continue
		}
		if err := setField(shown[key], raw); err != nil {
			t.Errorf("config.example.yaml: %s: %v", key, err)
			continue
		}
		if got, want := shown[key].Interface(), defaults[key].Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("config.example.yaml shows %s: %v, the default is %v", key, got, want)
		}
	}
}

// lookup follows a dotted key through nested YAML maps.
func lookup(tree map[string]any, key string) (any, bool) {
	parts := strings.Split(key, ".")
	for _, part := range parts[:len(parts)-1] {
		child, ok := tree[part].(map[string]any)
		if !ok {
			return nil, false
		}
		tree = child
	}
	v, ok := tree[parts[len(parts)-1]]
	return v, ok
}

func TestEnvNames(t *testing.T) {
	for key, want := range map[string]string{
		"delivery.allow_private_addresses":  "PECAN_DELIVERY_ALLOW_PRIVATE_ADDRESSES",
		"database.url":                      "PECAN_DATABASE_URL",
		"listen":                            "PECAN_LISTEN",
		"rate_limits.unauthenticated_reads": "PECAN_RATE_LIMITS_UNAUTHENTICATED_READS",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%s) = %s, want %s", key, got, want)
		}
	}
}

func TestRateAndByteSizeRoundTrip(t *testing.T) {
	for _, s := range []string{"20/1m", "5000/1h", "3/1s", "7/1m30s"} {
		var r Rate
		if err := r.UnmarshalText([]byte(s)); err != nil || r.String() != s {
			t.Errorf("rate %q → %v → %q", s, err, r.String())
		}
	}
	sizes := map[string]ByteSize{"1MiB": 1 << 20, "512KiB": 512 << 10, "1MB": 1000000, "65536": 64 << 10, "1000B": 1000, "3GiB": 3 << 30}
	for text, want := range sizes {
		var b ByteSize
		if err := b.UnmarshalText([]byte(text)); err != nil || b != want {
			t.Errorf("size %q = %d, %v; want %d", text, b, err, want)
		}
		var again ByteSize
		if err := again.UnmarshalText([]byte(b.String())); err != nil || again != b {
			t.Errorf("size %d does not round-trip through %q", b, b.String())
		}
	}
}
