package app_test

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app"
	"github.com/pecan-social/pecan/app/config"
)

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// A configured Redis that does not answer stops start-up, naming the key,
// instead of serving with rate limits and markers that cannot work. (Once
// running, losing Redis shows on /readyz; see app/api.)
func TestStartRefusedWhenRedisUnreachable(t *testing.T) {
	cfg := config.Default()
	cfg.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "pecan.db")
	cfg.Redis.URL = "redis://" + closedPort(t) + "/0"
	var logs bytes.Buffer
	a, err := app.New(context.Background(), cfg, app.Options{Migrate: true, LogOutput: &logs})
	if err == nil {
		_ = a.Close()
		t.Fatal("started with Redis unreachable")
	}
	if !strings.Contains(err.Error(), "redis.url:") {
		t.Fatalf("error %q does not name redis.url", err)
	}
	// go-redis's complaints come out as JSON warnings in Pecan's log, not
	// as plain-text lines on stderr.
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"redis client","detail":"connection pool: failed to dial`) {
		t.Fatalf("go-redis messages not in the log:\n%s", logs.String())
	}
}
