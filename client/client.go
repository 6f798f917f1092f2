package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one Pecan server's API. It is safe for concurrent use.
type Client struct {
	base       string // the server's URL, no trailing slash
	token      string
	http       *http.Client
	userAgent  string
	maxRetries int
	maxWait    time.Duration
	sleep      func(ctx context.Context, d time.Duration) error
}

// Option changes how a Client works.
type Option func(*Client)

// WithToken makes every call with this access token ("pcn_…").
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sends requests through h instead of a client with a
// 30-second timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent names your bot or app in the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithRetries sets how often a call answered 429 Too Many Requests is
// tried again (default 3) and the longest Retry-After it waits for
// (default one minute); a longer one is returned as the *Error at once.
func WithRetries(n int, maxWait time.Duration) Option {
	return func(c *Client) { c.maxRetries, c.maxWait = n, maxWait }
}

// New returns a client of the server at baseURL, e.g.
// "https://pecan.example".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pecan client: %q is not an http(s) URL", baseURL)
	}
	c := &Client{
		base: strings.TrimSuffix(baseURL, "/"), http: &http.Client{Timeout: 30 * time.Second},
		userAgent: "pecan-go-client", maxRetries: 3, maxWait: time.Minute, sleep: sleep,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL is the server's URL, as given to New.
func (c *Client) BaseURL() string { return c.base }

// PostURL is the address of a post's public page, for people to open.
func (c *Client) PostURL(p *Post) string {
	if p.User == nil {
		return c.base + "/posts/" + p.ID
	}
	return c.base + "/@" + p.User.Username + "/" + p.ID
}

// Error is a failure the server answered with: pnut's error meta, and the
// HTTP status. ErrorCode is the stable slug to check ("text_too_long",
// "duplicate_post", "scope_missing", …); Field names the input at fault.
type Error struct {
	StatusCode int
	ErrorCode  string
	Message    string
	Field      string
	ErrorID    string        // on 500s: what the server logged the failure under
	RetryAfter time.Duration // on 429s
}

func (e *Error) Error() string {
	s := fmt.Sprintf("server answered %d %s: %s", e.StatusCode, e.ErrorCode, e.Message)
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.ErrorID != "" {
		s += " [error_id " + e.ErrorID + "]"
	}
	return s
}

// ErrorCode is the error_code of err if the server answered with one, and
// "" for anything else (a network failure, a canceled context).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return ""
}

// Meta is the envelope's meta of a successful answer: where a page starts
// and ends, whether there is more, and a markable stream's marker.
type Meta struct {
	Code   int     `json:"code"`
	MinID  string  `json:"min_id"`
	MaxID  string  `json:"max_id"`
	More   bool    `json:"more"`
	Marker *Marker `json:"marker"`
}

// request is one API call.
type request struct {
	method string
	path   string // under /v1, e.g. "/posts"
	query  url.Values
	body   any  // sent as JSON; nil sends none
	create bool // a create: carries an Idempotency-Key, the same on every retry
	key    string
}

// call sends r, retrying on 429, and decodes data into out (if not nil).
func (c *Client) call(ctx context.Context, r request, out any) (*Meta, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("pecan client: encode %s %s: %w", r.method, r.path, err)
		}
	}
	if r.create && r.key == "" {
		r.key = NewIdempotencyKey()
	}
	for attempt := 0; ; attempt++ {
		meta, err := c.send(ctx, r, payload, out)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests ||
			attempt >= c.maxRetries || apiErr.RetryAfter > c.maxWait {
			return meta, err
		}
		if err := c.sleep(ctx, apiErr.RetryAfter); err != nil {
			return nil, err
		}
	}
}

func (c *Client) send(ctx context.Context, r request, payload []byte, out any) (*Meta, error) {
	target := c.base + "/v1" + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("pecan client: %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("pecan client: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("pecan client: %s %s: read the answer: %w", r.method, r.path, err)
	}
	return decode(resp, raw, out)
}

// envelope is every answer of the API.
type envelope struct {
	Meta struct {
		Meta
		ErrorMessage string `json:"error_message"`
		ErrorCode    string `json:"error_code"`
		Field        string `json:"field"`
		ErrorID      string `json:"error_id"`
	} `json:"meta"`
	Data json.RawMessage `json:"data"`
}

func decode(resp *http.Response, raw []byte, out any) (*Meta, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Meta.Code == 0 {
		// Not Pecan's answer: a proxy's error page, say.
		return nil, &Error{StatusCode: resp.StatusCode, ErrorCode: "unexpected_answer",
			Message: fmt.Sprintf("%s, not a Pecan envelope: %.120q", resp.Status, raw)}
	}
	if resp.StatusCode >= 400 {
		return nil, &Error{
			StatusCode: resp.StatusCode, ErrorCode: env.Meta.ErrorCode, Message: env.Meta.ErrorMessage,
			Field: env.Meta.Field, ErrorID: env.Meta.ErrorID, RetryAfter: retryAfter(resp.Header.Get("Retry-After")),
		}
	}
	meta := env.Meta.Meta
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return &meta, fmt.Errorf("pecan client: decode the answer's data: %w", err)
		}
	}
	return &meta, nil
}

// retryAfter reads Retry-After as seconds or as an HTTP date; absent or
// unreadable means one second.
func retryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewIdempotencyKey returns a random key. Every create sends one, made
// fresh per call unless you give your own, and the same one on each retry,
// so a retried create never creates twice.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ref is a user or post reference in a path, escaped.
func ref(s string) string { return url.PathEscape(s) }
