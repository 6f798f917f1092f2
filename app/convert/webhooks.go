package convert

import "github.com/pecan-social/pecan/models"

// Webhook is a webhook as its owner sees it. Secret appears only in the
// answers that create or rotate it.
type Webhook struct {
	ID                    string            `json:"id"`
	Name                  string            `json:"name"`
	URL                   string            `json:"url"`
	Events                []string          `json:"events"`
	Headers               map[string]string `json:"headers"`
	RetryCount            int               `json:"retry_count"`
	TimeoutSeconds        int               `json:"timeout_seconds"`
	CreatedAt             string            `json:"created_at"`
	UpdatedAt             string            `json:"updated_at"`
	Secret                string            `json:"secret,omitempty"`
	PreviousSecretExpires *string           `json:"previous_secret_expires_at,omitempty"`
}

// ToWebhook renders w; withSecret shows its secret.
func ToWebhook(w *models.Webhook, withSecret bool) Webhook {
	out := Webhook{
		ID: ID(w.ID), Name: w.Name, URL: w.URL, Events: w.Events, Headers: w.Headers,
		RetryCount: w.RetryCount, TimeoutSeconds: w.TimeoutSeconds,
		CreatedAt: Time(w.CreatedAt), UpdatedAt: Time(w.UpdatedAt),
		PreviousSecretExpires: optionalTime(w.PreviousSecretUntil),
	}
	if out.Events == nil {
		out.Events = []string{}
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	if withSecret {
		out.Secret = w.Secret
	}
	return out
}

// ToWebhooks renders a list, without secrets.
func ToWebhooks(list []*models.Webhook) []Webhook {
	out := make([]Webhook, len(list))
	for i, w := range list {
		out[i] = ToWebhook(w, false)
	}
	return out
}

// Delivery is one queued outbound request as its owner sees it.
type Delivery struct {
	ID            string  `json:"id"`
	MessageID     string  `json:"message_id"`
	Event         string  `json:"event"`
	Status        string  `json:"status"`
	Attempts      int     `json:"attempts"`
	MaxAttempts   int     `json:"max_attempts"`
	ResponseCode  *int    `json:"response_code"`
	LastError     string  `json:"last_error,omitempty"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
	NextAttemptAt *string `json:"next_attempt_at,omitempty"`
	DeliveredAt   *string `json:"delivered_at,omitempty"`
	PaginationID  string  `json:"pagination_id"`
}

// ToDelivery renders d. next_attempt_at shows only while it is pending.
func ToDelivery(d *models.Delivery) Delivery {
	out := Delivery{
		ID: ID(d.ID), MessageID: d.MessageID, Event: d.Event, Status: string(d.Status),
		Attempts: d.Attempts, MaxAttempts: d.MaxAttempts, LastError: d.LastError,
		CreatedAt: Time(d.CreatedAt), UpdatedAt: Time(d.UpdatedAt), DeliveredAt: optionalTime(d.DeliveredAt),
		PaginationID: ID(d.ID),
	}
	if d.LastStatus != 0 {
		code := d.LastStatus
		out.ResponseCode = &code
	}
	if d.Status == models.DeliveryPending {
		out.NextAttemptAt = optionalTime(&d.NextAttemptAt)
	}
	return out
}

// ToDeliveries renders a list.
func ToDeliveries(list []*models.Delivery) []Delivery {
	out := make([]Delivery, len(list))
	for i, d := range list {
		out[i] = ToDelivery(d)
	}
	return out
}
