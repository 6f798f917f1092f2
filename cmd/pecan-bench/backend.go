package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
)

// backend is where one run keeps its data: a fresh SQLite file in a temp
// dir, or a fresh PostgreSQL schema (reached through search_path, as
// app/testenv does for tests) and a fresh Redis key prefix.
type backend struct {
	Name        string // "sqlite" or "postgres" (+redis)
	DatabaseURL string
	RedisURL    string
	RedisPrefix string
	Dir         string // temp dir for the binary, the SQLite file and the server log

	adminURL, schema string
}

func newBackend(ctx context.Context, o options) (*backend, error) {
	dir, err := os.MkdirTemp("", "pecan-bench-")
	if err != nil {
		return nil, err
	}
	b := &backend{Name: "sqlite", Dir: dir, DatabaseURL: "sqlite://" + filepath.Join(dir, "pecan.db")}
	if o.DatabaseURL != "" {
		b.Name, b.adminURL, b.schema = "postgres", o.DatabaseURL, "bench_"+randomHex(6)
		if b.DatabaseURL, err = createSchema(ctx, o.DatabaseURL, b.schema); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if o.RedisURL != "" {
		b.RedisURL, b.RedisPrefix = o.RedisURL, "pecanbench:"+randomHex(6)+":"
	}
	return b, nil
}

// String names the backend in reports: "sqlite+memory", "postgres+redis".
func (b *backend) String() string {
	if b.RedisURL == "" {
		return b.Name + "+memory"
	}
	return b.Name + "+redis"
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// createSchema makes an empty schema and returns base with search_path
// pointing at it.
func createSchema(ctx context.Context, base, schema string) (string, error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", fmt.Errorf("--database-url: %w", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("--database-url: create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("--database-url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// remove drops the schema, the Redis keys and the temp dir.
func (b *backend) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if b.schema != "" {
		if admin, err := sql.Open("pgx", b.adminURL); err == nil {
			_, err = admin.ExecContext(ctx, "DROP SCHEMA "+b.schema+" CASCADE")
			errs = append(errs, err, admin.Close())
		}
	}
	if b.RedisPrefix != "" {
		errs = append(errs, deleteRedisPrefix(ctx, b.RedisURL, b.RedisPrefix))
	}
	errs = append(errs, os.RemoveAll(b.Dir))
	return errors.Join(errs...)
}

func deleteRedisPrefix(ctx context.Context, redisURL, prefix string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	client := redis.NewClient(opts)
	defer client.Close()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		client.Del(ctx, iter.Val())
	}
	return iter.Err()
}
