package client

import "context"

// Webhook events.
const (
	EventPostCreated    = "post.created"
	EventPostRevised    = "post.revised"
	EventPostDeleted    = "post.deleted"
	EventPostReposted   = "post.reposted"
	EventPostBookmarked = "post.bookmarked"
	EventMentionCreated = "mention.created"
	EventUserFollowed   = "user.followed"
	EventTest           = "test.event"
)

// NewWebhook is a webhook to create. Name, URL and Events are required.
type NewWebhook struct {
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Events         []string          `json:"events"`
	Headers        map[string]string `json:"headers,omitempty"`
	RetryCount     *int              `json:"retry_count,omitempty"`     // 0 to 10
	TimeoutSeconds *int              `json:"timeout_seconds,omitempty"` // 5 to 300
}

// WebhookUpdate changes a webhook; nil fields stay as they are.
type WebhookUpdate struct {
	Name           *string            `json:"name,omitempty"`
	URL            *string            `json:"url,omitempty"`
	Events         []string           `json:"events,omitempty"`
	Headers        *map[string]string `json:"headers,omitempty"`
	RetryCount     *int               `json:"retry_count,omitempty"`
	TimeoutSeconds *int               `json:"timeout_seconds,omitempty"`
}

// CreateWebhook creates a webhook (needs the webhooks scope). Keep its
// Secret: it is in this answer only, and verifies the signatures of the
// deliveries (Standard Webhooks).
func (c *Client) CreateWebhook(ctx context.Context, w NewWebhook) (*Webhook, error) {
	return c.webhookCall(ctx, request{method: "POST", path: "/webhooks", body: w, create: true})
}

// Webhooks lists your webhooks, without their secrets.
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out []Webhook
	_, err := c.call(ctx, request{method: "GET", path: "/webhooks"}, &out)
	return out, err
}

// Webhook fetches one of your webhooks.
func (c *Client) Webhook(ctx context.Context, id string) (*Webhook, error) {
	return c.webhookCall(ctx, request{method: "GET", path: "/webhooks/" + ref(id)})
}

// UpdateWebhook changes a webhook.
func (c *Client) UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error) {
	return c.webhookCall(ctx, request{method: "PATCH", path: "/webhooks/" + ref(id), body: u})
}

// DeleteWebhook deletes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, id string) (*Webhook, error) {
	return c.webhookCall(ctx, request{method: "DELETE", path: "/webhooks/" + ref(id)})
}

// RotateWebhookSecret starts signing with a new secret, returned here;
// for a while deliveries carry signatures by the old one too.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (*Webhook, error) {
	return c.webhookCall(ctx, request{method: "POST", path: "/webhooks/" + ref(id) + "/rotate_secret"})
}

func (c *Client) webhookCall(ctx context.Context, r request) (*Webhook, error) {
	var out Webhook
	if _, err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TestWebhook queues a test.event delivery to the webhook.
func (c *Client) TestWebhook(ctx context.Context, id string) (*Delivery, error) {
	return c.deliveryCall(ctx, request{method: "POST", path: "/webhooks/" + ref(id) + "/test"})
}

// Redeliver sends a delivery again.
func (c *Client) Redeliver(ctx context.Context, webhookID, deliveryID string) (*Delivery, error) {
	return c.deliveryCall(ctx, request{method: "POST", path: "/webhooks/" + ref(webhookID) + "/deliveries/" + ref(deliveryID) + "/redeliver"})
}

func (c *Client) deliveryCall(ctx context.Context, r request) (*Delivery, error) {
	var out Delivery
	if _, err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeliveryPage is one page of a webhook's deliveries, newest first.
type DeliveryPage struct {
	Deliveries []Delivery
	Meta       Meta
}

// Deliveries lists a webhook's deliveries.
func (c *Client) Deliveries(ctx context.Context, webhookID string, p Page) (*DeliveryPage, error) {
	out := &DeliveryPage{}
	meta, err := c.call(ctx, request{method: "GET", path: "/webhooks/" + ref(webhookID) + "/deliveries", query: p.query()}, &out.Deliveries)
	if err != nil {
		return nil, err
	}
	out.Meta = *meta
	return out, nil
}
