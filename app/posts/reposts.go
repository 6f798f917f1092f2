package posts

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Repost makes the user's repost of a post (of the original, if the post is
// itself a repost) and returns the original. Reposting twice is harmless.
func (p *Processor) Repost(ctx context.Context, user *models.User, postID int64) (*models.Post, error) {
	return p.repost(ctx, user, postID, nil)
}

// repost makes the repost; apID is the Announce behind a remote user's.
func (p *Processor) repost(ctx context.Context, user *models.User, postID int64, apID *string) (*models.Post, error) {
	return p.onTarget(ctx, postID, func(ctx context.Context, q database.Queries, original *models.Post) error {
		now := p.clock()
		repost := &models.Post{UserID: user.ID, RepostOf: &original.ID, RepostOfUserID: &original.UserID, CreatedAt: now, Raw: models.Raw{}, APID: apID}
		err := q.InsertPost(ctx, repost)
		if errors.Is(err, database.ErrDuplicate) {
			return errAlreadyDone
		}
		if err != nil {
			return err
		}
		return p.repostCounts(ctx, q, repost, original, 1, models.EventPostReposted, now)
	})
}

// onTarget runs fn in one transaction on the live post an action lands on,
// then returns that post as it reads afterwards, counts included.
func (p *Processor) onTarget(ctx context.Context, postID int64, fn func(context.Context, database.Queries, *models.Post) error) (*models.Post, error) {
	var target *models.Post
	err := p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		var err error
		if target, err = p.target(ctx, q, postID); err != nil {
			return err
		}
		return fn(ctx, q, target)
	})
	if err != nil && !errors.Is(err, errAlreadyDone) {
		return nil, err
	}
	return p.db.PostByID(ctx, target.ID)
}

// errAlreadyDone rolls back a transaction whose change was already made.
var errAlreadyDone = errors.New("already done")

// Unrepost removes the user's repost of a post and returns the original.
func (p *Processor) Unrepost(ctx context.Context, user *models.User, postID int64) (*models.Post, error) {
	return p.onTarget(ctx, postID, func(ctx context.Context, q database.Queries, original *models.Post) error {
		repost, err := q.RepostBy(ctx, user.ID, original.ID)
		if errors.Is(err, database.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return p.removeRepost(ctx, q, repost, p.clock())
	})
}

func (p *Processor) removeRepost(ctx context.Context, q database.Queries, repost *models.Post, now time.Time) error {
	removed, err := q.DeletePostRow(ctx, repost.ID)
	if err != nil || !removed {
		return err
	}
	return p.repostCounts(ctx, q, repost, &models.Post{ID: *repost.RepostOf}, -1, models.EventPostUnreposted, now)
}

func (p *Processor) repostCounts(ctx context.Context, q database.Queries, repost, original *models.Post, delta int, eventType string, now time.Time) error {
	if err := q.AddToUserCount(ctx, repost.UserID, database.CountPosts, delta); err != nil {
		return err
	}
	if err := q.AddToPostCount(ctx, original.ID, database.CountReposts, delta); err != nil {
		return err
	}
	return p.emit(ctx, q, models.Event{Type: eventType, ActorID: repost.UserID, PostID: repost.ID, SubjectID: original.UserID, OriginalID: original.ID, At: now})
}

// Bookmark bookmarks a post for the user, with an optional private note,
// and returns the post. Bookmarking again only changes the note.
func (p *Processor) Bookmark(ctx context.Context, user *models.User, postID int64, note *string) (*models.Post, error) {
	if note != nil && utf8.RuneCountInString(*note) > p.rules.MaxNoteLength {
		return nil, errs.Invalid("note", "note_too_long", "a bookmark note must be at most %d characters", p.rules.MaxNoteLength)
	}
	return p.onTarget(ctx, postID, func(ctx context.Context, q database.Queries, post *models.Post) error {
		now := p.clock()
		b := &models.Bookmark{UserID: user.ID, PostID: post.ID, CreatedAt: now}
		if note != nil {
			b.Note = *note
		}
		added, err := q.InsertBookmark(ctx, b)
		switch {
		case err != nil:
			return err
		case added:
			return p.bookmarkCounts(ctx, q, user.ID, post, 1, now)
		case note != nil:
			return q.UpdateBookmarkNote(ctx, user.ID, post.ID, *note)
		}
		return nil
	})
}

// Unbookmark removes the user's bookmark of a post and returns the post.
func (p *Processor) Unbookmark(ctx context.Context, user *models.User, postID int64) (*models.Post, error) {
	return p.onTarget(ctx, postID, func(ctx context.Context, q database.Queries, post *models.Post) error {
		removed, err := q.DeleteBookmark(ctx, user.ID, post.ID)
		if err != nil || !removed {
			return err
		}
		return p.bookmarkCounts(ctx, q, user.ID, post, -1, p.clock())
	})
}

func (p *Processor) bookmarkCounts(ctx context.Context, q database.Queries, userID int64, post *models.Post, delta int, now time.Time) error {
	if err := q.AddToUserCount(ctx, userID, database.CountBookmarks, delta); err != nil {
		return err
	}
	if err := q.AddToPostCount(ctx, post.ID, database.CountBookmarks, delta); err != nil {
		return err
	}
	typ := models.EventPostBookmarked
	if delta < 0 {
		typ = models.EventPostUnbookmarked
	}
	return p.emit(ctx, q, models.Event{Type: typ, ActorID: userID, PostID: post.ID, SubjectID: post.UserID, At: now})
}
