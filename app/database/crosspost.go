package database

import (
	"context"
	"fmt"
	"time"

	"github.com/pecan-social/pecan/models"
)

// InsertCrosspostTarget writes t and sets its ID; a target the user already
// has gives ErrDuplicate.
func (q Queries) InsertCrosspostTarget(ctx context.Context, t *models.CrosspostTarget) error {
	if _, err := q.idb.NewInsert().Model(t).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("insert crosspost target: %w", ErrDuplicate)
		}
		return fmt.Errorf("insert crosspost target: %w", err)
	}
	return nil
}

// CrosspostTargetByID loads one target.
func (q Queries) CrosspostTargetByID(ctx context.Context, id int64) (*models.CrosspostTarget, error) {
	t := new(models.CrosspostTarget)
	if err := q.idb.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("crosspost target %d", id))
	}
	return t, nil
}

// CrosspostTargetsOf lists a user's targets, oldest first.
func (q Queries) CrosspostTargetsOf(ctx context.Context, userID int64) ([]*models.CrosspostTarget, error) {
	var out []*models.CrosspostTarget
	if err := q.idb.NewSelect().Model(&out).Where("user_id = ?", userID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("crosspost targets of user %d: %w", userID, err)
	}
	return out, nil
}

// DeleteCrosspostTarget removes a target; its crossposts go with it.
func (q Queries) DeleteCrosspostTarget(ctx context.Context, id int64) error {
	if _, err := q.idb.NewDelete().Model((*models.Crosspost)(nil)).Where("target_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete crossposts of target %d: %w", id, err)
	}
	if _, err := q.idb.NewDelete().Model((*models.CrosspostTarget)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete crosspost target %d: %w", id, err)
	}
	return nil
}

// InsertCrossposts records posts carried to targets.
func (q Queries) InsertCrossposts(ctx context.Context, rows []*models.Crosspost) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := q.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert %d crossposts: %w", len(rows), err)
	}
	return nil
}

// CrosspostOf loads the crosspost of a post to a target.
func (q Queries) CrosspostOf(ctx context.Context, postID, targetID int64) (*models.Crosspost, error) {
	c := new(models.Crosspost)
	if err := q.idb.NewSelect().Model(c).Where("post_id = ? AND target_id = ?", postID, targetID).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("crosspost of post %d to target %d", postID, targetID))
	}
	return c, nil
}

// CrosspostsOfPost lists where a post was crossposted.
func (q Queries) CrosspostsOfPost(ctx context.Context, postID int64) ([]*models.Crosspost, error) {
	var out []*models.Crosspost
	if err := q.idb.NewSelect().Model(&out).Where("post_id = ?", postID).Order("target_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("crossposts of post %d: %w", postID, err)
	}
	return out, nil
}

// SetCrosspostDelivery points a crosspost at the delivery now acting on it.
func (q Queries) SetCrosspostDelivery(ctx context.Context, id, deliveryID int64) error {
	_, err := q.idb.NewUpdate().Model((*models.Crosspost)(nil)).Set("delivery_id = ?", deliveryID).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update crosspost %d: %w", id, err)
	}
	return nil
}

// MarkCrosspostArrived records that a post's create reached a target, and
// the id and URL the target gave it.
func (q Queries) MarkCrosspostArrived(ctx context.Context, postID, targetID int64, remoteID, remoteURL string, at time.Time) error {
	_, err := q.idb.NewUpdate().Model((*models.Crosspost)(nil)).
		Set("remote_id = ?", remoteID).Set("remote_url = ?", remoteURL).Set("delivered_at = ?", at).
		Where("post_id = ? AND target_id = ?", postID, targetID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark crosspost of post %d to target %d: %w", postID, targetID, err)
	}
	return nil
}

// LatestDeliveryStatus is the status of the newest delivery a signer row
// sent for a post and an event, or "" if there is none (never queued, or
// delivered and pruned since).
func (q Queries) LatestDeliveryStatus(ctx context.Context, postID int64, signer string, ref int64, event string) (models.DeliveryStatus, error) {
	var out []models.DeliveryStatus
	err := q.idb.NewSelect().Model((*models.Delivery)(nil)).Column("status").
		Where("post_id = ? AND signer = ? AND signer_ref = ? AND event = ?", postID, signer, ref, event).
		OrderExpr("id DESC").Limit(1).Scan(ctx, &out)
	if err != nil {
		return "", fmt.Errorf("deliveries of post %d by %s %d: %w", postID, signer, ref, err)
	}
	if len(out) == 0 {
		return "", nil
	}
	return out[0], nil
}

// CrosspostStatuses lists the crossposts of the posts, by post and target.
func (q Queries) CrosspostStatuses(ctx context.Context, postIDs []int64) ([]models.CrosspostStatus, error) {
	var out []models.CrosspostStatus
	if len(postIDs) == 0 {
		return out, nil
	}
	// Prepared on PostgreSQL: a page with the viewer's own posts on it asks.
	p := NewParams(q.idb)
	err := q.idb.NewRaw(`SELECT c.post_id, c.target_id, t.kind, c.remote_id, c.remote_url, c.delivered_at AS arrived_at,
			d.status, d.attempts, d.delivered_at, d.last_error
		FROM crossposts c
		JOIN crosspost_targets t ON t.id = c.target_id
		LEFT JOIN deliveries d ON d.id = c.delivery_id
		WHERE c.post_id ?
		ORDER BY c.post_id, c.target_id`, p.In(postIDs)).Conn(p.Conn()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("crosspost statuses of %d posts: %w", len(postIDs), err)
	}
	return out, nil
}
