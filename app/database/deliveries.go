package database

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/models"
)

// InsertDeliveries queues deliveries; inside a transaction they land with
// the change that caused them or not at all.
func (q Queries) InsertDeliveries(ctx context.Context, ds []*models.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if _, err := q.idb.NewInsert().Model(&ds).Exec(ctx); err != nil {
		return fmt.Errorf("queue %d deliveries: %w", len(ds), err)
	}
	return nil
}

// Claim is what a worker asks for: the oldest due delivery to a host it is
// not already busy with, leased to it for the delivery's timeout plus
// LeaseMargin.
type Claim struct {
	Now          time.Time
	LeaseMargin  time.Duration
	ExcludeHosts []string
}

// ClaimDelivery leases the oldest due pending delivery, counting the
// attempt, in one statement: on PostgreSQL the row is locked with SKIP
// LOCKED so replicas never claim the same one; SQLite runs one writer at a
// time, so the statement alone is enough. It returns nil when none is due.
func (db *DB) ClaimDelivery(ctx context.Context, c Claim) (*models.Delivery, error) {
	lock := ""
	if db.IsPostgres() {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	// Prepared on PostgreSQL: every delivery is claimed. The status stays
	// in the text, where it matches deliveries_due_idx's predicate; as a
	// parameter the plan could not use that index.
	p := NewParams(db.Bun)
	nowMS := c.Now.UnixMilli()
	args := []any{p.Arg(nowMS + c.LeaseMargin.Milliseconds()), p.Arg(c.Now), models.DeliveryPending, p.Arg(c.Now), p.Arg(nowMS)}
	hosts := ""
	if len(c.ExcludeHosts) > 0 {
		hosts = "AND NOT (target_host ?)"
		args = append(args, p.InText(c.ExcludeHosts))
	}
	query := `UPDATE deliveries SET lease_until_ms = CAST(? AS BIGINT) + timeout_ms, attempts = attempts + 1, updated_at = ?
		WHERE id = (
			SELECT id FROM deliveries
			WHERE status = ? AND next_attempt_at <= ? AND lease_until_ms <= ? ` + hosts + `
			ORDER BY next_attempt_at, id LIMIT 1 ` + lock + `
		)
		RETURNING *`
	var claimed []*models.Delivery
	if err := db.Bun.NewRaw(query, args...).Conn(p.Conn()).Scan(ctx, &claimed); err != nil {
		return nil, fmt.Errorf("claim delivery: %w", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	return claimed[0], nil
}

// Attempt is the outcome of one send, recorded by the worker holding the
// lease.
type Attempt struct {
	ID            int64
	LeaseUntilMS  int64 // the lease the worker claimed with
	Status        models.DeliveryStatus
	NextAttemptAt time.Time
	LastError     string
	LastStatus    int
	At            time.Time
}

// RecordAttempt stores an attempt's outcome and releases the lease, but only
// if the worker still holds it: a worker whose lease expired (and whose row
// another worker took) must not overwrite the newer outcome. It reports
// whether the row was updated.
func (q Queries) RecordAttempt(ctx context.Context, a Attempt) (bool, error) {
	p := NewParams(q.idb) // after every send
	upd := q.idb.NewUpdate().Model((*models.Delivery)(nil)).
		Set("status = ?", a.Status).
		Set("next_attempt_at = ?", p.Arg(a.NextAttemptAt)).
		Set("lease_until_ms = 0").
		Set("last_error = ?", p.Arg(a.LastError)).
		Set("last_status = ?", p.Arg(a.LastStatus)).
		Set("updated_at = ?", p.Arg(a.At)).
		Where("id = ? AND status = ? AND lease_until_ms = ?", p.Arg(a.ID), models.DeliveryPending, p.Arg(a.LeaseUntilMS))
	if a.Status == models.DeliveryDelivered {
		upd = upd.Set("delivered_at = ?", p.Arg(a.At))
	}
	res, err := upd.Conn(p.Conn()).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record attempt of delivery %d: %w", a.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeliveryByID loads one delivery.
func (q Queries) DeliveryByID(ctx context.Context, id int64) (*models.Delivery, error) {
	d := new(models.Delivery)
	if err := q.idb.NewSelect().Model(d).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("delivery %d", id))
	}
	return d, nil
}

// DeliveriesBySigner pages the deliveries signed by one signer row (a
// webhook's, say), newest first; it reads count+1 rows so the caller knows
// whether there are more.
func (q Queries) DeliveriesBySigner(ctx context.Context, signer string, ref, beforeID, sinceID int64, limit int) ([]*models.Delivery, error) {
	var out []*models.Delivery
	sel := q.idb.NewSelect().Model(&out).Where("signer = ? AND signer_ref = ?", signer, ref)
	if beforeID > 0 {
		sel = sel.Where("id < ?", beforeID)
	}
	if sinceID > 0 {
		sel = sel.Where("id > ?", sinceID)
	}
	order := "id DESC"
	if limit < 0 {
		order, limit = "id ASC", -limit
	}
	if err := sel.OrderExpr(order).Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("deliveries of %s %d: %w", signer, ref, err)
	}
	return out, nil
}

// RequeueDelivery makes a finished delivery (delivered or failed) due again
// now with a fresh allowance of attempts, keeping its id, so receivers that
// dedupe on it see the same message. It reports whether it did: a pending
// delivery is left alone.
func (q Queries) RequeueDelivery(ctx context.Context, id int64, signer string, ref int64, now time.Time) (bool, error) {
	res, err := q.idb.NewUpdate().Model((*models.Delivery)(nil)).
		Set("status = ?", models.DeliveryPending).
		Set("attempts = 0").
		Set("next_attempt_at = ?", now).
		Set("lease_until_ms = 0").
		Set("delivered_at = NULL").
		Set("updated_at = ?", now).
		Where("id = ? AND signer = ? AND signer_ref = ? AND status <> ?", id, signer, ref, models.DeliveryPending).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("requeue delivery %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteDeliveriesBySigner removes every delivery of a signer row, as when
// its webhook is deleted: nothing is sent for a webhook that is gone.
func (q Queries) DeleteDeliveriesBySigner(ctx context.Context, signer string, ref int64) error {
	_, err := q.idb.NewDelete().Model((*models.Delivery)(nil)).Where("signer = ? AND signer_ref = ?", signer, ref).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete deliveries of %s %d: %w", signer, ref, err)
	}
	return nil
}

// QueueDepth is how many deliveries of a kind are in a status.
type QueueDepth struct {
	Kind   string `bun:"kind"`
	Status string `bun:"status"`
	Count  int64  `bun:"count"`
}

// QueueDepths counts pending and failed deliveries by kind. Delivered rows
// are left out: they are history, counted by the outcome metrics instead.
func (q Queries) QueueDepths(ctx context.Context) ([]QueueDepth, error) {
	var out []QueueDepth
	err := q.idb.NewSelect().Table("deliveries").
		ColumnExpr("kind, status, count(*) AS count").
		Where("status IN (?)", bun.In([]models.DeliveryStatus{models.DeliveryPending, models.DeliveryFailed})).
		GroupExpr("kind, status").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	return out, nil
}

// PruneDelivered deletes deliveries delivered before cutoff.
func (q Queries) PruneDelivered(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.idb.NewDelete().Model((*models.Delivery)(nil)).
		Where("status = ? AND delivered_at < ?", models.DeliveryDelivered, cutoff).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune delivered: %w", err)
	}
	return res.RowsAffected()
}
