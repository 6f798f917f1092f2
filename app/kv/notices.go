package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Notices tell every replica sharing a store that something changed, so
// each drops what it cached of it. A notice carries no data; its topic
// says what to forget. The in-process store has none: it serves one
// process, which forgets its own changes itself.
type Notices interface {
	// Notify tells every listener of topic, this process's included.
	Notify(ctx context.Context, topic string) error
	// Listen calls forget on every notice of topic until ctx ends, and
	// also whenever notices may have been missed: on subscribing, and after
	// the connection to the store broke.
	Listen(ctx context.Context, topic string, forget func())
}

var _ Notices = (*Redis)(nil)

// noticeRetry is how long Listen waits before subscribing again after the
// connection broke.
const noticeRetry = time.Second

func (r *Redis) channel(topic string) string { return r.prefix + "notice:" + topic }

// Notify publishes on the topic's channel.
func (r *Redis) Notify(ctx context.Context, topic string) error {
	if err := r.client.Publish(ctx, r.channel(topic), "forget").Err(); err != nil {
		return fmt.Errorf("notify %s: %w", topic, err)
	}
	return nil
}

// Listen subscribes to the topic's channel. Redis keeps no messages for a
// subscriber that was away, so each (re)subscription counts as a notice.
func (r *Redis) Listen(ctx context.Context, topic string, forget func()) {
	sub := r.client.Subscribe(ctx, r.channel(topic))
	// Receive waits on the connection, not on ctx: closing the
	// subscription is what ends the wait.
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	defer func() {
		stop()
		_ = sub.Close()
	}()
	for {
		msg, err := sub.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// go-redis subscribes again on the next Receive; what was
			// published meanwhile is lost, so forget now. Its dial
			// failures reach the log through LogRedisTo.
			forget()
			select {
			case <-ctx.Done():
				return
			case <-time.After(noticeRetry):
			}
			continue
		}
		switch msg.(type) {
		case *redis.Subscription, *redis.Message:
			forget()
		}
	}
}
