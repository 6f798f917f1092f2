package posts

import (
	"context"
	"errors"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// Posts from other servers follow their servers' rules, not pnut's: no
// length limit, no duplicate window, any number of revisions. What stays
// the same is how they are stored, indexed and counted, and the events
// they cause (a local user mentioned by a remote post hears of it).

// RemoteNote is a remote post, already turned into text and entities with
// its mentions resolved to users.
type RemoteNote struct {
	APID      string
	URL       string
	Text      string
	Entities  models.Entities
	IsNSFW    bool
	ReplyTo   *int64
	CreatedAt time.Time
}

// StoreRemote stores a remote user's post once; a Note delivered again
// returns the post stored the first time, and false.
func (p *Processor) StoreRemote(ctx context.Context, author *models.User, n RemoteNote) (*models.Post, bool, error) {
	if existing, err := p.db.PostByAPID(ctx, n.APID); err == nil {
		return existing, false, nil
	}
	apID := n.APID
	post := &models.Post{
		UserID: author.ID, Text: n.Text, Entities: n.Entities, IsNSFW: n.IsNSFW, Raw: models.Raw{},
		CreatedAt: n.CreatedAt.UTC().Truncate(time.Microsecond), APID: &apID, APURL: n.URL, User: author,
	}
	err := p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		return p.insert(ctx, q, post, n.ReplyTo)
	})
	if errors.Is(err, database.ErrDuplicate) { // the same Note, delivered twice at once
		existing, err := p.db.PostByAPID(ctx, n.APID)
		return existing, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return post, true, nil
}

// ReviseRemote applies a remote Update: the text, entities and flags are
// replaced, the first version is kept as revision 0, and the post is
// marked revised at updated.
func (p *Processor) ReviseRemote(ctx context.Context, post *models.Post, n RemoteNote, updated time.Time) error {
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		kept, err := q.HasRevision(ctx, post.ID)
		if err != nil {
			return err
		}
		if !kept {
			original := &models.PostRevision{PostID: post.ID, Revision: 0, Text: post.Text, Entities: post.Entities, IsNSFW: post.IsNSFW, CreatedAt: post.CreatedAt}
			if err := q.InsertRevision(ctx, original); err != nil {
				return err
			}
		}
		at := updated.UTC().Truncate(time.Microsecond)
		post.Text, post.Entities, post.IsNSFW, post.IsRevised, post.RevisedAt = n.Text, n.Entities, n.IsNSFW, true, &at
		if err := q.ReplacePostContent(ctx, post, mentionRows(post), tagSet(post.Entities)); err != nil {
			return err
		}
		return p.emit(ctx, q, models.Event{Type: models.EventPostRevised, ActorID: post.UserID, PostID: post.ID, At: at})
	})
}

// DeleteRemote soft-deletes a remote post at its author's request; a
// repost is removed, as a local one is, so the original's count drops.
func (p *Processor) DeleteRemote(ctx context.Context, post *models.Post) error {
	if post.Deleted() {
		return nil
	}
	err := p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if post.RepostOf != nil {
			return p.removeRepost(ctx, q, post, p.clock())
		}
		return p.softDelete(ctx, q, post, p.clock())
	})
	if errors.Is(err, errPostNotFound) { // deleted meanwhile
		return nil
	}
	return err
}

// RepostRemote records a remote user's Announce (activity apID) of a post.
func (p *Processor) RepostRemote(ctx context.Context, user *models.User, postID int64, apID string) error {
	_, err := p.repost(ctx, user, postID, &apID)
	return err
}

// UnrepostRemote removes the repost a remote Announce (apID) made.
func (p *Processor) UnrepostRemote(ctx context.Context, user *models.User, apID string) error {
	repost, err := p.db.PostByAPID(ctx, apID)
	if errors.Is(err, database.ErrNotFound) {
		return nil
	}
	if err != nil || repost.UserID != user.ID || repost.RepostOf == nil {
		return err
	}
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		return p.removeRepost(ctx, q, repost, p.clock())
	})
}

// ByAPID finds a remote post by its ActivityPub id.
func (p *Processor) ByAPID(ctx context.Context, apID string) (*models.Post, error) {
	post, err := p.db.PostByAPID(ctx, apID)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errPostNotFound
	}
	return post, err
}

// IsNotFound reports whether err means the post does not exist (or was
// deleted).
func IsNotFound(err error) bool { return errors.Is(err, errPostNotFound) }
