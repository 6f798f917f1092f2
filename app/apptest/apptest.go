// Package apptest starts a real Pecan server in-process, on a random port,
// on the backend a test names, and gives tests a small HTTP client for it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/pecan-social/pecan/app"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/models"
)

// Server is a running Pecan.
type Server struct {
	URL     string
	App     *app.App
	Clock   *Clock
	Backend testenv.Backend
	logs    *syncBuffer
	client  *http.Client
	stop    func() error
}

// Options are what a test may change beyond the config.
type Options struct {
	// ManualDelivery starts no delivery workers: the test works the queue
	// itself with App.Delivery.Work and Drain, step by step.
	ManualDelivery bool
}

// Start runs a server on b until the test ends. configure, if given, may
// change the config before the server is built.
func Start(t testing.TB, b testenv.Backend, configure ...func(*config.Config)) *Server {
	t.Helper()
	return StartWith(t, b, Options{}, configure...)
}

// StartWith is Start with options.
func StartWith(t testing.TB, b testenv.Backend, o Options, configure ...func(*config.Config)) *Server {
	t.Helper()
	// Listen first, so the server's public host is its real address and
	// two test servers can federate with each other.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("apptest: listen: %v", err)
	}
	cfg := config.Default()
	cfg.Host = ln.Addr().String()
	cfg.Delivery.PollInterval = 20 * time.Millisecond
	// Packages and their tests run side by side, each with servers of its
	// own: small pools keep them all under PostgreSQL's 100 connections.
	cfg.Database.MaxOpenConns = 6
	cfg.Database.URL = b.DatabaseURL
	cfg.Redis.URL = b.RedisURL
	if b.RedisPrefix != "" {
		cfg.Redis.Prefix = b.RedisPrefix
	}
	cfg.Log.Level = "info"
	for _, fn := range configure {
		fn(cfg)
	}
	clock := NewClock(time.Now())
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{
		Migrate: true, Now: clock.Now, BcryptCost: bcrypt.MinCost, LogOutput: logs, Version: "test",
		NoDeliveryWorkers: o.ManualDelivery, KeyGen: pooledKeys,
	})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("apptest: start on %s: %v", b, err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	var (
		stopOnce sync.Once
		stopErr  error
	)
	stop := func() error {
		stopOnce.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("apptest: serve: %v", err)
		}
		_ = a.Close()
	})
	return &Server{
		URL: "http://" + ln.Addr().String(), App: a, Clock: clock, Backend: b, logs: logs,
		client: &http.Client{Timeout: 30 * time.Second}, stop: stop,
	}
}

// Stop tells the server to shut down, as SIGTERM does, and waits until
// Serve returns. The stores stay open until the test ends.
func (s *Server) Stop() error { return s.stop() }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return strings.TrimPrefix(s.URL, "http://") }

// Logs returns what the server has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// CreateUser makes an account through the processor, as `pecan user create` does.
func (s *Server) CreateUser(t testing.TB, username string, typ models.UserType) *models.User {
	t.Helper()
	u, err := s.App.Users.Create(context.Background(), users.NewUser{Username: username, Type: typ, Password: "correct horse"})
	if err != nil {
		t.Fatalf("apptest: create user %s: %v", username, err)
	}
	return u
}

// Token issues a token for u with the given scopes, as `pecan token create` does.
func (s *Server) Token(t testing.TB, u *models.User, scopes ...models.Scope) string {
	t.Helper()
	raw, _, err := s.App.Tokens.Issue(context.Background(), u, tokens.NewToken{Label: "test", Scopes: append(models.Scopes{models.ScopeBasic}, scopes...)})
	if err != nil {
		t.Fatalf("apptest: issue token: %v", err)
	}
	return raw
}

// Request describes one call.
type Request struct {
	Method      string
	Path        string
	Token       string
	Body        any // []byte and string are sent as they are; anything else as JSON
	ContentType string
	Header      http.Header
}

