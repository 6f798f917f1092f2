package kv

import (
	"context"
	"log/slog"
	"time"
)

// notifyTimeout bounds how long telling the other replicas may take.
const notifyTimeout = 2 * time.Second

// Forgetting carries a cache's forgets to every replica that shares
// notices: Forget empties this process's entries at once and tells the
// others, and Listen applies theirs here. Without notices (the embedded
// default, one process) it forgets here only, which is all there is.
type Forgetting struct {
	topic   string
	forget  func(about string)
	notices Notices // nil: this process only
	logger  *slog.Logger
	missed  string
}

// NewForgetting forgets through forget, which empties this process's
// cache of about ("" for everything), and names its notices topic.
func NewForgetting(topic string, forget func(about string)) *Forgetting {
	return &Forgetting{topic: topic, forget: forget}
}

// Share tells every replica sharing n of each Forget. missed says, for
// the log, how long the others go on with what they cached when a notice
// is lost.
func (f *Forgetting) Share(n Notices, logger *slog.Logger, missed string) {
	f.notices, f.logger, f.missed = n, logger, missed
}

// Forget drops what this process cached about ("" for everything), then
// tells the other replicas to do the same.
func (f *Forgetting) Forget(ctx context.Context, about string) {
	f.forget(about)
	if f.notices == nil {
		return
	}
	// The change is made; a client that hung up must not keep the other
	// replicas from hearing of it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := f.notices.Notify(ctx, f.topic, about); err != nil {
		f.logger.Warn("other replicas were not told of a change; "+f.missed, "topic", f.topic, "err", err)
	}
}

// Listen applies the other replicas' forgets until ctx ends. A serving
// process runs it.
func (f *Forgetting) Listen(ctx context.Context) {
	if f.notices == nil {
		return
	}
	f.notices.Listen(ctx, f.topic, f.forget, func(err error) {
		f.logger.Warn("changes made on other replicas go unheard until notices work again; "+f.missed, "topic", f.topic, "err", err)
	})
}
