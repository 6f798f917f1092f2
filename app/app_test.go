package app_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	// Port 1 rather than a freed ephemeral port: another test's listener
	// may take that one before the dial, and then Redis "answers" wrongly
	// instead of not at all (this test failed so once under .ci/run).
	cfg.Redis.URL = "redis://127.0.0.1:1/0"
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

// The profiler answers on admin.listen, and only there.
func TestProfilerOnlyOnTheAdminListener(t *testing.T) {
	cfg := config.Default()
	cfg.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "pecan.db")
	cfg.Admin.Listen = closedPort(t)
	a, err := app.New(context.Background(), cfg, app.Options{Migrate: true, LogOutput: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	get := func(url string) int {
		for range 50 {
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
				return resp.StatusCode
			}
			time.Sleep(20 * time.Millisecond)
		}
		return 0
	}
	if code := get("http://" + cfg.Admin.Listen + "/debug/pprof/"); code != 200 {
		t.Fatalf("profiler on admin.listen: %d", code)
	}
	if code := get("http://" + ln.Addr().String() + "/debug/pprof/"); code != 404 {
		t.Fatalf("profiler on the public listener: %d", code)
	}
}