// Response is what came back, with the envelope decoded when there is one.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Meta   map[string]any
	Data   json.RawMessage
}

// Do sends r and reads the whole answer.
func (s *Server) Do(t testing.TB, r Request) *Response {
	t.Helper()
	resp, err := s.Send(r)
	if err != nil {
		t.Fatalf("apptest: %s %s: %v", r.Method, r.Path, err)
	}
	return resp
}

// Send is Do for goroutines, which may not call t.Fatal. An answer from
// the API that the OpenAPI document does not allow is an error.
func (s *Server) Send(r Request) (*Response, error) {
	body, contentType, err := encodeBody(r)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(r.Method, s.URL+r.Path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	// net/http sends req.Host, never a Host entry in the header map.
	if host := r.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if err := s.checkAnswer(req, resp, raw); err != nil {
		return nil, err
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	var env struct {
		Meta map[string]any  `json:"meta"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &env) == nil {
		out.Meta, out.Data = env.Meta, env.Data
	}
	return out, nil
}

func encodeBody(r Request) (io.Reader, string, error) {
	switch b := r.Body.(type) {
	case nil:
		return nil, r.ContentType, nil
	case []byte:
		return bytes.NewReader(b), r.ContentType, nil
	case string:
		return strings.NewReader(b), r.ContentType, nil
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, "", err
		}
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		return bytes.NewReader(data), ct, nil
	}
}

// ErrorCode is meta.error_code, or "".
func (r *Response) ErrorCode() string {
	s, _ := r.Meta["error_code"].(string)
	return s
}

// Decode unmarshals data into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Data) == 0 {
		t.Fatalf("apptest: response %d has no data: %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("apptest: decode data: %v in %s", err, r.Body)
	}
}

// Expect fails the test unless the status is want; it shows the body.
func (r *Response) Expect(t testing.TB, want int) *Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
	return r
}

// ExpectError checks the status and the pnut error shape with its code.
func (r *Response) ExpectError(t testing.TB, status int, code string) *Response {
	t.Helper()
	r.Expect(t, status)
	if r.Meta == nil {
		t.Fatalf("error response is not an envelope: %s", r.Body)
	}
	if got, _ := r.Meta["code"].(float64); int(got) != status {
		t.Fatalf("meta.code %v, want %d; body %s", r.Meta["code"], status, r.Body)
	}
	if r.ErrorCode() != code {
		t.Fatalf("error_code %q, want %q; body %s", r.ErrorCode(), code, r.Body)
	}
	if msg, _ := r.Meta["error_message"].(string); msg == "" {
		t.Fatalf("error without error_message: %s", r.Body)
	}
	if r.Data != nil {
		t.Fatalf("error response carries data: %s", r.Body)
	}
	return r
}

// Clock is a settable clock for rules with time windows.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// keyPool holds a few RSA keys made once per test process: making a 2048-bit
// key takes tens of milliseconds, too long to spend on every test user.
var keyPool struct {
	once sync.Once
	keys [][2]string
	err  error
	next atomic.Uint64
}

func pooledKeys() (string, string, error) {
	keyPool.once.Do(func() {
		for range 4 {
			priv, pub, err := federation.GenerateKey()
			if err != nil {
				keyPool.err = err
				return
			}
			keyPool.keys = append(keyPool.keys, [2]string{priv, pub})
		}
	})
	if keyPool.err != nil {
		return "", "", keyPool.err
	}
	k := keyPool.keys[keyPool.next.Add(1)%uint64(len(keyPool.keys))]
	return k[0], k[1], nil
}

// noticeTopics is how many notice topics a server listens on: token and
// relation forgets.
const noticeTopics = 2

// WaitForReplicas waits until n servers started on b listen to each
// other's notices: one sent before would not reach them.
func WaitForReplicas(t testing.TB, b testenv.Backend, n int) {
	t.Helper()
	testenv.WaitForListeners(t, b.RedisPrefix, int64(n*noticeTopics))
}
