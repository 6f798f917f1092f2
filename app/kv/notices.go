package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Notices tell every replica sharing a store that something changed, so
// each drops what it cached of it. A notice's topic says which cache, and
// its about which entries of it: "" is all of them. The in-process store
// has none: it serves one process, which forgets its own changes itself.
type Notices interface {
	// Notify tells every listener of topic, this process's included, to
	// forget about ("" for everything).
	Notify(ctx context.Context, topic, about string) error
	// Listen calls forget with each notice's about until ctx ends, and
	// with "" whenever notices may have been missed: on subscribing, and
	// when the subscription broke. It calls broke with the error the
	// first time a working subscription fails, and subscribes again.
	Listen(ctx context.Context, topic string, forget func(about string), broke func(error))
}

var _ Notices = (*Redis)(nil)

// noticeRetry is how long Listen waits between failed subscriptions
// after the first, which is retried at once.
const noticeRetry = time.Second

func (r *Redis) channel(topic string) string { return r.prefix + "notice:" + topic }

// Notify publishes about on the topic's channel.
func (r *Redis) Notify(ctx context.Context, topic, about string) error {
	if err := r.client.Publish(ctx, r.channel(topic), about).Err(); err != nil {
		return fmt.Errorf("notify %s: %w", topic, err)
	}
	return nil
}

// Listen subscribes to the topic's channel. Redis keeps no messages for a
// subscriber that was away, so each (re)subscription counts as a notice.
func (r *Redis) Listen(ctx context.Context, topic string, forget func(about string), broke func(error)) {
	working, failures := false, 0
	subscribed := func() { working, failures = true, 0 }
	for {
		err := r.listenOnce(ctx, topic, forget, subscribed)
		if ctx.Err() != nil {
			return
		}
		forget("")
		if working {
			broke(err)
			working = false
		}
		// A broken connection is made again at once; a refusal (an ACL
		// without the channel, say) or Redis down is retried each second.
		failures++
		if failures > 1 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(noticeRetry):
			}
		}
	}
}

// listenOnce holds one subscription until it fails or ctx ends. Any error
// ends it, though go-redis could go on: an error Redis answered (not a
// broken connection) leaves go-redis waiting on a subscription that will
// never deliver.
func (r *Redis) listenOnce(ctx context.Context, topic string, forget func(string), subscribed func()) error {
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
		if err != nil {
			return fmt.Errorf("listen to %s: %w", topic, err)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			subscribed()
			forget("")
		case *redis.Message:
			forget(m.Payload)
		}
	}
}
