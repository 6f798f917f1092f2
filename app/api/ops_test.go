package api_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// series scrapes /metrics and returns the label sets of metric name, each
// as written between the braces, with its value.
func series(t *testing.T, srv *apptest.Server, name string) map[string]string {
	t.Helper()
	body := srv.Do(t, apptest.Request{Method: "GET", Path: "/metrics"}).Expect(t, 200).Body
	out := map[string]string{}
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			t.Fatalf("unreadable metrics line %q", line)
		}
		out[labels] = strings.TrimSpace(value)
	}
	return out
}

func TestMetricLabelsIgnoreClientInput(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	srv.CreateUser(t, "alice", models.UserHuman)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice"}).Expect(t, 200)
	srv.Do(t, apptest.Request{Method: "BREW", Path: "/v1/users/@alice"}).Expect(t, 405)
	// The GET, the 405 and an earlier scrape: three series.
	before := waitForSeries(t, srv, "pecan_http_requests_total", func(m map[string]string) bool { return len(m) == 3 })

	for _, host := range []string{"attacker-1.example", "attacker-2.example:8443"} {
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice", Header: http.Header{"Host": {host}}}).Expect(t, 200)
	}
	srv.Do(t, apptest.Request{Method: "MOCHA", Path: "/v1/users/@alice"}).Expect(t, 405)
	after := waitForSeries(t, srv, "pecan_http_requests_total", func(m map[string]string) bool {
		var total int
		for _, v := range m {
			n, _ := strconv.Atoi(v)
			total += n
		}
		return total >= 1+1+2+1+2 // both scrapes so far, GET, 405, two GETs, 405
	})
	for labels := range after {
		if _, ok := before[labels]; !ok {
			t.Errorf("new series from client input: {%s}", labels)
		}
	}
	if len(after) != len(before) {
		t.Fatalf("%d series before, %d after:\n%v\n%v", len(before), len(after), before, after)
	}
}

// eventually retries check until it passes or 10 s have gone. Logs and
// metrics are written after the response has left, so a client can read
// them a moment too early.
func eventually(t *testing.T, check func() (ok bool, why string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, why := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitForSeries(t *testing.T, srv *apptest.Server, name string, done func(map[string]string) bool) map[string]string {
	t.Helper()
	var got map[string]string
	eventually(t, func() (bool, string) {
		got = series(t, srv, name)
		return done(got), "metrics " + name + " never got there: " + strings.Join(keys(got), " | ")
	})
	return got
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+" "+v)
	}
	return out
}

func TestLatencyMetricsPerRoutePattern(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	alice := srv.CreateUser(t, "alice", models.UserHuman)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice"}).Expect(t, 200)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/" + strconv.FormatInt(alice.ID, 10)}).Expect(t, 200)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/wp-login.php"}).Expect(t, 404)

	const route = `code="200",host="",method="GET",url="/v1/users/:id"`
	counts := waitForSeries(t, srv, "pecan_http_request_duration_seconds_count", func(m map[string]string) bool {
		return m[route] == "2"
	})
	buckets := series(t, srv, "pecan_http_request_duration_seconds_bucket")
	if buckets[route+`,le="+Inf"`] != "2" {
		t.Fatalf("no latency histogram for the route: %v", keys(buckets))
	}
	for labels := range counts {
		if strings.Contains(labels, "@alice") || strings.Contains(labels, "wp-login") || strings.Contains(labels, `"/v1/users/1"`) {
			t.Fatalf("a raw path became a label: {%s}", labels)
		}
	}
}

func TestRequestLogCarriesTheRequestID(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	srv.CreateUser(t, "alice", models.UserHuman)
	resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice"}).Expect(t, 200)
	id := resp.Header.Get(echo.HeaderXRequestID)
	if id == "" {
		t.Fatal("no X-Request-Id header")
	}
	eventually(t, func() (bool, string) {
		for line := range strings.Lines(srv.Logs()) {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) != nil {
				continue
			}
			if entry["msg"] == "request" && entry["path"] == "/v1/users/@alice" {
				return entry["request_id"] == id, "request log line has request_id " + `"` + line + `", header ` + id
			}
		}
		return false, "no request log line for /v1/users/@alice in:\n" + srv.Logs()
	})
}

func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	entered, release := make(chan struct{}), make(chan struct{})
	srv.App.HTTP.GET("/v1/test-slow", func(c echo.Context) error {
		close(entered)
		<-release
		return c.JSON(http.StatusOK, map[string]string{"slow": "done"})
	})
	type result struct {
		resp *apptest.Response
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := srv.Send(apptest.Request{Method: "GET", Path: "/v1/test-slow"})
		slow <- result{resp, err}
	}()
	<-entered

	stopped := make(chan error, 1)
	go func() { stopped <- srv.Stop() }()
	eventually(t, func() (bool, string) {
		conn, err := net.DialTimeout("tcp", srv.Addr(), time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err != nil, "the server still accepts connections after being told to stop"
	})
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}

	close(release)
	got := <-slow
	if got.err != nil {
		t.Fatalf("request in flight was cut off: %v", got.err)
	}
	if got.resp.Expect(t, 200); !strings.Contains(string(got.resp.Body), `"done"`) {
		t.Fatalf("slow request answered %s", got.resp.Body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestReadyzNamesUnreachableRedis cuts Redis off from a running server by
// closing a TCP relay between them.
func TestReadyzNamesUnreachableRedis(t *testing.T) {
	redisURL := os.Getenv(testenv.RedisURLEnv)
	if redisURL == "" {
		t.Skip("needs " + testenv.RedisURLEnv)
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	relay := startRelay(t, opts.Addr)
	srv := apptest.Start(t, testenv.New(t, "sqlite"), func(c *config.Config) {
		c.Redis.URL = strings.Replace(redisURL, opts.Addr, relay.addr(), 1)
		c.Redis.Prefix = "pecantest:readyz:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	})
	srv.Do(t, apptest.Request{Method: "GET", Path: "/readyz"}).Expect(t, 200)

	relay.close()
	resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/readyz"}).Expect(t, 503)
	var checks map[string]string
	if err := json.Unmarshal(resp.Body, &checks); err != nil {
		t.Fatalf("readyz body %s: %v", resp.Body, err)
	}
	if checks["database"] != "ok" || checks["kv"] == "" || checks["kv"] == "ok" {
		t.Fatalf("readyz %s, want the kv check failing and the database ok", resp.Body)
	}
	srv.Do(t, apptest.Request{Method: "GET", Path: "/healthz"}).Expect(t, 200)
}

// relay forwards TCP connections to a target until closed, then drops
// every connection it carried.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	t.Cleanup(r.close)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, client, server)
			r.mu.Unlock()
			go pipe(client, server)
			go pipe(server, client)
		}
	}()
	return r
}

// pipe copies until either side closes, then closes dst so the other
// direction ends too.
func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) close() {
	_ = r.ln.Close()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		_ = c.Close()
	}
}
