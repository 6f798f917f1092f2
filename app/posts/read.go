package posts

import (
	"context"
	"errors"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// MaxLookupIDs bounds GET /posts?ids=.
const MaxLookupIDs = 200

// Get loads one post, deleted or not, with the original of a repost.
func (p *Processor) Get(ctx context.Context, id int64) (*models.Post, error) {
	post, err := p.db.PostByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errPostNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := p.AttachOriginals(ctx, []*models.Post{post}); err != nil {
		return nil, err
	}
	return post, nil
}

// GetMany loads up to MaxLookupIDs posts in the order asked; missing ones
// are left out, and so are deleted ones unless includeDeleted (pnut keeps
// them in lists by default, without content).
func (p *Processor) GetMany(ctx context.Context, ids []int64, includeDeleted bool) ([]*models.Post, error) {
	if len(ids) > MaxLookupIDs {
		ids = ids[:MaxLookupIDs]
	}
	found, err := p.db.PostsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*models.Post, len(found))
	for _, post := range found {
		byID[post.ID] = post
	}
	out := make([]*models.Post, 0, len(ids))
	for _, id := range ids {
		if post, ok := byID[id]; ok && (includeDeleted || !post.Deleted()) {
			out = append(out, post)
			delete(byID, id)
		}
	}
	return out, p.AttachOriginals(ctx, out)
}

// AttachOriginals loads the reposted posts of any reposts, in one query.
func (p *Processor) AttachOriginals(ctx context.Context, list []*models.Post) error {
	var ids []int64
	for _, post := range list {
		if post.RepostOf != nil {
			ids = append(ids, *post.RepostOf)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	originals, err := p.db.PostsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*models.Post, len(originals))
	for _, o := range originals {
		byID[o.ID] = o
	}
	for _, post := range list {
		if post.RepostOf != nil {
			post.Original = byID[*post.RepostOf]
		}
	}
	return nil
}

// Revisions returns a live post's earlier versions, oldest first.
func (p *Processor) Revisions(ctx context.Context, id int64) (*models.Post, []*models.PostRevision, error) {
	post, err := p.live(ctx, p.db.Queries, id)
	if err != nil {
		return nil, nil, err
	}
	revs, err := p.db.Revisions(ctx, id)
	return post, revs, err
}
