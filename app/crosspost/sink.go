package crosspost

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/models"
)

// Delivery limits of ActivityPub crossposts, as federation's own.
const (
	activityAttempts = 16
	activityTimeout  = 30 * time.Second
)

// Crosspost queues a new post to the targets the author chose, in the
// post's transaction: a target that is not the author's rolls the post
// back with it.
func (p *Processor) Crosspost(ctx context.Context, q database.Queries, post *models.Post, choice models.CrosspostChoice) error {
	targets, err := chosen(ctx, q, post.UserID, choice)
	if err != nil || len(targets) == 0 {
		return err
	}
	jobs := make([]delivery.Job, 0, len(targets))
	for _, t := range targets {
		job, err := p.job(ctx, q, t, post, models.EventPostCreated)
		if err != nil {
			return err
		}
		jobs = append(jobs, job)
	}
	now := p.clock()
	queued, err := delivery.Enqueue(ctx, q, now, jobs...)
	if err != nil {
		return err
	}
	rows := make([]*models.Crosspost, len(targets))
	for i, t := range targets {
		rows[i] = &models.Crosspost{PostID: post.ID, TargetID: t.ID, DeliveryID: queued[i].ID, CreatedAt: now}
	}
	return q.InsertCrossposts(ctx, rows)
}

// chosen loads the targets a post names, each once, all of them the
// author's.
func chosen(ctx context.Context, q database.Queries, authorID int64, choice models.CrosspostChoice) ([]*models.CrosspostTarget, error) {
	if choice.All {
		return q.CrosspostTargetsOf(ctx, authorID)
	}
	var out []*models.CrosspostTarget
	var seen []int64
	for _, id := range choice.TargetIDs {
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		t, err := owned(ctx, q, authorID, id, "crosspost")
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// followsUp reports whether e is news a crossposted post's copies hear
// of. Its creation is not: the post's own transaction queues those.
func followsUp(e models.Event) bool {
	return e.Type == models.EventPostRevised || e.Type == models.EventPostDeleted
}

// QuietIfUnheard reports whether Emit writes nothing for e, whoever listens.
func (p *Processor) QuietIfUnheard(e models.Event) bool { return !followsUp(e) }

// Emit makes a revision or a delete of a crossposted post follow it to
// every target it went to: an edit or a delete there.
func (p *Processor) Emit(ctx context.Context, q database.Queries, e models.Event) error {
	if !followsUp(e) {
		return nil
	}
	rows, err := q.CrosspostsOfPost(ctx, e.PostID)
	if err != nil || len(rows) == 0 {
		return err
	}
	post, err := q.PostByID(ctx, e.PostID)
	if err != nil {
		return err
	}
	for _, c := range rows {
		t, err := q.CrosspostTargetByID(ctx, c.TargetID)
		if err != nil {
			return err
		}
		job, err := p.job(ctx, q, t, post, e.Type)
		if err != nil {
			return err
		}
		queued, err := delivery.Enqueue(ctx, q, p.clock(), job)
		if err != nil {
			return err
		}
		if err := q.SetCrosspostDelivery(ctx, c.ID, queued[0].ID); err != nil {
			return err
		}
	}
	return nil
}

// job is the delivery that carries a post's change to a target.
func (p *Processor) job(ctx context.Context, q database.Queries, t *models.CrosspostTarget, post *models.Post, event string) (delivery.Job, error) {
	switch t.Kind {
	case models.CrosspostMastodon:
		return p.mastodonJob(t, post, event)
	case models.CrosspostActivityPub:
		return p.activityJob(ctx, q, t, post, event)
	}
	return delivery.Job{}, fmt.Errorf("crosspost target %d: unknown kind %q", t.ID, t.Kind)
}

// activityJob is the Create, Update or Delete of post, to the target
// actor's own inbox.
func (p *Processor) activityJob(ctx context.Context, q database.Queries, t *models.CrosspostTarget, post *models.Post, event string) (delivery.Job, error) {
	if t.RemoteUserID == nil {
		return delivery.Job{}, fmt.Errorf("crosspost target %d has no actor", t.ID)
	}
	actor, err := q.UserByID(ctx, *t.RemoteUserID)
	if err != nil {
		return delivery.Job{}, err
	}
	body, err := p.fed.CrosspostActivity(ctx, q, post.ID, event, actor, t.ID)
	if err != nil {
		return delivery.Job{}, err
	}
	inbox := actor.InboxURL
	if inbox == "" {
		inbox = actor.DeliveryInbox()
	}
	return delivery.Job{
		Kind: models.DeliveryCrosspost, Method: http.MethodPost, Event: event, URL: inbox, Body: body,
		Signer: SignerName, SignerRef: t.ID, PostID: &post.ID, MaxAttempts: activityAttempts, Timeout: activityTimeout,
	}, nil
}
