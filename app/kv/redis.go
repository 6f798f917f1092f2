package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis keeps the state in Redis, shared by every replica. Every key it
// touches starts with its prefix, so several instances (or tests) can share
// one server.
type Redis struct {
	client  *redis.Client
	limiter *redis_rate.Limiter
	prefix  string
	owned   bool
}

// NewRedis uses an existing client, which the caller keeps and closes.
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{client: client, limiter: redis_rate.NewLimiter(client), prefix: prefix}
}

// OpenRedis connects to url and checks it answers.
func OpenRedis(url, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("connect to redis: %w", err)
	}
	r := NewRedis(client, prefix)
	r.owned = true
	return r, nil
}

// Allow uses redis_rate's GCRA, one atomic Lua call per event.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (LimitResult, error) {
	res, err := r.limiter.Allow(ctx, r.prefix+key, redis_rate.Limit{Rate: limit.Count, Burst: limit.Count, Period: limit.Period})
	if err != nil {
		return LimitResult{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	out := LimitResult{Allowed: res.Allowed > 0, Limit: limit.Count, Remaining: res.Remaining, ResetAfter: res.ResetAfter}
	if !out.Allowed {
		out.RetryAfter = res.RetryAfter
	}
	return out, nil
}

// SetNX stores value only if key is absent.
func (r *Redis) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	err := r.client.SetArgs(ctx, r.prefix+key, value, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("setnx %s: %w", key, err)
	}
	return true, nil
}

// Set stores value under key.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := r.client.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	return nil
}

// Get reads key.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := r.client.Get(ctx, r.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get %s: %w", key, err)
	}
	return v, true, nil
}

// Delete removes key.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Client is the connection, for stores that need more than key-value
// (stream markers use a Lua script).
func (r *Redis) Client() *redis.Client { return r.client }

// Prefix is the key prefix every store on this connection uses.
func (r *Redis) Prefix() string { return r.prefix }

// Ping checks Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close closes the client if OpenRedis made it.
func (r *Redis) Close() error {
	if r.owned {
		return r.client.Close()
	}
	return nil
}
