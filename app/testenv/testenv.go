// Package testenv gives each test its own database and key-value namespace on
// every backend the machine offers: SQLite and in-process stores always, and
// PostgreSQL and Redis when PECAN_TEST_DATABASE_URL and PECAN_TEST_REDIS_URL
// are set. Tests call ForEach so the same assertions run on every backend.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/redis/go-redis/v9"
)

// Environment variables that switch on the production backends in tests.
const (
	DatabaseURLEnv = "PECAN_TEST_DATABASE_URL"
	RedisURLEnv    = "PECAN_TEST_REDIS_URL"
)

// Backend is one isolated place to run a test: its own SQLite file or
// PostgreSQL schema, and its own Redis key prefix.
type Backend struct {
	Name        string // "sqlite" or "postgres"
	DatabaseURL string
	RedisURL    string // empty: in-process stores
	RedisPrefix string
}

// ForEach runs fn as a parallel subtest once per available backend.
func ForEach(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, name))
		})
	}
}

// Names lists the backends available on this machine.
func Names() []string {
	names := []string{"sqlite"}
	if os.Getenv(DatabaseURLEnv) != "" {
		names = append(names, "postgres")
	}
	return names
}

// New prepares a fresh backend of the given name, removed when the test ends.
func New(t testing.TB, name string) Backend {
	t.Helper()
	switch name {
	case "sqlite":
		return Backend{Name: name, DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "pecan.db")}
	case "postgres":
		b := Backend{Name: name, DatabaseURL: newPostgresSchema(t)}
		if redisURL := os.Getenv(RedisURLEnv); redisURL != "" {
			b.RedisURL = redisURL
			b.RedisPrefix = newRedisPrefix(t, redisURL)
		}
		return b
	default:
		t.Fatalf("testenv: unknown backend %q", name)
		return Backend{}
	}
}

func randomName(prefix string) string {
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	return prefix + hex.EncodeToString(buf)
}

// newPostgresSchema creates an empty schema and returns a URL whose
// search_path points at it, so parallel tests never see each other's rows.
func newPostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(DatabaseURLEnv)
	schema := randomName("test_")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("testenv: open %s: %v", DatabaseURLEnv, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testenv: create schema: %v", err)
	}
	t.Cleanup(func() { dropSchema(base, schema) })

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", DatabaseURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func dropSchema(base, schema string) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
}

// NewRedisPrefix is a key prefix on the Redis of PECAN_TEST_REDIS_URL
// unique to the test, for tests of Redis itself; every key under it is
// deleted when the test ends.
func NewRedisPrefix(t testing.TB) string {
	t.Helper()
	return newRedisPrefix(t, os.Getenv(RedisURLEnv))
}

// newRedisPrefix returns a key prefix unique to the test and deletes every
// key under it when the test ends.
func newRedisPrefix(t testing.TB, redisURL string) string {
	t.Helper()
	prefix := randomName("pecantest:") + ":"
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", RedisURLEnv, err)
	}
	t.Cleanup(func() {
		client := redis.NewClient(opts)
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// redis_rate puts its own "rate:" before the keys it is given.
		for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
			iter := client.Scan(ctx, 0, pattern, 500).Iterator()
			for iter.Next(ctx) {
				client.Del(ctx, iter.Val())
			}
		}
	})
	return prefix
}

// WaitForListeners waits up to 5 s until n pub/sub subscriptions listen
// on channels under prefix on the Redis of PECAN_TEST_REDIS_URL: a message
// published before a subscriber subscribed never reaches it.
func WaitForListeners(t testing.TB, prefix string, n int64) {
	t.Helper()
	opts, err := redis.ParseURL(os.Getenv(RedisURLEnv))
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", RedisURLEnv, err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	ctx := context.Background()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		channels, err := client.PubSubChannels(ctx, prefix+"*").Result()
		if err != nil {
			t.Fatalf("testenv: pubsub channels: %v", err)
		}
		counts, err := client.PubSubNumSub(ctx, channels...).Result()
		if err != nil {
			t.Fatalf("testenv: pubsub numsub: %v", err)
		}
		var total int64
		for _, c := range counts {
			total += c
		}
		if total == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %d subscriptions under %s after 5 s, want %d", total, prefix, n)
		}
	}
}

// String names the backend in failure messages.
func (b Backend) String() string {
	if b.RedisURL == "" {
		return fmt.Sprintf("%s+memory", b.Name)
	}
	return fmt.Sprintf("%s+redis", b.Name)
}
