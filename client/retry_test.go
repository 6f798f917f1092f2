package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeServer answers 429 with the given Retry-After a number of times,
// then 201, recording each request's Idempotency-Key.
type fakeServer struct {
	mu         sync.Mutex
	limited    int
	retryAfter string
	keys       []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
	w.Header().Set("Content-Type", "application/json")
	if len(f.keys) <= f.limited {
		w.Header().Set("Retry-After", f.retryAfter)
		w.WriteHeader(429)
		_, _ = w.Write([]byte(`{"meta":{"code":429,"error_code":"rate_limited","error_message":"slow down"}}`))
		return
	}
	w.WriteHeader(201)
	_, _ = w.Write([]byte(`{"meta":{"code":201},"data":{"id":"7","created_at":"2026-11-22T10:00:00Z","source":"pecan","thread_id":"7","content":{"text":"hi","entities":{"links":[],"mentions":[],"tags":[]}}}}`))
}

func testClient(t *testing.T, f *fakeServer, opts ...Option) (*Client, *[]time.Duration) {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var waited []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error {
		waited = append(waited, d)
		return nil
	}
	return c, &waited
}

func TestRateLimitedCallsWaitRetryAfterAndKeepTheirKey(t *testing.T) {
	f := &fakeServer{limited: 2, retryAfter: "7"}
	c, waited := testClient(t, f)
	p, err := c.CreatePost(context.Background(), NewPost{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "7" || p.Text() != "hi" || p.Source.ID != "pecan" {
		t.Fatalf("post %+v", p)
	}
	if len(*waited) != 2 || (*waited)[0] != 7*time.Second || (*waited)[1] != 7*time.Second {
		t.Fatalf("waited %v, want 7s twice", *waited)
	}
	if len(f.keys) != 3 || f.keys[0] == "" || f.keys[0] != f.keys[1] || f.keys[1] != f.keys[2] {
		t.Fatalf("idempotency keys %q: want one key, sent on every try", f.keys)
	}

	// A second create gets a key of its own.
	if _, err := c.CreatePost(context.Background(), NewPost{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if f.keys[3] == f.keys[0] {
		t.Fatal("two creates shared a key")
	}
}

func TestRetriesGiveUp(t *testing.T) {
	f := &fakeServer{limited: 10, retryAfter: "1"}
	c, waited := testClient(t, f, WithRetries(2, time.Minute))
	_, err := c.CreatePost(context.Background(), NewPost{Text: "hi", IdempotencyKey: "mine"})
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 429 || e.ErrorCode != "rate_limited" || e.RetryAfter != time.Second || ErrorCode(err) != "rate_limited" {
		t.Fatalf("after the retries: %v", err)
	}
	if len(f.keys) != 3 || len(*waited) != 2 || f.keys[2] != "mine" {
		t.Fatalf("%d tries, %d waits, keys %q", len(f.keys), len(*waited), f.keys)
	}

	// A wait longer than the client allows is not waited for.
	f = &fakeServer{limited: 1, retryAfter: "3600"}
	c, waited = testClient(t, f)
	if _, err := c.CreatePost(context.Background(), NewPost{Text: "hi"}); ErrorCode(err) != "rate_limited" || len(*waited) != 0 {
		t.Fatalf("an hour's Retry-After: %v after waits %v", err, *waited)
	}
}

func TestAnswersThatAreNotEnvelopes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(502)
		_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
	}))
	defer srv.Close()
	c, _ := New(srv.URL)
	_, err := c.Post(context.Background(), "1")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 502 || e.ErrorCode != "unexpected_answer" {
		t.Fatalf("a proxy's error page: %v", err)
	}
	if _, err := New("pecan.example"); err == nil {
		t.Fatal("a URL without a scheme was accepted")
	}
}
