package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/models"
)

// Emit turns an event into one delivery per webhook that wants it, in the
// caller's transaction. A webhook hears of what its owner does, and of
// what others do to them: being mentioned, followed, reposted, bookmarked.
func (p *Processor) Emit(ctx context.Context, q database.Queries, e models.Event) error {
	users := recipients(e)
	if len(users) == 0 {
		return nil
	}
	hooks, err := q.WebhooksOf(ctx, users...)
	if err != nil {
		return err
	}
	hooks = slices.DeleteFunc(hooks, func(w *models.Webhook) bool { return !w.Wants(e.Type) })
	if len(hooks) == 0 {
		return nil
	}
	data, err := p.render(ctx, q, e)
	if err != nil {
		return fmt.Errorf("render %s for webhooks: %w", e.Type, err)
	}
	jobs := make([]delivery.Job, 0, len(hooks))
	for _, w := range hooks {
		job, err := p.job(w, e, data)
		if err != nil {
			return err
		}
		jobs = append(jobs, job)
	}
	_, err = delivery.Enqueue(ctx, q, p.clock(), jobs...)
	return err
}

// recipients are the users whose webhooks hear of e.
func recipients(e models.Event) []int64 {
	var users []int64
	switch e.Type {
	case models.EventPostCreated, models.EventPostRevised, models.EventPostDeleted, models.EventPostCrossposted:
		users = []int64{e.ActorID}
	case models.EventPostReposted, models.EventPostBookmarked:
		users = []int64{e.ActorID, e.SubjectID}
	case models.EventMentionCreated, models.EventUserFollowed:
		users = []int64{e.SubjectID}
	}
	users = slices.DeleteFunc(users, func(id int64) bool { return id == 0 })
	slices.Sort(users)
	return slices.Compact(users)
}

// render is the event's data: the post in the API's shape (raw included),
// or for a follow the follower.
func (p *Processor) render(ctx context.Context, q database.Queries, e models.Event) (any, error) {
	v := convert.Viewer{PublicURL: p.publicURL}
	if e.Type == models.EventUserFollowed {
		follower, err := q.UserByID(ctx, e.ActorID)
		if err != nil {
			return nil, err
		}
		return convert.ToUser(follower, v), nil
	}
	post, err := q.PostByID(ctx, e.PostID)
	if err != nil {
		return nil, err
	}
	if post.RepostOf != nil {
		if post.Original, err = q.PostByID(ctx, *post.RepostOf); err != nil {
			return nil, err
		}
	}
	opts := convert.DefaultPostOptions
	opts.Raw = true
	return convert.ToPost(post, opts, v), nil
}

// Payload is the body of every webhook delivery.
type Payload struct {
	ID      string       `json:"id"` // the same as the webhook-id header
	Event   PayloadEvent `json:"event"`
	Webhook PayloadHook  `json:"webhook"`
}

// PayloadEvent is what happened.
type PayloadEvent struct {
	Type      string `json:"type"`
	Data      any    `json:"data"`
	Timestamp string `json:"timestamp"`
	UserID    string `json:"user_id"` // who acted
}

// PayloadHook names the webhook the delivery is for.
type PayloadHook struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (p *Processor) job(w *models.Webhook, e models.Event, data any) (delivery.Job, error) {
	id := delivery.NewMessageID()
	body, err := json.Marshal(Payload{
		ID:      id,
		Event:   PayloadEvent{Type: e.Type, Data: data, Timestamp: e.At.UTC().Format(time.RFC3339Nano), UserID: convert.ID(e.ActorID)},
		Webhook: PayloadHook{ID: convert.ID(w.ID), Name: w.Name},
	})
	if err != nil {
		return delivery.Job{}, fmt.Errorf("encode %s for webhook %d: %w", e.Type, w.ID, err)
	}
	var postID *int64
	if e.PostID != 0 {
		postID = &e.PostID
	}
	return delivery.Job{
		Kind: models.DeliveryWebhook, Event: e.Type, URL: w.URL, Body: body,
		Signer: SignerName, SignerRef: w.ID, PostID: postID, MessageID: id,
		MaxAttempts: w.RetryCount + 1, Timeout: time.Duration(w.TimeoutSeconds) * time.Second,
	}, nil
}
