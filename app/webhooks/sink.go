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
	return p.EmitAll(ctx, q, []models.Event{e})
}

// EmitAll is Emit for the events of one change, with one lookup of the
// webhooks of everyone they concern.
func (p *Processor) EmitAll(ctx context.Context, q database.Queries, events []models.Event) error {
	if unheard(events) {
		return nil
	}
	var users []int64
	for _, e := range events {
		users = append(users, recipients(e)...)
	}
	if len(users) == 0 {
		return nil
	}
	slices.Sort(users)
	hooks, err := q.WebhooksOf(ctx, slices.Compact(users)...)
	if err != nil || len(hooks) == 0 {
		return err
	}
	var jobs []delivery.Job
	for _, e := range events {
		if jobs, err = p.jobsFor(ctx, q, e, hooks, jobs); err != nil {
			return err
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	_, err = delivery.Enqueue(ctx, q, p.clock(), jobs...)
	return err
}

// QuietIfUnheard reports whether no webhook hears of e when the statement
// that stored its post found none among the users it concerns: true for
// the news of a new post, whose listeners that statement looks for.
func (p *Processor) QuietIfUnheard(e models.Event) bool { return e.OfNewPost() }

// unheard reports whether the statement that stored the events' post
// found no webhook among the users they concern (models.Event.Listeners).
func unheard(events []models.Event) bool {
	for _, e := range events {
		if l := e.Listeners(); l == nil || l.Webhooks {
			return false
		}
	}
	return true
}

// jobsFor appends to jobs a delivery of e to each of hooks that hears it.
func (p *Processor) jobsFor(ctx context.Context, q database.Queries, e models.Event, hooks []*models.Webhook, jobs []delivery.Job) ([]delivery.Job, error) {
	to := recipients(e)
	var data any
	for _, w := range hooks {
		if !slices.Contains(to, w.UserID) || !w.Wants(e.Type) {
			continue
		}
		if data == nil {
			var err error
			if data, err = p.render(ctx, q, e); err != nil {
				return nil, fmt.Errorf("render %s for webhooks: %w", e.Type, err)
			}
		}
		job, err := p.job(w, e, data)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
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
