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
	"github.com/uptrace/bun/dialect"

	"github.com/pecan-social/pecan/app/database"
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

// ParsePage reads before_id, since_id and count. A count outside 1..200 and
// -200..-1, or a bound that is not an id, is a 400 (pnut ignores a bad
// count; Pecan says so, so a client learns of its mistake). On a markable stream, marker
// is the stream's marker (nil if the stream has none) and the bounds may
// also be last_read, last_read_inclusive, marker or marker_inclusive.
func ParsePage(q url.Values, marker *models.Marker) (Page, error) {
	page := Page{Count: defaultCount}
	if raw := q.Get("count"); raw != "" {
		c, err := strconv.Atoi(raw)
		if err != nil || c == 0 || c < -maxCount || c > maxCount {
			return Page{}, errs.Invalid("count", "invalid_pagination", "count must be 1 to 200, or -1 to -200 for oldest first")
		}
		page.Count = c
	}
	var err error
	if page.BeforeID, err = parseBound(q, "before_id", marker, +1); err != nil {
		return Page{}, err
	}
	if page.SinceID, err = parseBound(q, "since_id", marker, -1); err != nil {
		return Page{}, err
	}
	return page, nil
}

// parseBound reads one exclusive bound; an inclusive marker keyword moves
// the bound one step outwards (inclusive) so the marked post is included.
func parseBound(q url.Values, name string, marker *models.Marker, inclusive int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil && id >= 0 {
		return id, nil
	}
	var id int64
	switch {
	case marker == nil:
		return 0, errs.Invalid(name, "invalid_pagination", "%s must be a post id", name)
	case s == "last_read":
		id = marker.LastReadID
	case s == "last_read_inclusive":
		id = marker.LastReadID + inclusive
	case s == "marker":
		id = marker.ID
	case s == "marker_inclusive":
		id = marker.ID + inclusive
	default:
		return 0, errs.Invalid(name, "invalid_pagination", "%s must be a post id, last_read, last_read_inclusive, marker or marker_inclusive", name)
	}
	return max(id, 0), nil
}

// Result is one page of posts, newest first, and whether there are more.
type Result struct {
	Posts []*models.Post
	More  bool
}

// Store runs stream queries.
type Store struct {
	db *bun.DB
	// maxAuthors is how many followed accounts a personal page reads one
	// by one; past it, the page walks posts by id (see personal.go).
	maxAuthors int
	// walkAuthor is how the walk names a post's author. On SQLite it is
	// "+post.user_id", which keeps SQLite from reading every post of every
	// followed account through posts_user_idx and sorting them (136 ms a
	// page for 100 follows of 200 posts each) instead of walking posts by
	// id (1 ms).
	walkAuthor string
}

// New returns a stream store.
func New(db *bun.DB) *Store {
	s := &Store{db: db, maxAuthors: maxUnionAuthors, walkAuthor: "+post.user_id"}
	if db.Dialect().Name() == dialect.PG {
		s.maxAuthors, s.walkAuthor = maxLateralAuthors, "post.user_id"
	}
	return s
}

// Kind names a stream.
type Kind int

// The streams.
const (
	UserPosts Kind = iota // one user's posts and reposts
	Thread                // one thread
	Global                // posts of human users
	Personal              // the viewer's and the people they follow
	Unified               // Personal plus posts mentioning the viewer
	Mentions              // posts mentioning one user
	Tag                   // posts with one normalised tag
	Local                 // this instance's own posts of the global stream
)

// Filter says which stream and how to narrow it. Mutes and blocks apply to
// the streams a viewer reads about others (not to a user's own page).
type Filter struct {
	Kind           Kind
	UserID         int64  // UserPosts, Mentions
	ThreadID       int64  // Thread
	Tag            string // Tag, normalised
	ViewerID       int64  // 0: signed out
	IncludeDeleted bool
	IncludeMuted   bool
	IncludeReplies bool
	// IncludeDirected off hides, in personal and unified streams, posts
	// addressed (by leading mentions) to people the viewer does not follow.
	IncludeDirected bool
	// ViewerFollows is how many accounts the viewer follows, as their
	// user record says; it only chooses how a personal page is read, and
	// zero means unknown.
	ViewerFollows int64
}

// Posts pages through the posts of a stream.
func (s *Store) Posts(ctx context.Context, f Filter, page Page) (Result, error) {
	switch f.Kind {
	case Tag, Mentions:
		return s.indexedPosts(ctx, f, page)
	case Personal, Unified:
		return s.personalPosts(ctx, f, page)
	}
	p := database.InlineParams(s.db)
	if f.Kind == Global || f.Kind == Thread {
		p = database.NewParams(s.db) // see TestExplainStreamPlans
	}
	posts, err := database.ReadPostsWithAuthors(ctx, p, s.query(p, f, page))
	if err != nil {
		return Result{}, fmt.Errorf("stream: %w", err)
	}
	return trim(posts, page), nil
}

// maxBatches bounds how often a tag or mention page goes back for more
// ids when the viewer's mutes and blocks removed some of a batch.
const maxBatches = 8

