package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// Signer signs webhook deliveries in the Standard Webhooks format with the
// webhook's secret as it is when the delivery is sent, so a rotation
// applies to deliveries already queued; the webhook's custom headers are
// read then too, for the same reason.
type Signer struct {
	db  *database.DB
	now func() time.Time
}

// NewSigner returns the signer for webhook deliveries.
func NewSigner(db *database.DB, now func() time.Time) *Signer {
	return &Signer{db: db, now: now}
}

// Sign sets webhook-id, webhook-timestamp, webhook-signature and
// X-Webhook-Event. While a replaced secret is still valid both sign, as
// the format allows (space-separated signatures).
func (s *Signer) Sign(ctx context.Context, req *http.Request, d *models.Delivery) error {
	w, err := s.db.WebhookByID(ctx, d.SignerRef)
	if err != nil {
		return fmt.Errorf("sign delivery %d: %w", d.ID, err)
	}
	now := s.now()
	secrets := []string{w.Secret}
	if w.PreviousSecret != "" && w.PreviousSecretUntil != nil && now.Before(*w.PreviousSecretUntil) {
		secrets = append(secrets, w.PreviousSecret)
	}
	var sigs []string
	for _, secret := range secrets {
		hook, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return fmt.Errorf("sign delivery %d: webhook %d secret: %w", d.ID, w.ID, err)
		}
		sig, err := hook.Sign(d.MessageID, now, []byte(d.Body))
		if err != nil {
			return fmt.Errorf("sign delivery %d: %w", d.ID, err)
		}
		sigs = append(sigs, sig)
	}
	for name, value := range w.Headers {
		req.Header.Set(name, value)
	}
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.MessageID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	req.Header.Set("X-Webhook-Event", d.Event)
	return nil
}
