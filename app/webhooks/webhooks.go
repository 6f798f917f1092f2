// Package webhooks holds the rules of users' webhooks: what a webhook may
// be, who sees it, which events reach it, and how its deliveries are signed
// (the Standard Webhooks format). Deliveries go through the delivery queue.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Limits of a webhook.
const (
	MaxPerUser        = 20
	MaxNameLength     = 100
	MaxURLLength      = 2048
	MaxHeaders        = 10
	MaxHeaderValue    = 1024
	MinRetryCount     = 0
	MaxRetryCount     = 10
	MinTimeoutSeconds = 5
	MaxTimeoutSeconds = 300

	DefaultRetryCount     = 5
	DefaultTimeoutSeconds = 10

	// SecretOverlap is how long the secret a rotation replaced keeps
	// signing next to the new one, so a receiver can switch without
	// rejecting deliveries in between.
	SecretOverlap = 24 * time.Hour
)

// SignerName is the delivery signer of webhook deliveries.
const SignerName = "webhook"

// Processor applies the webhook rules.
type Processor struct {
	db        *database.DB
	policy    delivery.AddressPolicy
	resolver  delivery.Resolver
	now       func() time.Time
	publicURL string
}

// New returns a webhook processor. policy and resolver judge URLs at
// creation.
func New(db *database.DB, policy delivery.AddressPolicy, resolver delivery.Resolver, now func() time.Time, publicURL string) *Processor {
	return &Processor{db: db, policy: policy, resolver: resolver, now: now, publicURL: publicURL}
}

func (p *Processor) clock() time.Time { return p.now().UTC().Truncate(time.Microsecond) }

// Input is a create or an update; nil fields are left as they are (or get
// their defaults on create).
type Input struct {
	Name           *string
	URL            *string
	Events         []string
	Headers        map[string]string
	RetryCount     *int
	TimeoutSeconds *int
}