// indexedPosts serves streams found through an index table in two steps:
// a page of ids from the table's index, then those posts. PostgreSQL
// otherwise prefers walking posts backwards to a rare tag, reading
// thousands of rows for one page.
func (s *Store) indexedPosts(ctx context.Context, f Filter, page Page) (Result, error) {
	want := abs(page.Count) + 1
	var out []*models.Post
	for batch := 0; len(out) < want && batch < maxBatches; batch++ {
		ids, err := s.indexPage(ctx, f, page, want)
		if err != nil {
			return Result{}, err
		}
		if len(ids) == 0 {
			break // the index ran out: what was collected is the page
		}
		p := database.NewParams(s.db)
		q := database.SelectPosts(s.db).Where("post.id ?", p.In(ids))
		posts, err := database.ReadPosts(ctx, p, narrow(p, q, f).OrderExpr("post.id ?", direction(page)))
		if err != nil {
			return Result{}, fmt.Errorf("stream: %w", err)
		}
		out = append(out, posts...)
		if len(ids) < want {
			break
		}
		if page.Count < 0 {
			page.SinceID = ids[len(ids)-1]
		} else {
			page.BeforeID = ids[len(ids)-1]
		}
	}
	out = out[:min(len(out), want)]
	if err := s.attachAuthors(ctx, out); err != nil {
		return Result{}, err
	}
	return trim(out, page), nil
}

// attachAuthors loads the posts' authors by id. Joined to a short list of
// post ids instead, PostgreSQL may merge-join the users index from its
// start, reading a row per user rather than one per post.
func (s *Store) attachAuthors(ctx context.Context, posts []*models.Post) error {
	if len(posts) == 0 {
		return nil
	}
	ids := make([]int64, len(posts))
	for i, p := range posts {
		ids[i] = p.UserID
	}
	var users []*models.User
	p := database.NewParams(s.db)
	if err := s.db.NewSelect().Model(&users).Apply(models.UserSummary).Where("id ?", p.In(ids)).Conn(p.Conn()).Scan(ctx); err != nil {
		return fmt.Errorf("authors of a page: %w", err)
	}
	byID := make(map[int64]*models.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, p := range posts {
		p.User = byID[p.UserID]
	}
	return nil
}

func (s *Store) indexPage(ctx context.Context, f Filter, page Page, limit int) ([]int64, error) {
	table, key, value := "post_tags", "tag", any(f.Tag)
	if f.Kind == Mentions {
		table, key, value = "post_mentions", "user_id", f.UserID
	}
	p := database.NewParams(s.db)
	q := s.db.NewSelect().TableExpr("? AS ix", bun.Ident(table)).Column("ix.post_id").Where("? = ?", bun.Ident("ix."+key), p.Arg(value))
	var ids []int64
	if err := paginate(p, q, "ix.post_id", page).Limit(int64(limit)).Conn(p.Conn()).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("stream index %s: %w", table, err)
	}
	return ids, nil
}

func (s *Store) query(p *database.Params, f Filter, page Page) *bun.SelectQuery {
	q, order := s.selectStream(p, database.SelectPostsWithAuthors(s.db), f)
	return paginate(p, narrow(p, q, f), order, page)
}

// selectStream picks the stream's posts and the column it is ordered by:
// streams found through an index table walk that table's index, so a page
// reads count rows, not the stream's history.
func (s *Store) selectStream(p *database.Params, q *bun.SelectQuery, f Filter) (*bun.SelectQuery, string) {
	author := bun.Safe(s.walkAuthor)
	switch f.Kind {
	case UserPosts:
		return q.Where("post.user_id = ?", p.Arg(f.UserID)), "post.id"
	case Thread:
		return q.Where("post.thread_id = ?", p.Arg(f.ThreadID)), "post.id"
	case Global:
		return q.Where("post.in_global"), "post.id" // served by posts_global_idx
	case Local:
		return q.Where("post.in_global AND post.ap_id IS NULL"), "post.id" // served by posts_local_idx
	case Personal:
		viewer := p.Arg(f.ViewerID)
		return q.Where("(? = ? OR ? IN (SELECT followee_id FROM follows WHERE follower_id = ?))", author, viewer, author, viewer), "post.id"
	case Unified:
		viewer := p.Arg(f.ViewerID)
		return q.Where("(? = ? OR ? IN (SELECT followee_id FROM follows WHERE follower_id = ?) OR post.id IN (SELECT post_id FROM post_mentions WHERE user_id = ?))",
			author, viewer, author, viewer, viewer), "post.id"
	case Mentions:
		return q.Where("post.id IN (SELECT post_id FROM post_mentions WHERE user_id = ?)", p.Arg(f.UserID)), "post.id"
	default: // Tag
		return q.Where("post.id IN (SELECT post_id FROM post_tags WHERE tag = ?)", p.Arg(f.Tag)), "post.id"
	}
}

