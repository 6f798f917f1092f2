// Package streams holds Pecan's stream queries (a user's posts, a thread,
// and as they arrive global, personal, unified, mentions, tag and bookmark
// streams), with pnut pagination. Every page reads O(count) rows through an
// index.
package streams

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Page is pnut pagination: ids are exclusive bounds, Count is 1..200 (newest
// first) or -200..-1 (the oldest within the bounds, still shown newest first).
type Page struct {
	BeforeID int64
	SinceID  int64
	Count    int
}

const (
	defaultCount = 20
	maxCount     = 200
)

// ParsePage reads before_id, since_id and count. pnut ignores an invalid
// count; a bound that is not an id is a 400.
func ParsePage(q url.Values) (Page, error) {
	page := Page{Count: defaultCount}
	if c, err := strconv.Atoi(q.Get("count")); err == nil && c != 0 && c >= -maxCount && c <= maxCount {
		page.Count = c
	}
	var err error
	if page.BeforeID, err = parseBound(q, "before_id"); err != nil {
		return Page{}, err
	}
	if page.SinceID, err = parseBound(q, "since_id"); err != nil {
		return Page{}, err
	}
	return page, nil
}

func parseBound(q url.Values, name string) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, errs.Invalid(name, "invalid_pagination", "%s must be a post id", name)
	}
	return id, nil
}

// Result is one page of posts, newest first, and whether there are more.
type Result struct {
	Posts []*models.Post
	More  bool
}

// Store runs stream queries.
type Store struct {
	db *bun.DB
}

// New returns a stream store.
func New(db *bun.DB) *Store { return &Store{db: db} }

// Filter narrows a stream.
type Filter struct {
	UserID         int64 // posts by this user
	ThreadID       int64 // posts in this thread
	IncludeDeleted bool
}

// Posts pages through the posts matching f.
func (s *Store) Posts(ctx context.Context, f Filter, page Page) (Result, error) {
	var posts []*models.Post
	q := s.db.NewSelect().Model(&posts).Relation("User")
	switch {
	case f.UserID != 0:
		q = q.Where("post.user_id = ?", f.UserID)
	case f.ThreadID != 0:
		q = q.Where("post.thread_id = ?", f.ThreadID)
	}
	if !f.IncludeDeleted {
		q = q.Where("post.deleted_at IS NULL")
	}
	if err := paginate(q, page).Scan(ctx); err != nil {
		return Result{}, fmt.Errorf("stream: %w", err)
	}
	return trim(posts, page), nil
}

// paginate bounds the query by ids and reads one row more than asked, to
// know whether there are more.
func paginate(q *bun.SelectQuery, page Page) *bun.SelectQuery {
	if page.BeforeID > 0 {
		q = q.Where("post.id < ?", page.BeforeID)
	}
	if page.SinceID > 0 {
		q = q.Where("post.id > ?", page.SinceID)
	}
	order := "post.id DESC"
	if page.Count < 0 {
		order = "post.id ASC"
	}
	return q.OrderExpr(order).Limit(int64(abs(page.Count) + 1))
}

func trim(posts []*models.Post, page Page) Result {
	n := abs(page.Count)
	res := Result{More: len(posts) > n}
	if res.More {
		posts = posts[:n]
	}
	if page.Count < 0 {
		slices.Reverse(posts)
	}
	res.Posts = posts
	return res
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
