package posts

import (
	"context"
	"strconv"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

const idempotencyPending = "pending"

// idempotent runs create once per (user, key) within the TTL. The key is
// claimed before the work starts, so two concurrent requests with one key
// cannot both create; only a success is remembered, so a failed request can
// be retried with the same key.
func (p *Processor) idempotent(ctx context.Context, author *models.User, key string, create func() (*models.Post, error)) (*models.Post, error) {
	if len(key) > 255 {
		return nil, errs.Invalid("Idempotency-Key", "invalid_idempotency_key", "Idempotency-Key must be at most 255 characters")
	}
	storeKey := "idempotency:post:" + strconv.FormatInt(author.ID, 10) + ":" + key
	claimed, err := p.store.SetNX(ctx, storeKey, idempotencyPending, p.rules.IdempotencyTTL)
	if err != nil {
		return nil, err
	}
	if !claimed {
		return p.replay(ctx, storeKey)
	}
	post, err := create()
	if err != nil {
		_ = p.store.Delete(context.WithoutCancel(ctx), storeKey)
		return nil, err
	}
	if err := p.store.Set(ctx, storeKey, strconv.FormatInt(post.ID, 10), p.rules.IdempotencyTTL); err != nil {
		return nil, err
	}
	return post, nil
}

func (p *Processor) replay(ctx context.Context, storeKey string) (*models.Post, error) {
	value, ok, err := p.store.Get(ctx, storeKey)
	if err != nil {
		return nil, err
	}
	if !ok || value == idempotencyPending {
		return nil, errs.Conflict("Idempotency-Key", "request_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly")
	}
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return nil, err
	}
	return p.db.PostByID(ctx, id)
}