// narrow applies what the viewer asked to see and what they hid.
func narrow(p *database.Params, q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	if !f.IncludeDeleted {
		q = q.Where("post.deleted_at IS NULL")
	}
	if !f.IncludeReplies {
		q = q.Where("post.reply_to IS NULL")
	}
	if f.ViewerID == 0 || f.Kind == UserPosts {
		return q
	}
	// A repost shows the reposted post, so it hides with that post's author.
	viewer := p.Arg(f.ViewerID)
	hidden, args := hiddenUsers(viewer, f)
	q = q.Where("post.user_id NOT IN ("+hidden+")", args...).
		Where("(post.repost_of_user_id IS NULL OR post.repost_of_user_id NOT IN ("+hidden+"))", args...)
	if !f.IncludeDirected && (f.Kind == Personal || f.Kind == Unified) {
		q = q.Where(`NOT EXISTS (SELECT 1 FROM post_mentions AS dm WHERE dm.post_id = post.id AND dm.is_leading
			AND dm.user_id <> ? AND dm.user_id NOT IN (SELECT followee_id FROM follows WHERE follower_id = ?))`, viewer, viewer)
	}
	return q
}

// hiddenUsers is the SQL, and its arguments, that lists whom the viewer
// must not see: those they block, those who block them and, unless they
// asked for muted posts, those they mute.
func hiddenUsers(viewer any, f Filter) (string, []any) {
	sql := "SELECT blocked_id FROM blocks WHERE user_id = ? UNION ALL SELECT user_id FROM blocks WHERE blocked_id = ?"
	args := []any{viewer, viewer}
	if !f.IncludeMuted {
		sql += " UNION ALL SELECT muted_id FROM mutes WHERE user_id = ?"
		args = append(args, viewer)
	}
	return sql, args
}

// paginate bounds the query by ids on the ordering column and reads one row
// more than asked, to know whether there are more.
func paginate(p *database.Params, q *bun.SelectQuery, column string, page Page) *bun.SelectQuery {
	col := bun.Safe(column)
	if page.BeforeID > 0 {
		q = q.Where("? < ?", col, p.Arg(page.BeforeID))
	}
	if page.SinceID > 0 {
		q = q.Where("? > ?", col, p.Arg(page.SinceID))
	}
	// The limit stays in the text: it is one of a few counts, and a plan
	// made for it is better than a generic one.
	return q.OrderExpr("? ?", col, direction(page)).Limit(int64(abs(page.Count) + 1))
}

// direction is newest first, or oldest first for a negative count.
func direction(page Page) bun.Safe {
	if page.Count < 0 {
		return "ASC"
	}
	return "DESC"
}

func trim(posts []*models.Post, page Page) Result {
	posts, more := trimPage(posts, page)
	return Result{Posts: posts, More: more}
}

// trimPage drops the extra row read to learn whether there are more, and
// puts an oldest-first page back in newest-first order.
func trimPage[T any](rows []T, page Page) ([]T, bool) {
	n := abs(page.Count)
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	if page.Count < 0 {
		slices.Reverse(rows)
	}
	return rows, more
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Bookmark is a bookmarked post with the bookmark's id (its place in the
// stream) and note.
type Bookmark struct {
	ID   int64
	Note string
	Post *models.Post
}

// BookmarkResult is one page of a user's bookmarks, newest first.
type BookmarkResult struct {
	Bookmarks []Bookmark
	More      bool
}

// Bookmarks pages through a user's bookmarks in the order they were made.
func (s *Store) Bookmarks(ctx context.Context, userID int64, page Page) (BookmarkResult, error) {
	var rows []models.Bookmark
	p := database.InlineParams(s.db)
	q := s.db.NewSelect().Model(&rows).Where("user_id = ?", p.Arg(userID))
	if err := paginate(p, q, "bookmark.id", page).Conn(p.Conn()).Scan(ctx); err != nil {
		return BookmarkResult{}, fmt.Errorf("bookmarks of user %d: %w", userID, err)
	}
	rows, more := trimPage(rows, page)
	res := BookmarkResult{More: more}
	posts, err := s.postsByID(ctx, rows)
	if err != nil {
		return BookmarkResult{}, err
	}
	for _, b := range rows {
		if p := posts[b.PostID]; p != nil {
			res.Bookmarks = append(res.Bookmarks, Bookmark{ID: b.ID, Note: b.Note, Post: p})
		}
	}
	return res, nil
}

func (s *Store) postsByID(ctx context.Context, rows []models.Bookmark) (map[int64]*models.Post, error) {
	ids := make([]int64, len(rows))
	for i, b := range rows {
		ids[i] = b.PostID
	}
	var posts []*models.Post
	if len(ids) > 0 {
		p := database.NewParams(s.db)
		if err := s.db.NewSelect().Model(&posts).Where("post.id ?", p.In(ids)).Conn(p.Conn()).Scan(ctx); err != nil {
			return nil, fmt.Errorf("bookmarked posts: %w", err)
		}
	}
	if err := s.attachAuthors(ctx, posts); err != nil {
		return nil, err
	}
	out := make(map[int64]*models.Post, len(posts))
	for _, p := range posts {
		out[p.ID] = p
	}
	return out, nil
}
