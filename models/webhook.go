package models

import (
	"database/sql/driver"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Webhook is a user's subscription to events, delivered to URL and signed
// with Secret in the Standard Webhooks format.
type Webhook struct {
	bun.BaseModel `bun:"table:webhooks"`

	ID     int64      `bun:"id,pk,autoincrement"`
	UserID int64      `bun:"user_id,notnull"`
	Name   string     `bun:"name,notnull"`
	URL    string     `bun:"url,notnull"`
	Events StringList `bun:"events,notnull"`
	// Headers are sent with every delivery, e.g. an Authorization the
	// receiver expects.
	Headers Headers `bun:"headers,notnull"`
	// Secret is the HMAC key, "whsec_" + base64; it has to be kept as it is
	// to sign with. After a rotation PreviousSecret also signs until
	// PreviousSecretUntil, so receivers can switch over without losing any.
	Secret              string     `bun:"secret,notnull"`
	PreviousSecret      string     `bun:"previous_secret,notnull"`
	PreviousSecretUntil *time.Time `bun:"previous_secret_until"`
	RetryCount          int        `bun:"retry_count,notnull"`
	TimeoutSeconds      int        `bun:"timeout_seconds,notnull"`
	CreatedAt           time.Time  `bun:"created_at,notnull"`
	UpdatedAt           time.Time  `bun:"updated_at,notnull"`
}

// Wants reports whether the webhook subscribes to events of type t.
func (w *Webhook) Wants(t string) bool { return slices.Contains(w.Events, t) }

// WebhookEvents are the event types a webhook may subscribe to.
var WebhookEvents = []string{
	EventPostCreated, EventPostRevised, EventPostDeleted, EventPostReposted,
	EventPostBookmarked, EventMentionCreated, EventUserFollowed, EventTest, EventPostCrossposted,
}

// StringList is a list of strings stored as a JSON array.
type StringList []string

// Value stores the list as JSON text.
func (l StringList) Value() (driver.Value, error) { return jsonValue(l, "[]") }

// Scan reads the JSON text back.
func (l *StringList) Scan(src any) error { return scanJSON(src, l, "string list") }
