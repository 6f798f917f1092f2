package posts

import (
	"context"
	"slices"
	"strconv"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Revise replaces a post's text once, within the revision window, keeping
// the same links, mentions and tags. The original is kept as revision 0.
func (p *Processor) Revise(ctx context.Context, author *models.User, postID int64, in Input) (*models.Post, error) {
	post, err := p.live(ctx, p.db.Queries, postID)
	if err != nil {
		return nil, err
	}
	if err := p.checkRevisable(post, author, in); err != nil {
		return nil, err
	}
	processed, err := p.Process(ctx, in)
	if err != nil {
		return nil, err
	}
	if !sameEntities(post.Entities, processed.Entities) {
		return nil, errs.Invalid("text", "entities_changed", "a revision must keep the same links, mentions and tags")
	}
	isNSFW := post.IsNSFW
	if in.IsNSFW != nil {
		isNSFW = *in.IsNSFW
	}
	now := p.clock()
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		return p.applyRevision(ctx, q, post, database.ReviseWindow{
			PostID: post.ID, UserID: author.ID, Text: processed.Text, Entities: processed.Entities,
			IsNSFW: isNSFW, RevisedAt: now, NotBefore: now.Add(-p.rules.RevisionWindow),
		})
	})
	if err != nil {
		return nil, err
	}
	return p.db.PostByID(ctx, post.ID)
}

func (p *Processor) checkRevisable(post *models.Post, author *models.User, in Input) error {
	switch {
	case post.RepostOf != nil:
		return errs.Invalid("post_id", "not_revisable", "a repost has no text to revise")
	case post.UserID != author.ID:
		return errs.Forbidden("not_yours", "only the author may revise a post")
	case len(in.Raw) > 0 && string(in.Raw) != "null":
		return errs.Invalid("raw", "raw_immutable", "raw is set when a post is created and cannot be revised")
	case in.Crosspost != nil:
		return errs.Invalid("crosspost", "crosspost_immutable", "crossposts are chosen when a post is created; a revision follows them by itself")
	case in.ReplyTo != nil && (post.ReplyTo == nil || *post.ReplyTo != *in.ReplyTo):
		return errs.Invalid("reply_to", "reply_to_immutable", "a revision cannot change what the post replies to")
	case post.IsRevised:
		return errs.Conflict("", "already_revised", "a post may be revised only once")
	// "Within 300 s" includes 300 s; RevisePost's condition agrees.
	case p.clock().Sub(post.CreatedAt) > p.rules.RevisionWindow:
		return p.windowClosed()
	}
	return nil
}

func (p *Processor) windowClosed() error {
	return errs.Conflict("", "revision_window_closed", "a post may be revised only in the %d seconds after it was made", int(p.rules.RevisionWindow.Seconds()))
}

// applyRevision changes the row only if it is still unrevised and inside the
// window: the statement itself settles a race between two revisions.
func (p *Processor) applyRevision(ctx context.Context, q database.Queries, post *models.Post, w database.ReviseWindow) error {
	won, err := q.RevisePost(ctx, w)
	if err != nil {
		return err
	}
	if !won {
		current, err := q.PostByID(ctx, post.ID)
		if err == nil && current.IsRevised {
			return errs.Conflict("", "already_revised", "a post may be revised only once")
		}
		if err == nil && current.Deleted() {
			return errPostNotFound
		}
		return p.windowClosed()
	}
	original := &models.PostRevision{PostID: post.ID, Revision: 0, Text: post.Text, Entities: post.Entities, IsNSFW: post.IsNSFW, CreatedAt: post.CreatedAt}
	if err := q.InsertRevision(ctx, original); err != nil {
		return err
	}
	if err := q.SetLeadingMentions(ctx, post.ID, leadingMentions(w.Entities)); err != nil {
		return err
	}
	return p.emit(ctx, q, models.Event{Type: models.EventPostRevised, ActorID: post.UserID, PostID: post.ID, At: w.RevisedAt})
}

// leadingMentions lists the users the text addresses: those with a
// mention before any other words.
func leadingMentions(e models.Entities) []int64 {
	var ids []int64
	for _, m := range e.Mentions {
		if id, err := strconv.ParseInt(m.ID, 10, 64); err == nil && m.IsLeading {
			ids = append(ids, id)
		}
	}
	return ids
}

// sameEntities compares what a revision must keep: the set of link URLs,
// of mentioned users and of normalised tags. Positions may move.
func sameEntities(a, b models.Entities) bool {
	return sameSet(linkURLs(a), linkURLs(b)) && sameSet(mentionIDs(a), mentionIDs(b)) && sameSet(tagSet(a), tagSet(b))
}

func linkURLs(e models.Entities) []string {
	out := make([]string, len(e.Links))
	for i, l := range e.Links {
		out[i] = l.URL
	}
	return out
}

func mentionIDs(e models.Entities) []string {
	out := make([]string, len(e.Mentions))
	for i, m := range e.Mentions {
		out[i] = m.ID
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
