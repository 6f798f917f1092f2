package database

import (
	"context"
	"fmt"

	"github.com/pecan-social/pecan/models"
)

// InsertWebhook writes w and sets its ID.
func (q Queries) InsertWebhook(ctx context.Context, w *models.Webhook) error {
	if _, err := q.idb.NewInsert().Model(w).Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

// WebhookByID loads one webhook.
func (q Queries) WebhookByID(ctx context.Context, id int64) (*models.Webhook, error) {
	w := new(models.Webhook)
	if err := q.idb.NewSelect().Model(w).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("webhook %d", id))
	}
	return w, nil
}

// WebhooksOf lists the webhooks of any of the users, oldest first.
func (q Queries) WebhooksOf(ctx context.Context, userIDs ...int64) ([]*models.Webhook, error) {
	var out []*models.Webhook
	if len(userIDs) == 0 {
		return out, nil
	}
	p := NewParams(q.idb) // on every post
	err := q.idb.NewSelect().Model(&out).Where("user_id ?", p.In(userIDs)).Order("id").Conn(p.Conn()).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhooks of users %v: %w", userIDs, err)
	}
	return out, nil
}

// CountWebhooks is how many webhooks a user has.
func (q Queries) CountWebhooks(ctx context.Context, userID int64) (int, error) {
	n, err := q.idb.NewSelect().Model((*models.Webhook)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count webhooks of user %d: %w", userID, err)
	}
	return int(n), nil
}

// UpdateWebhook writes the named columns of w.
func (q Queries) UpdateWebhook(ctx context.Context, w *models.Webhook, columns ...string) error {
	if _, err := q.idb.NewUpdate().Model(w).Column(columns...).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update webhook %d: %w", w.ID, err)
	}
	return nil
}

// DeleteWebhook removes a webhook.
func (q Queries) DeleteWebhook(ctx context.Context, id int64) error {
	if _, err := q.idb.NewDelete().Model((*models.Webhook)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	return nil
}
