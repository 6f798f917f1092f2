package api_test

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

// fire sends the same request from n goroutines at once and counts statuses.
func fire(t *testing.T, srv *apptest.Server, n int, req apptest.Request) (map[int]int, []*apptest.Response) {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		all      []*apptest.Response
		start    = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := srv.Send(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[-1]++
				return
			}
			statuses[resp.Status]++
			all = append(all, resp)
		}()
	}
	close(start)
	wg.Wait()
	return statuses, all
}

// The limits in these tests are per hour: a bucket refills one request every
// Period/Count of real time (Redis uses its own clock), so a short period
// would let a slow run under -race earn extra requests mid-test.

func TestWriteLimitHoldsUnderConcurrency(t *testing.T) {
	const limit = 7
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) {
			c.RateLimits.Writes = config.Rate{Count: limit, Period: time.Hour}
		})
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice, models.ScopeUpdateProfile)

		statuses, responses := fire(t, srv, 200, apptest.Request{Method: "PATCH", Path: "/v1/users/me", Token: tok,
			Body: map[string]any{"name": "Alice"}})
		if statuses[200] != limit || statuses[429] != 200-limit {
			t.Fatalf("statuses %v, want %d×200 and %d×429", statuses, limit, 200-limit)
		}
		for _, r := range responses {
			if r.Header.Get("X-RateLimit-Limit") != strconv.Itoa(limit) || r.Header.Get("X-RateLimit-Remaining") == "" || r.Header.Get("X-RateLimit-Reset") == "" {
				t.Fatalf("missing rate-limit headers: %v", r.Header)
			}
			if r.Status == 429 {
				r.ExpectError(t, 429, "rate_limited")
				// One request comes back every hour/limit.
				if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 3600/limit+1 {
					t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
				}
			}
		}
		// Reads draw from another bucket, so they still work.
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/me", Token: tok}).Expect(t, 200)
		// Another token has its own write bucket.
		other := srv.Token(t, alice, models.ScopeUpdateProfile)
		srv.Do(t, apptest.Request{Method: "PATCH", Path: "/v1/users/me", Token: other, Body: map[string]any{"name": "A"}}).Expect(t, 200)
	})
}

func TestUnauthenticatedReadsLimitedPerIP(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) {
			c.RateLimits.UnauthenticatedReads = config.Rate{Count: 5, Period: time.Hour}
		})
		srv.CreateUser(t, "alice", models.UserHuman)
		// A forged X-Forwarded-For must not buy a fresh bucket.
		req := apptest.Request{Method: "GET", Path: "/v1/users/@alice", Header: map[string][]string{}}
		statuses := map[int]int{}
		for i := range 8 {
			req.Header["X-Forwarded-For"] = []string{"203.0.113." + strconv.Itoa(i)}
			statuses[srv.Do(t, req).Status]++
		}
		if statuses[200] != 5 || statuses[429] != 3 {
			t.Fatalf("statuses %v, want 5×200, 3×429", statuses)
		}
		// Unknown routes carry the headers too.
		r := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/nowhere"})
		if r.Header.Get("X-RateLimit-Limit") != "5" {
			t.Fatalf("404 without rate-limit headers: %v", r.Header)
		}
	})
}

func TestTokenCreationLimitedPerUser(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) {
			c.RateLimits.TokenCreation = config.Rate{Count: 3, Period: time.Hour}
		})
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice, models.ScopeTokens)
		statuses, _ := fire(t, srv, 20, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: tok,
			Body: map[string]any{"scopes": []string{"basic"}}})
		if statuses[201] != 3 || statuses[429] != 17 {
			t.Fatalf("statuses %v, want 3×201 and 17×429", statuses)
		}
		// A second token of the same user shares the token-creation bucket.
		again := srv.Token(t, alice, models.ScopeTokens)
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: again,
			Body: map[string]any{"scopes": []string{"basic"}}}).ExpectError(t, 429, "rate_limited")
	})
}

func TestTrustedProxyForwardedForIsBelieved(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"), func(c *config.Config) {
		c.RateLimits.UnauthenticatedReads = config.Rate{Count: 2, Period: time.Hour}
		c.HTTP.TrustedProxies = []string{"127.0.0.1"}
	})
	srv.CreateUser(t, "alice", models.UserHuman)
	// Behind a named proxy each client address has its own bucket.
	for i := range 4 {
		req := apptest.Request{Method: "GET", Path: "/v1/users/@alice", Header: map[string][]string{
			"X-Forwarded-For": {"198.51.100." + strconv.Itoa(i)},
		}}
		srv.Do(t, req).Expect(t, 200)
		srv.Do(t, req).Expect(t, 200)
		srv.Do(t, req).ExpectError(t, 429, "rate_limited")
	}
}

// hasRateLimitHeaders reports whether r carries all three X-RateLimit-*
// headers with limit as the limit.
func hasRateLimitHeaders(r *apptest.Response, limit int) bool {
	return r.Header.Get("X-RateLimit-Limit") == strconv.Itoa(limit) &&
		r.Header.Get("X-RateLimit-Remaining") != "" && r.Header.Get("X-RateLimit-Reset") != ""
}

func TestBadTokensAreLimitedPerIP(t *testing.T) {
	const limit = 10
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) {
			c.RateLimits.UnauthenticatedReads = config.Rate{Count: limit, Period: time.Hour}
		})
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		// Guesses with and without the pcn_ prefix, each token new.
		for i := range 60 {
			guess := randomToken(t)
			if i%2 == 0 {
				guess = tokens.Prefix + guess
			}
			r := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice", Token: guess})
			if !hasRateLimitHeaders(r, limit) {
				t.Fatalf("guess %d: %d without rate-limit headers: %v", i, r.Status, r.Header)
			}
			if i < limit {
				r.ExpectError(t, 401, "invalid_token")
				continue
			}
			r.ExpectError(t, 429, "rate_limited")
			if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 {
				t.Fatalf("guess %d: Retry-After %q", i, r.Header.Get("Retry-After"))
			}
		}
		// A valid token from the same address has a bucket of its own.
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice", Token: srv.Token(t, alice)}).Expect(t, 200)
	})
}

func TestRefusedBodiesCountAndCarryRateLimitHeaders(t *testing.T) {
	const limit = 3
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) {
			c.RateLimits.Writes = config.Rate{Count: limit, Period: time.Hour}
			c.HTTP.BodyLimit = 4096
		})
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice, models.ScopeUpdateProfile)
		patch := func(body, contentType string) *apptest.Response {
			return srv.Do(t, apptest.Request{Method: "PATCH", Path: "/v1/users/me", Token: tok, Body: body, ContentType: contentType})
		}
		steps := []struct {
			resp      *apptest.Response
			status    int
			remaining string
		}{
			{patch(`<name>Alice</name>`, "application/xml"), 415, "2"},
			{patch(`{"name": "`+strings.Repeat("a", 5000)+`"}`, "application/json"), 413, "1"},
			{patch(`{"name": "Alice"}`, "application/json"), 200, "0"},
			{patch(`{"name": "Alice"}`, "application/json"), 429, "0"},
		}
		for i, s := range steps {
			s.resp.Expect(t, s.status)
			if !hasRateLimitHeaders(s.resp, limit) || s.resp.Header.Get("X-RateLimit-Remaining") != s.remaining {
				t.Fatalf("step %d (%d): want X-RateLimit-Remaining %s of %d; headers %v", i, s.status, s.remaining, limit, s.resp.Header)
			}
		}
	})
}

func randomToken(t *testing.T) string {
	t.Helper()
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}