// Create registers a webhook; the returned row carries its secret, the
// only time the caller sees it.
func (p *Processor) Create(ctx context.Context, owner *models.User, in Input) (*models.Webhook, error) {
	if in.Name == nil || in.URL == nil || in.Events == nil {
		return nil, missing(in)
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	now := p.clock()
	w := &models.Webhook{
		UserID: owner.ID, Secret: secret, Headers: models.Headers{},
		RetryCount: DefaultRetryCount, TimeoutSeconds: DefaultTimeoutSeconds, CreatedAt: now, UpdatedAt: now,
	}
	if err := p.apply(ctx, w, in); err != nil {
		return nil, err
	}
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		n, err := q.CountWebhooks(ctx, owner.ID)
		if err != nil {
			return err
		}
		if n >= MaxPerUser {
			return errs.Conflict("", "too_many_webhooks", "a user may have at most %d webhooks", MaxPerUser)
		}
		return q.InsertWebhook(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func missing(in Input) error {
	switch {
	case in.Name == nil:
		return errs.Invalid("name", "invalid_name", "name is required")
	case in.URL == nil:
		return errs.Invalid("url", "invalid_url", "url is required")
	default:
		return errs.Invalid("events", "invalid_events", "events is required: a list of event types")
	}
}

// apply checks each given field and sets it on w.
func (p *Processor) apply(ctx context.Context, w *models.Webhook, in Input) error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || utf8.RuneCountInString(name) > MaxNameLength {
			return errs.Invalid("name", "invalid_name", "name must be 1 to %d characters", MaxNameLength)
		}
		w.Name = name
	}
	if in.URL != nil {
		if err := p.checkURL(ctx, *in.URL); err != nil {
			return err
		}
		w.URL = *in.URL
	}
	if in.Events != nil {
		events, err := checkEvents(in.Events)
		if err != nil {
			return err
		}
		w.Events = events
	}
	if in.Headers != nil {
		if err := checkHeaders(in.Headers); err != nil {
			return err
		}
		w.Headers = models.Headers(in.Headers)
	}
	return applyLimits(w, in)
}

func applyLimits(w *models.Webhook, in Input) error {
	if in.RetryCount != nil {
		if n := *in.RetryCount; n < MinRetryCount || n > MaxRetryCount {
			return errs.Invalid("retry_count", "invalid_retry_count", "retry_count must be %d to %d", MinRetryCount, MaxRetryCount)
		}
		w.RetryCount = *in.RetryCount
	}
	if in.TimeoutSeconds != nil {
		if n := *in.TimeoutSeconds; n < MinTimeoutSeconds || n > MaxTimeoutSeconds {
			return errs.Invalid("timeout_seconds", "invalid_timeout_seconds", "timeout_seconds must be %d to %d", MinTimeoutSeconds, MaxTimeoutSeconds)
		}
		w.TimeoutSeconds = *in.TimeoutSeconds
	}
	return nil
}

func (p *Processor) checkURL(ctx context.Context, raw string) error {
	if len(raw) > MaxURLLength {
		return errs.Invalid("url", "invalid_url", "url must be at most %d bytes", MaxURLLength)
	}
	if err := delivery.CheckURL(ctx, raw, p.policy, p.resolver); err != nil {
		return errs.Invalid("url", "invalid_url", "%s", err.Error())
	}
	return nil
}

func checkEvents(list []string) ([]string, error) {
	if len(list) == 0 {
		return nil, errs.Invalid("events", "invalid_events", "events must name at least one event type")
	}
	var out []string
	for _, e := range list {
		if !slices.Contains(models.WebhookEvents, e) {
			return nil, errs.Invalid("events", "invalid_events", "unknown event %q; known events: %s", e, strings.Join(models.WebhookEvents, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// reservedHeaders are set by Pecan on every delivery; a custom header may
// not replace them.
var reservedHeaders = []string{
	"webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-event", "content-type",
	"content-length", "host", "user-agent", "transfer-encoding", "connection", "te", "trailer", "upgrade",
}

func checkHeaders(h map[string]string) error {
	if len(h) > MaxHeaders {
		return errs.Invalid("headers", "invalid_headers", "at most %d custom headers", MaxHeaders)
	}
	for name, value := range h {
		if !httpguts.ValidHeaderFieldName(name) || slices.Contains(reservedHeaders, strings.ToLower(name)) {
			return errs.Invalid("headers", "invalid_headers", "%q cannot be a custom header", name)
		}
		if len(value) > MaxHeaderValue || !httpguts.ValidHeaderFieldValue(value) {
			return errs.Invalid("headers", "invalid_headers", "the value of %s must be at most %d bytes of printable text", name, MaxHeaderValue)
		}
	}
	return nil
}

func newSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("make webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key), nil
}

var errNotFound = errs.NotFound("webhook_not_found", "webhook not found")

// Owned loads a webhook for its owner: 404 if there is none, 403 if it is
// someone else's.
func (p *Processor) Owned(ctx context.Context, owner *models.User, id int64) (*models.Webhook, error) {
	w, err := p.db.WebhookByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if w.UserID != owner.ID {
		return nil, errs.Forbidden("not_yours", "this webhook belongs to another user")
	}
	return w, nil
}

// List is the owner's webhooks.
func (p *Processor) List(ctx context.Context, owner *models.User) ([]*models.Webhook, error) {
	return p.db.WebhooksOf(ctx, owner.ID)
}

// Update changes the given fields.
func (p *Processor) Update(ctx context.Context, owner *models.User, id int64, in Input) (*models.Webhook, error) {
	w, err := p.Owned(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if err := p.apply(ctx, w, in); err != nil {
		return nil, err
	}
	w.UpdatedAt = p.clock()
	cols := []string{"name", "url", "events", "headers", "retry_count", "timeout_seconds", "updated_at"}
	if err := p.db.UpdateWebhook(ctx, w, cols...); err != nil {
		return nil, err
	}
	return w, nil
}

// Delete removes a webhook and whatever it had left to send.
func (p *Processor) Delete(ctx context.Context, owner *models.User, id int64) (*models.Webhook, error) {
	w, err := p.Owned(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if err := q.DeleteDeliveriesBySigner(ctx, SignerName, w.ID); err != nil {
			return err
		}
		return q.DeleteWebhook(ctx, w.ID)
	})
	return w, err
}

// RotateSecret gives the webhook a new secret; the old one keeps signing
// beside it for SecretOverlap.
func (p *Processor) RotateSecret(ctx context.Context, owner *models.User, id int64) (*models.Webhook, error) {
	w, err := p.Owned(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	now := p.clock()
	until := now.Add(SecretOverlap)
	w.PreviousSecret, w.PreviousSecretUntil, w.Secret, w.UpdatedAt = w.Secret, &until, secret, now
	if err := p.db.UpdateWebhook(ctx, w, "secret", "previous_secret", "previous_secret_until", "updated_at"); err != nil {
		return nil, err
	}
	return w, nil
}

// Test queues a test.event to the webhook, whatever events it subscribes to.
func (p *Processor) Test(ctx context.Context, owner *models.User, id int64) (*models.Delivery, error) {
	w, err := p.Owned(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	now := p.clock()
	data := map[string]string{"message": "This is a test event from Pecan."}
	job, err := p.job(w, models.Event{Type: models.EventTest, ActorID: owner.ID, At: now}, data)
	if err != nil {
		return nil, err
	}
	queued, err := delivery.Enqueue(ctx, p.db.Queries, now, job)
	if err != nil {
		return nil, err
	}
	return queued[0], nil
}

// Deliveries pages a webhook's deliveries, newest first. count may be
// negative for the oldest within the bounds.
func (p *Processor) Deliveries(ctx context.Context, owner *models.User, id, beforeID, sinceID int64, count int) ([]*models.Delivery, bool, error) {
	w, err := p.Owned(ctx, owner, id)
	if err != nil {
		return nil, false, err
	}
	limit := count + 1
	if count < 0 {
		limit = count - 1
	}
	list, err := p.db.DeliveriesBySigner(ctx, SignerName, w.ID, beforeID, sinceID, limit)
	if err != nil {
		return nil, false, err
	}
	n := max(count, -count)
	more := len(list) > n
	if more {
		list = list[:n]
	}
	if count < 0 {
		slices.Reverse(list)
	}
	return list, more, nil
}

// Redeliver sends a finished delivery again, with the same webhook-id.
func (p *Processor) Redeliver(ctx context.Context, owner *models.User, id, deliveryID int64) (*models.Delivery, error) {
	w, err := p.Owned(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	done, err := p.db.RequeueDelivery(ctx, deliveryID, SignerName, w.ID, p.clock())
	if err != nil {
		return nil, err
	}
	d, err := p.db.DeliveryByID(ctx, deliveryID)
	if errors.Is(err, database.ErrNotFound) || (err == nil && (d.Signer != SignerName || d.SignerRef != w.ID)) {
		return nil, errs.NotFound("delivery_not_found", "this webhook has no such delivery")
	}
	if err != nil {
		return nil, err
	}
	if !done {
		return nil, errs.Conflict("", "delivery_pending", "the delivery is still pending: it will be tried again on its own")
	}
	return d, nil
}
