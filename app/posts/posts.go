// Package posts holds the pnut post rules: the length limit, the duplicate
// window, one revision within its window, soft deletes, replies, reposts
// and bookmarks. Every change and the events it causes are written in one
// transaction; a new post no one hears of, which causes none that a sink
// turns into deliveries, in one statement.
package posts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/events"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/models"
)

// Rules are the limits of the pnut post lifecycle.
type Rules struct {
	MaxLength       int           // code points, after markdown links are rewritten
	MaxInputLength  int           // code points as sent, before the rewrite
	DuplicateWindow time.Duration // same text, same human or feed user
	RevisionWindow  time.Duration
	IdempotencyTTL  time.Duration
	MaxRawBytes     int
	MaxNoteLength   int
}

// DefaultRules are pnut's.
var DefaultRules = Rules{
	MaxLength:       256,
	MaxInputLength:  4096,
	DuplicateWindow: 120 * time.Second,
	RevisionWindow:  300 * time.Second,
	IdempotencyTTL:  time.Hour,
	MaxRawBytes:     8192,
	MaxNoteLength:   128,
}

// Processor applies the post rules.
type Processor struct {
	db       *database.DB
	store    kv.Store
	events   events.Sink
	now      func() time.Time
	rules    Rules
	resolver Resolver
	// crossposter carries new posts to their authors' accounts elsewhere.
	crossposter Crossposter
	// heardAuthors are the authors whose last post written in a
	// transaction was heard of: their next goes to a transaction at once,
	// not first tried alone (see mayWriteAlone).
	heardAuthors boundedMap[int64, struct{}]
	// localUsers are local users mentioned before, by username key, each
	// with only what never changes (identity).
	localUsers boundedMap[string, *models.User]
}

// Crossposter queues a new post to the author's crosspost targets, in the
// post's own transaction, writing through q only.
type Crossposter interface {
	Crosspost(ctx context.Context, q database.Queries, post *models.Post, choice models.CrosspostChoice) error
}

// SetCrossposter lets posts name crosspost targets.
func (p *Processor) SetCrossposter(c Crossposter) { p.crossposter = c }

// Resolver finds users by handle on other servers.
type Resolver interface {
	ResolveHandle(ctx context.Context, name, host string) (*models.User, error)
}

// SetResolver lets mentions of @name@host reach users on other servers.
func (p *Processor) SetResolver(r Resolver) { p.resolver = r }

// New returns a post processor that tells sink of every change.
func New(db *database.DB, store kv.Store, sink events.Sink, now func() time.Time, rules Rules) *Processor {
	return &Processor{db: db, store: store, events: sink, now: now, rules: rules,
		heardAuthors: boundedMap[int64, struct{}]{max: 100_000},     // 8-byte keys
		localUsers:   boundedMap[string, *models.User]{max: 10_000}, // a few hundred bytes each
	}
}

func (p *Processor) clock() time.Time { return p.now().UTC().Truncate(time.Microsecond) }

var errPostNotFound = errs.NotFound("post_not_found", "post not found")

// live loads a post that can be acted on: it exists and is not deleted.
func (p *Processor) live(ctx context.Context, q database.Queries, id int64) (*models.Post, error) {
	post, err := q.PostByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errPostNotFound
	}
	if err != nil {
		return nil, err
	}
	if post.Deleted() {
		return nil, errPostNotFound
	}
	return post, nil
}

// target is the post an action lands on: acting on a repost acts on the
// original, as pnut v1 does.
func (p *Processor) target(ctx context.Context, q database.Queries, id int64) (*models.Post, error) {
	post, err := p.live(ctx, q, id)
	if err != nil || post.RepostOf == nil {
		return post, err
	}
	return p.live(ctx, q, *post.RepostOf)
}

// emit tells the sinks of a change, in the caller's transaction.
func (p *Processor) emit(ctx context.Context, q database.Queries, e models.Event) error {
	if err := p.events.Emit(ctx, q, e); err != nil {
		return fmt.Errorf("emit %s for post %d: %w", e.Type, e.PostID, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
