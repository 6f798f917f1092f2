// Package delivery is Pecan's one durable outbound queue: federation,
// webhooks and crossposts all become rows in the deliveries table, written
// in the transaction that caused them, and a pool of workers claims due
// rows, signs them at send time, sends them through a client that refuses
// private addresses, and retries failures with exponential backoff until
// they are delivered or out of attempts. Nothing is sent from a request.
package delivery

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// Job is what a producer wants sent.
type Job struct {
	Kind        models.DeliveryKind
	Method      string // empty: POST
	Event       string
	URL         string
	Body        []byte
	Headers     models.Headers
	Signer      string
	SignerRef   int64
	PostID      *int64
	MaxAttempts int
	Timeout     time.Duration
	MessageID   string // empty: a new one is made
}

// Enqueue writes jobs as pending deliveries through q, which should be the
// transaction of the change that caused them, due at now, and returns the
// rows it wrote.
func Enqueue(ctx context.Context, q database.Queries, now time.Time, jobs ...Job) ([]*models.Delivery, error) {
	rows := make([]*models.Delivery, 0, len(jobs))
	for _, j := range jobs {
		d, err := newDelivery(j, now)
		if err != nil {
			return nil, err
		}
		rows = append(rows, d)
	}
	return rows, q.InsertDeliveries(ctx, rows)
}

func newDelivery(j Job, now time.Time) (*models.Delivery, error) {
	u, err := url.Parse(j.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("queue %s delivery: bad target URL %q", j.Kind, j.URL)
	}
	if j.MaxAttempts < 1 {
		return nil, fmt.Errorf("queue %s delivery to %s: max attempts %d < 1", j.Kind, u.Host, j.MaxAttempts)
	}
	id := j.MessageID
	if id == "" {
		id = NewMessageID()
	}
	method := j.Method
	if method == "" {
		method = http.MethodPost
	}
	now = now.UTC().Truncate(time.Microsecond)
	return &models.Delivery{
		MessageID: id, Kind: j.Kind, Method: method, Event: j.Event, Status: models.DeliveryPending,
		TargetURL: j.URL, TargetHost: strings.ToLower(u.Host), Body: string(j.Body), Headers: j.Headers,
		Signer: j.Signer, SignerRef: j.SignerRef, PostID: j.PostID,
		MaxAttempts: j.MaxAttempts, TimeoutMS: int(j.Timeout.Milliseconds()),
		NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}, nil
}

var messageIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewMessageID makes a random message id, "msg_" and 26 characters.
func NewMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "msg_" + strings.ToLower(messageIDEncoding.EncodeToString(b))
}
