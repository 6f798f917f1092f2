package posts

import (
	"context"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Delete soft-deletes a post (its reposts go with it) and returns it as it
// now reads. Deleting one's own repost removes the repost.
func (p *Processor) Delete(ctx context.Context, author *models.User, postID int64) (*models.Post, error) {
	post, err := p.live(ctx, p.db.Queries, postID)
	if err != nil {
		return nil, err
	}
	if post.UserID != author.ID {
		return nil, errs.Forbidden("not_yours", "only the author may delete a post")
	}
	if post.RepostOf != nil {
		if _, err := p.Unrepost(ctx, author, *post.RepostOf); err != nil {
			return nil, err
		}
		return post, nil
	}
	now := p.clock()
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		return p.softDelete(ctx, q, post, now)
	})
	if err != nil {
		return nil, err
	}
	post.DeletedAt = &now
	return post, nil
}

func (p *Processor) softDelete(ctx context.Context, q database.Queries, post *models.Post, now time.Time) error {
	deleted, err := q.SoftDeletePost(ctx, post.ID, now)
	if err != nil {
		return err
	}
	if !deleted { // another request deleted it first
		return errPostNotFound
	}
	var parent *models.Post
	if post.ReplyTo != nil {
		parent = &models.Post{ID: *post.ReplyTo}
	}
	if err := p.count(ctx, q, post, parent, -1); err != nil {
		return err
	}
	if err := p.removeReposts(ctx, q, post, now); err != nil {
		return err
	}
	return p.emit(ctx, q, models.Event{Type: models.EventPostDeleted, ActorID: post.UserID, PostID: post.ID, At: now})
}

// removeReposts takes every repost of a deleted post away with it.
func (p *Processor) removeReposts(ctx context.Context, q database.Queries, post *models.Post, now time.Time) error {
	reposts, err := q.RepostsOf(ctx, post.ID)
	if err != nil {
		return err
	}
	for _, r := range reposts {
		if err := p.removeRepost(ctx, q, r, now); err != nil {
			return err
		}
	}
	return nil
}
