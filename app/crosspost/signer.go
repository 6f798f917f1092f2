package crosspost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/models"
)

// Prepare completes a Mastodon delivery with the ids only the target knows:
// an edit or a delete goes to the status the create made, and a reply
// answers the status its parent became there. Until those exist (the
// create, or the parent's, is still on its way) the delivery waits.
func (p *Processor) Prepare(ctx context.Context, d *models.Delivery) error {
	t, err := p.target(ctx, d)
	if err != nil || t.Kind != models.CrosspostMastodon || d.PostID == nil {
		return err
	}
	if d.Method != http.MethodPost {
		id, err := p.remoteID(ctx, t, *d.PostID)
		if err != nil {
			return err
		}
		if id == "" {
			return delivery.Permanent(errors.New("the post never reached the target, so there is nothing to change there"))
		}
		d.TargetURL += "/" + url.PathEscape(id)
		return nil
	}
	return p.answerParent(ctx, t, d)
}

// answerParent sets in_reply_to_id when the post replies to one that went
// to the same target.
func (p *Processor) answerParent(ctx context.Context, t *models.CrosspostTarget, d *models.Delivery) error {
	post, err := p.db.PostByID(ctx, *d.PostID)
	if err != nil || post.ReplyTo == nil {
		return err
	}
	parent, err := p.remoteID(ctx, t, *post.ReplyTo)
	if err != nil || parent == "" {
		return err // a parent that never got there: the reply stands alone
	}
	var params statusParams
	if err := json.Unmarshal([]byte(d.Body), &params); err != nil {
		return delivery.Permanent(fmt.Errorf("read status of post %d: %w", post.ID, err))
	}
	params.InReplyToID = parent
	body, err := json.Marshal(params)
	d.Body = string(body)
	return err
}

// errNotThereYet makes a delivery wait for the create it depends on.
var errNotThereYet = errors.New("waiting for the post to reach the target first")

// remoteID is the id the target gave a post: "" if it was never sent
// there or never arrived, errNotThereYet while it is still on its way.
func (p *Processor) remoteID(ctx context.Context, t *models.CrosspostTarget, postID int64) (string, error) {
	c, err := p.db.CrosspostOf(ctx, postID, t.ID)
	if errors.Is(err, database.ErrNotFound) {
		return "", nil
	}
	if err != nil || c.RemoteID != "" {
		return c.RemoteID, err
	}
	status, err := p.db.LatestDeliveryStatus(ctx, postID, SignerName, t.ID, models.EventPostCreated)
	if err != nil {
		return "", err
	}
	if status == models.DeliveryPending {
		return "", errNotThereYet
	}
	return "", nil
}

// Sign authorises a delivery: the target's token for a Mastodon server
// (with the message id as Idempotency-Key on a create, so a retry after a
// lost answer makes no second status), the author's key for an actor.
func (p *Processor) Sign(ctx context.Context, req *http.Request, d *models.Delivery) error {
	t, err := p.target(ctx, d)
	if err != nil {
		return err
	}
	if t.Kind == models.CrosspostActivityPub {
		byAuthor := *d
		byAuthor.SignerRef = t.UserID
		return p.fed.Sign(ctx, req, &byAuthor)
	}
	token, err := p.sealer.open(ctx, t.SealedToken, tokenBinding(t.UserID, t.ServerURL))
	if err != nil {
		return delivery.Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if d.Method == http.MethodPost {
		req.Header.Set("Idempotency-Key", d.MessageID)
	}
	return nil
}

// Delivered records a create's arrival, with the status id and URL a
// Mastodon server answers, and tells the author's webhooks.
func (p *Processor) Delivered(ctx context.Context, q database.Queries, d *models.Delivery, answer []byte) error {
	if d.Event != models.EventPostCreated || d.PostID == nil {
		return nil
	}
	t, err := q.CrosspostTargetByID(ctx, d.SignerRef)
	if err != nil {
		return err
	}
	var made status
	if t.Kind == models.CrosspostMastodon {
		if err := json.Unmarshal(answer, &made); err != nil || made.ID == "" {
			return errors.New("the server's answer carries no status id")
		}
		if made.URL == "" {
			made.URL = made.URI
		}
	}
	now := p.clock()
	if err := q.MarkCrosspostArrived(ctx, *d.PostID, t.ID, string(made.ID), made.URL, now); err != nil {
		return err
	}
	return p.webhooks.Emit(ctx, q, models.Event{Type: models.EventPostCrossposted, ActorID: t.UserID, PostID: *d.PostID, At: now})
}

func (p *Processor) target(ctx context.Context, d *models.Delivery) (*models.CrosspostTarget, error) {
	t, err := p.db.CrosspostTargetByID(ctx, d.SignerRef)
	if errors.Is(err, database.ErrNotFound) {
		return nil, delivery.Permanent(fmt.Errorf("crosspost target %d was deleted", d.SignerRef))
	}
	return t, err
}
