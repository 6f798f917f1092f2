// Package kv holds Pecan's short-lived key-value state: rate limits, the
// duplicate-post window and idempotency keys. Redis backs it in production so
// every replica sees the same state; an in-process store serves the embedded
// default, where only one process runs.
package kv

import (
	"context"
	"time"
)

// Limit allows Count events per Period for one key.
type Limit struct {
	Count  int
	Period time.Duration
}

// LimitResult is the outcome of one rate-limited event, with what the
// X-RateLimit-* and Retry-After headers need.
type LimitResult struct {
	Allowed    bool
	Limit      int
	Remaining  int
	RetryAfter time.Duration // how long until the next event would be allowed; 0 when allowed
	ResetAfter time.Duration // how long until the key is back to its full allowance
}

// RateLimiter counts events per key. Allow must be atomic: of many concurrent
// calls on a fresh key with a limit of N, exactly N are allowed.
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit Limit) (LimitResult, error)
}

// Store keeps small string values that expire.
type Store interface {
	// SetNX stores value under key for ttl only if key is absent, and reports
	// whether it did. It is the building block for "first writer wins" rules.
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// Set stores value under key for ttl, replacing any previous value.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// Get returns the value and true, or "" and false when absent or expired.
	Get(ctx context.Context, key string) (string, bool, error)
	Delete(ctx context.Context, key string) error
}

// Backend is everything kv offers, plus a health check and a way to close it.
type Backend interface {
	RateLimiter
	Store
	Ping(ctx context.Context) error
	Close() error
}
