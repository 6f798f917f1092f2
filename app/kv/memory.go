package kv

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepEvery is how many operations pass between sweeps of dead entries.
const sweepEvery = 1024

// Memory keeps the state in this process, for the embedded default where
// only one server runs.
type Memory struct {
	mu       sync.Mutex
	now      func() time.Time
	limiters map[string]*memLimiter
	values   map[string]memValue
	ops      int
}

type memLimiter struct {
	limit   Limit
	limiter *rate.Limiter
}

type memValue struct {
	value   string
	expires time.Time // zero: never
}

// NewMemory returns an empty in-process store.
func NewMemory() *Memory {
	return &Memory{now: time.Now, limiters: map[string]*memLimiter{}, values: map[string]memValue{}}
}

// SetClock replaces the clock, so tests can move time.
func (m *Memory) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// Allow is a token bucket with the same shape as the Redis GCRA: a burst of
// Count, refilled at Count per Period.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (LimitResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.maybeSweep(now)
	l := m.limiters[key]
	if l == nil || l.limit != limit {
		l = &memLimiter{limit: limit, limiter: rate.NewLimiter(rate.Every(limit.Period/time.Duration(limit.Count)), limit.Count)}
		m.limiters[key] = l
	}
	out := LimitResult{Limit: limit.Count, Allowed: l.limiter.AllowN(now, 1)}
	tokens := l.limiter.TokensAt(now)
	out.Remaining = max(0, int(math.Floor(tokens)))
	interval := limit.Period / time.Duration(limit.Count)
	out.ResetAfter = time.Duration((float64(limit.Count) - tokens) * float64(interval))
	if !out.Allowed {
		out.RetryAfter = time.Duration((1 - tokens) * float64(interval))
	}
	return out, nil
}

// SetNX stores value only if key is absent or expired.
func (m *Memory) SetNX(_ context.Context, key, value string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.maybeSweep(now)
	if _, ok := m.live(key, now); ok {
		return false, nil
	}
	m.values[key] = memValue{value: value, expires: expiry(now, ttl)}
	return true, nil
}

// Set stores value under key.
func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.maybeSweep(now)
	m.values[key] = memValue{value: value, expires: expiry(now, ttl)}
	return nil
}

// Get reads key.
func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.live(key, m.now())
	return v.value, ok, nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.values, key)
	return nil
}

// Ping always succeeds: the store is this process.
func (m *Memory) Ping(context.Context) error { return nil }

// Close does nothing; there is nothing to release.
func (m *Memory) Close() error { return nil }

func (m *Memory) live(key string, now time.Time) (memValue, bool) {
	v, ok := m.values[key]
	if !ok || (!v.expires.IsZero() && !now.Before(v.expires)) {
		return memValue{}, false
	}
	return v, true
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// maybeSweep drops expired values and full buckets now and then, so the
// maps do not grow with every client ever seen. The caller holds m.mu.
func (m *Memory) maybeSweep(now time.Time) {
	m.ops++
	if m.ops%sweepEvery != 0 {
		return
	}
	for k, v := range m.values {
		if !v.expires.IsZero() && !now.Before(v.expires) {
			delete(m.values, k)
		}
	}
	for k, l := range m.limiters {
		if l.limiter.TokensAt(now) >= float64(l.limit.Count) {
			delete(m.limiters, k)
		}
	}
}

// Len counts the entries held, live or not yet swept.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.values) + len(m.limiters)
}
