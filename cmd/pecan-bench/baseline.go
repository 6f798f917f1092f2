package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pecan-social/pecan/app/database"
)

// The baseline is the least a server can do to answer the global and
// personal streams: net/http, the database driver (pgx/v5 on PostgreSQL,
// database/sql with Pecan's SQLite driver and pragmas on SQLite), the same
// SQL the streams package sends for the page and its authors, and a JSON
// encoding of the same number of posts. It knows the viewers from a map of
// their tokens instead of asking the database, and shows no
// relationships, bookmarks or rendered entities. Pecan's throughput as a
// share of this one's says what everything else costs.
//
// The SQL mirrors streams/streams.go and streams/personal.go (global and
// personal with a viewer, pnut's default filters). TestQuick checks that
// both answer the same posts for every page the scenarios read.

// rowScanner is the part of pgx.Rows and *sql.Rows the baseline uses.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// querier runs a query whose placeholders are written "?".
type querier func(ctx context.Context, query string, args ...any) (rowScanner, func(), error)

type baseline struct {
	query   querier
	postgre bool
	viewers map[string]int64 // bearer token → user id
	site    string
	srv     *http.Server
	URL     string
	closeDB func()
}

// startBaseline opens its own connections to the database at dbURL and
// serves on a loopback port.
func startBaseline(ctx context.Context, dbURL string, conns int, viewers map[string]int64, site string) (*baseline, error) {
	b := &baseline{viewers: viewers, site: site}
	if strings.HasPrefix(dbURL, "postgres") {
		cfg, err := pgxpool.ParseConfig(dbURL)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		cfg.MaxConns = int32(conns)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		b.postgre, b.closeDB = true, pool.Close
		b.query = func(ctx context.Context, q string, args ...any) (rowScanner, func(), error) {
			rows, err := pool.Query(ctx, dollarPlaceholders(q), args...)
			if err != nil {
				return nil, nil, err
			}
			return rows, rows.Close, nil
		}
	} else {
		// database.Open only to get Pecan's SQLite DSN and pool size; the
		// queries go to database/sql directly.
		db, err := database.Open(dbURL, conns)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		sqldb := db.Bun.DB
		b.closeDB = func() { _ = db.Close() }
		b.query = func(ctx context.Context, q string, args ...any) (rowScanner, func(), error) {
			rows, err := sqldb.QueryContext(ctx, q, args...)
			if err != nil {
				return nil, nil, err
			}
			return rows, func() { _ = rows.Close() }, nil
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/posts/streams/global", b.serve(b.globalPage))
	mux.HandleFunc("GET /v1/posts/streams/me", b.serve(b.personalPage))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.closeDB()
		return nil, err
	}
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	b.URL = "http://" + ln.Addr().String()
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *baseline) close() {
	_ = b.srv.Close()
	b.closeDB()
}

func dollarPlaceholders(q string) string {
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// pageQuery is a page's bounds as the streams package takes them.
type pageQuery struct {
	viewer   int64
	beforeID int64
	count    int
}

type pageFunc func(ctx context.Context, p pageQuery) ([]basePost, bool, error)

func (b *baseline) serve(page pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := pageQuery{count: streamCount}
		p.viewer = b.viewers[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if v := r.URL.Query().Get("count"); v != "" {
			p.count, _ = strconv.Atoi(v)
		}
		if v := r.URL.Query().Get("before_id"); v != "" {
			p.beforeID, _ = strconv.ParseInt(v, 10, 64)
		}
		if p.count < 1 || p.count > 200 {
			http.Error(w, "bad count", http.StatusBadRequest)
			return
		}
		posts, more, err := page(r.Context(), p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		env := baseEnvelope{Data: posts}
		env.Meta.Code, env.Meta.More = 200, more
		if len(posts) > 0 {
			env.Meta.MaxID, env.Meta.MinID = posts[0].ID, posts[len(posts)-1].ID
		}
		body, err := json.Marshal(env)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
	}
}

// The columns bun selects for a post and, through Relation("User",
// models.UserSummary), its author.
const (
	postColumns = `post.id, post.user_id, post.text, post.entities, post.is_nsfw, post.reply_to, post.thread_id,
		post.repost_of, post.raw, post.source_name, post.is_revised, post.reply_count, post.repost_count,
		post.bookmark_count, post.thread_count, post.created_at, post.revised_at, post.deleted_at, post.ap_id,
		post.ap_url, post.repost_of_user_id`
	userColumns = `u.id, u.username, u.username_key, u.name, u.type, u.profile_text, u.locale, u.timezone,
		u.post_count, u.bookmark_count, u.follower_count, u.following_count, u.created_at, u.updated_at,
		u.domain, u.actor_id, u.inbox_url, u.shared_inbox_url, u.profile_url, u.key_id, u.public_key_pem, u.fetched_at`
	postsWithAuthors = `SELECT ` + postColumns + `, ` + userColumns + ` FROM posts AS post LEFT JOIN users AS u ON u.id = post.user_id`
	// hiddenUsers is whom a viewer must not see (streams.hiddenUsers).
	hiddenUsers = `SELECT blocked_id FROM blocks WHERE user_id = ? UNION ALL SELECT user_id FROM blocks WHERE blocked_id = ?
		UNION ALL SELECT muted_id FROM mutes WHERE user_id = ?`
	hideFromViewer = ` AND post.user_id NOT IN (` + hiddenUsers + `) AND (post.repost_of_user_id IS NULL OR post.repost_of_user_id NOT IN (` + hiddenUsers + `))`

	// Personal streams read per author up to these many followed accounts
	// (streams.maxLateralAuthors, streams.maxUnionAuthors).
	lateralAuthors = 50
	unionAuthors   = 8
)

// narrowed is the viewer filter and the page bound, with their arguments.
func narrowed(p pageQuery) (string, []any) {
	var sql string
	var args []any
	if p.viewer != 0 {
		sql = hideFromViewer
		args = []any{p.viewer, p.viewer, p.viewer, p.viewer, p.viewer, p.viewer}
	}
	if p.beforeID > 0 {
		sql += " AND post.id < ?"
		args = append(args, p.beforeID)
	}
	return sql, args
}

func (b *baseline) globalPage(ctx context.Context, p pageQuery) ([]basePost, bool, error) {
	filter, args := narrowed(p)
	q := postsWithAuthors + ` WHERE post.in_global` + filter + ` ORDER BY post.id DESC LIMIT ?`
	return b.posts(ctx, p.count, q, append(args, p.count+1)...)
}

// personalPage walks posts by id when the viewer follows many accounts,
// and otherwise merges one index range per author, as personal.go does.
func (b *baseline) personalPage(ctx context.Context, p pageQuery) ([]basePost, bool, error) {
	limit := unionAuthors
	if b.postgre {
		limit = lateralAuthors
	}
	followed, err := b.followed(ctx, p.viewer, limit)
	if err != nil {
		return nil, false, err
	}
	filter, args := narrowed(p)
	if len(followed) == limit {
		author := "+post.user_id" // as streams.Store.walkAuthor
		if b.postgre {
			author = "post.user_id"
		}
		q := postsWithAuthors + ` WHERE (` + author + ` = ? OR ` + author + ` IN (SELECT followee_id FROM follows WHERE follower_id = ?))` +
			filter + ` ORDER BY post.id DESC LIMIT ?`
		return b.posts(ctx, p.count, q, append(append([]any{p.viewer, p.viewer}, args...), p.count+1)...)
	}
	authors := append(followed, p.viewer)
	rangeSQL := `SELECT post.id FROM posts AS post WHERE post.user_id = %s` + filter + ` ORDER BY post.id DESC LIMIT ?`
	var inner string
	var innerArgs []any
	if b.postgre {
		inner = `SELECT p.id FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?::bigint), ", len(authors)), ", ") +
			`) AS a (uid) CROSS JOIN LATERAL (` + fmt.Sprintf(rangeSQL, "a.uid") + `) AS p`
		for _, a := range authors {
			innerArgs = append(innerArgs, a)
		}
		innerArgs = append(append(innerArgs, args...), p.count+1)
	} else {
		parts := make([]string, len(authors))
		for i, a := range authors {
			parts[i] = `SELECT id FROM (` + fmt.Sprintf(rangeSQL, "?") + `) AS a`
			innerArgs = append(append(append(innerArgs, a), args...), p.count+1)
		}
		inner = strings.Join(parts, " UNION ALL ")
	}
	page := `SELECT id FROM (` + inner + `) AS page ORDER BY id DESC LIMIT ?`
	innerArgs = append(innerArgs, p.count+1)
	bound, boundArgs := "", []any(nil)
	if p.beforeID > 0 {
		bound, boundArgs = " AND post.id < ?", []any{p.beforeID}
	}
	q := postsWithAuthors + ` WHERE post.id IN (` + page + `)` + bound + ` ORDER BY post.id DESC LIMIT ?`
	return b.posts(ctx, p.count, q, append(append(innerArgs, boundArgs...), p.count+1)...)
}

func (b *baseline) followed(ctx context.Context, viewer int64, limit int) ([]int64, error) {
	rows, done, err := b.query(ctx, `SELECT followee_id FROM follows WHERE follower_id = ? LIMIT ?`, viewer, limit)
	if err != nil {
		return nil, err
	}
	defer done()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// posts runs a page query and renders up to count of its rows; one more
// row means there are more.
func (b *baseline) posts(ctx context.Context, count int, q string, args ...any) ([]basePost, bool, error) {
	rows, done, err := b.query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer done()
	const postFields, userFields = 21, 22
	vals := make([]any, postFields+userFields)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]basePost, 0, count+1)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, err
		}
		out = append(out, b.render(vals[:postFields], vals[postFields:]))
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > count
	return out[:min(len(out), count)], more, nil
}

type baseEnvelope struct {
	Meta struct {
		Code  int    `json:"code"`
		MinID string `json:"min_id,omitempty"`
		MaxID string `json:"max_id,omitempty"`
		More  bool   `json:"more"`
	} `json:"meta"`
	Data []basePost `json:"data"`
}

type baseContent struct {
	Text     string          `json:"text"`
	HTML     string          `json:"html"`
	Entities json.RawMessage `json:"entities"`
}

type baseUser struct {
	ID        string      `json:"id"`
	Username  string      `json:"username"`
	Name      string      `json:"name,omitempty"`
	Type      string      `json:"type"`
	CreatedAt string      `json:"created_at"`
	Locale    string      `json:"locale"`
	Timezone  string      `json:"timezone"`
	Content   baseContent `json:"content"`
	Counts    struct {
		Bookmarks, Clients, Followers, Following, Posts int64
	} `json:"counts"`
	FollowsYou   bool `json:"follows_you"`
	YouFollow    bool `json:"you_follow"`
	YouCanFollow bool `json:"you_can_follow"`
	YouMuted     bool `json:"you_muted"`
	YouBlocked   bool `json:"you_blocked"`
}

type basePost struct {
	ID        string   `json:"id"`
	CreatedAt string   `json:"created_at"`
	User      baseUser `json:"user"`
	Source    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"source"`
	ThreadID string `json:"thread_id"`
	ReplyTo  string `json:"reply_to,omitempty"`
	Counts   struct {
		Bookmarks int64 `json:"bookmarks"`
		Replies   int64 `json:"replies"`
		Reposts   int64 `json:"reposts"`
		Threads   int64 `json:"threads"`
	} `json:"counts"`
	Content       *baseContent `json:"content,omitempty"`
	IsDeleted     bool         `json:"is_deleted,omitempty"`
	IsNSFW        bool         `json:"is_nsfw,omitempty"`
	YouBookmarked bool         `json:"you_bookmarked"`
	YouReposted   bool         `json:"you_reposted"`
	PaginationID  string       `json:"pagination_id"`
}

const emptyEntities = `{"links":[],"mentions":[],"tags":[]}`

func spanHTML(s string) string {
	return `<span itemscope itemtype="https://pnut.io/schemas/Post">` + html.EscapeString(s) + `</span>`
}

// render turns one row (post columns, then author columns, in the order
// of postColumns and userColumns) into its JSON shape.
func (b *baseline) render(p, u []any) basePost {
	var out basePost
	out.ID = asString(p[0])
	out.PaginationID = out.ID
	out.CreatedAt = asTime(p[15])
	out.ThreadID = asString(p[6])
	if p[5] != nil {
		out.ReplyTo = asString(p[5])
	}
	out.Source.ID, out.Source.Name, out.Source.URL = "pecan", asString(p[9]), b.site
	out.Counts.Replies, out.Counts.Reposts, out.Counts.Bookmarks, out.Counts.Threads = asInt(p[11]), asInt(p[12]), asInt(p[13]), asInt(p[14])
	if p[17] != nil {
		out.IsDeleted = true
	} else {
		txt := asString(p[2])
		out.Content = &baseContent{Text: txt, HTML: spanHTML(txt), Entities: json.RawMessage(asString(p[3]))}
		out.IsNSFW = asBool(p[4])
	}
	if u[0] != nil {
		user := &out.User
		user.ID, user.Username, user.Name, user.Type = asString(u[0]), asString(u[1]), asString(u[3]), asString(u[4])
		user.CreatedAt, user.Locale, user.Timezone = asTime(u[12]), asString(u[6]), asString(u[7])
		profile := asString(u[5])
		user.Content = baseContent{Text: profile, HTML: spanHTML(profile), Entities: json.RawMessage(emptyEntities)}
		user.Counts.Posts, user.Counts.Bookmarks = asInt(u[8]), asInt(u[9])
		user.Counts.Followers, user.Counts.Following = asInt(u[10]), asInt(u[11])
		user.YouCanFollow = true
	}
	return out
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	default:
		n, _ := strconv.ParseInt(asString(v), 10, 64)
		return n
	}
}

func asBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	default:
		return asString(v) == "1" || asString(v) == "true"
	}
}

// asTime renders a timestamp as pnut does, whether the driver gave a
// time.Time or the text SQLite keeps.
func asTime(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339)
	}
	s := asString(v)
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}
