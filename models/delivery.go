package models

import (
	"database/sql/driver"
	"time"

	"github.com/uptrace/bun"
)

// DeliveryKind says what an outbound delivery is for.
type DeliveryKind string

const (
	DeliveryActivityPub DeliveryKind = "activitypub"
	DeliveryWebhook     DeliveryKind = "webhook"
	DeliveryCrosspost   DeliveryKind = "crosspost"
)

// DeliveryStatus is where a delivery stands. A pending delivery whose lease
// has not expired is being sent by a worker right now.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one outbound HTTP request in the durable queue. It is written
// in the transaction that caused it and signed only when it is sent, so a
// retry carries a fresh signature over the same body.
type Delivery struct {
	bun.BaseModel `bun:"table:deliveries"`

	ID int64 `bun:"id,pk,autoincrement"`
	// MessageID is what receivers dedupe on: the webhook-id header, the
	// Idempotency-Key of a crosspost. A retry or a redelivery keeps it.
	MessageID  string         `bun:"message_id,notnull"`
	Kind       DeliveryKind   `bun:"kind,notnull"`
	Event      string         `bun:"event,notnull"` // the event that caused it, e.g. post.created
	Status     DeliveryStatus `bun:"status,notnull"`
	TargetURL  string         `bun:"target_url,notnull"`
	TargetHost string         `bun:"target_host,notnull"` // for the per-host concurrency cap
	Body       string         `bun:"body,notnull"`
	Headers    Headers        `bun:"headers,notnull"` // extra headers, e.g. a webhook's custom ones
	// Signer names the signer that signs the request when it is sent, and
	// SignerRef the row it takes its key from (a webhook, a user).
	Signer      string `bun:"signer,notnull"`
	SignerRef   int64  `bun:"signer_ref,notnull"`
	PostID      *int64 `bun:"post_id"`
	Attempts    int    `bun:"attempts,notnull"`
	MaxAttempts int    `bun:"max_attempts,notnull"`
	TimeoutMS   int    `bun:"timeout_ms,notnull"`
	// NextAttemptAt is when a pending delivery is next due. LeaseUntilMS,
	// when not zero, is until when (Unix milliseconds) the worker that
	// claimed it owns it: the attempt's timeout plus a margin, computed in
	// the claiming statement. A worker that dies leaves its lease to
	// expire, and the delivery is claimed again.
	NextAttemptAt time.Time  `bun:"next_attempt_at,notnull"`
	LeaseUntilMS  int64      `bun:"lease_until_ms,notnull"`
	LastError     string     `bun:"last_error,notnull"`
	LastStatus    int        `bun:"last_status,notnull"` // HTTP status of the last answer, 0 if none
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
	DeliveredAt   *time.Time `bun:"delivered_at"`

	// Method is POST, or PUT and DELETE for a crosspost's edit and delete.
	Method string `bun:"method,notnull"`
}

// Timeout is how long one attempt may take.
func (d *Delivery) Timeout() time.Duration { return time.Duration(d.TimeoutMS) * time.Millisecond }

// Headers are extra request headers, stored as a JSON object.
type Headers map[string]string

// Value stores the headers as JSON text.
func (h Headers) Value() (driver.Value, error) { return jsonValue(h, "{}") }

// Scan reads the JSON text back.
func (h *Headers) Scan(src any) error { return scanJSON(src, h, "headers") }
