package database

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/models"
)

// InsertDeliveries queues deliveries; inside a transaction they land with
// the change that caused them or not at all. Once they are committed the
// OnDeliveriesQueued hook runs.
func (q Queries) InsertDeliveries(ctx context.Context, ds []*models.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if _, err := q.idb.NewInsert().Model(&ds).Exec(ctx); err != nil {
		return fmt.Errorf("queue %d deliveries: %w", len(ds), err)
	}
	q.deliveriesQueued()
	return nil
}

// Claim is what the workers ask for: the oldest due deliveries, at most
// Limit of them, leased for each delivery's timeout plus LeaseMargin, and
// no more to a host than PerHost less its deliveries already InFlight.
type Claim struct {
	Now         time.Time
	LeaseMargin time.Duration
	Limit       int
	PerHost     int
	InFlight    map[string]int // by target host
}

// claimScan is how many due rows a claim of limit looks at: enough for
// limit rows even if the first hosts have room for only perHost each,
// rounded up to a power of two and at most maxClaimScan. A host with more
// due rows than room can still fill the scan, and the batch come back
// short although other hosts have some (Pool.claim looks again). It is written
// into the statement, not passed as a parameter: a statement is planned
// once, maybe while the table is empty, and with a LIMIT it can see only
// walking the due index is the plan; with an unknown one PostgreSQL chose
// to read the whole table and sort it, and kept that plan.
func claimScan(limit, perHost int) int {
	n := 1
	for n < limit*perHost && n < maxClaimScan {
		n *= 2
	}
	return n
}

// maxClaimScan bounds how many due rows a claim looks at (and, on
// PostgreSQL, locks) to pick its batch.
const maxClaimScan = 64

// ClaimDeliveries leases a batch of due pending deliveries, counting the
// attempt, in one statement, oldest first. On PostgreSQL the rows looked at
// are locked with SKIP LOCKED, so replicas never claim the same one; SQLite
// runs one writer at a time, so the statement alone is enough. It returns
// none when nothing is due.
//
// One statement for several deliveries because a claim is a committed
// write: claimed one at a time, deliveries left the queue at the pace of
// the disk's flushes.
func (db *DB) ClaimDeliveries(ctx context.Context, c Claim) ([]*models.Delivery, error) {
	query, p, err := db.claimQuery(c)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var claimed []*models.Delivery
	if err := query.Conn(p.Conn()).Scan(ctx, &claimed); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// RETURNING keeps no order.
	slices.SortFunc(claimed, func(a, b *models.Delivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return claimed, nil
}

// claimQuery is ClaimDeliveries' statement, run through the Params it
// returns.
func (db *DB) claimQuery(c Claim) (*bun.RawQuery, *Params, error) {
	perHost, limit := max(c.PerHost, 1), max(c.Limit, 1)
	full, room := []string{}, map[string]int{}
	for host, n := range c.InFlight {
		if n >= perHost {
			full = append(full, host)
		} else {
			room[host] = perHost - n
		}
	}
	roomJSON, err := json.Marshal(room)
	if err != nil {
		return nil, nil, err
	}
	// SQLite is told the index: without statistics it would read every
	// pending row through deliveries_status_idx and sort them. PostgreSQL
	// locks the rows it looks at, so replicas skip each other's. A host's
	// room is what the JSON object says, or the whole cap.
	index, lock := "INDEXED BY deliveries_due_idx", ""
	hostRoom := "COALESCE((SELECT CAST(value AS INTEGER) FROM json_each(?) WHERE key = target_host), ?)"
	if db.IsPostgres() {
		index, lock = "", "FOR UPDATE SKIP LOCKED"
		hostRoom = "COALESCE(CAST(CAST(? AS jsonb) ->> target_host AS INTEGER), ?)"
	}
	// Prepared on PostgreSQL: every delivery is claimed. The status stays
	// in the text, where it matches deliveries_due_idx's predicate; as a
	// parameter the plan could not use that index. A window function may
	// not share a SELECT with FOR UPDATE, so the rows are locked first and
	// ranked by host after. Every host has room for at least one, so a
	// claim finds a row when any is due; how many, see claimScan.
	p := NewParams(db.Bun)
	nowMS := c.Now.UnixMilli()
	args := []any{models.DeliveryPending, p.Arg(c.Now), p.Arg(nowMS), p.InText(full),
		p.Arg(string(roomJSON)), p.Arg(perHost), p.Arg(limit),
		p.Arg(nowMS + c.LeaseMargin.Milliseconds()), p.Arg(c.Now)}
	query := `WITH picked AS MATERIALIZED (
			SELECT id FROM (
				SELECT id, next_attempt_at, target_host,
					row_number() OVER (PARTITION BY target_host ORDER BY next_attempt_at, id) AS nth
				FROM (
					SELECT id, next_attempt_at, target_host FROM deliveries ` + index + `
					WHERE status = ? AND next_attempt_at <= ? AND lease_until_ms <= ? AND NOT (target_host ?)
					ORDER BY next_attempt_at, id LIMIT ` + fmt.Sprint(claimScan(limit, perHost)) + ` ` + lock + `
				) AS due
			) AS ranked
			WHERE nth <= ` + hostRoom + `
			ORDER BY next_attempt_at, id LIMIT ?
		)
		UPDATE deliveries SET lease_until_ms = CAST(? AS BIGINT) + timeout_ms, attempts = attempts + 1, updated_at = ?
		WHERE id IN (SELECT id FROM picked)
		RETURNING *`
	return db.Bun.NewRaw(query, args...), p, nil
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
	if n == 1 {
		q.deliveriesQueued()
	}
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
