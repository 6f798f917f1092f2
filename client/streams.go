package client

import (
	"context"
	"iter"
	"net/url"
	"strconv"
)

// Stream names a stream of posts: make one with Global, Personal, Unified,
// Tagged, PostsOf, MentionsOf, BookmarksOf or Thread.
type Stream struct{ path string }

// Global is the posts of human users, here and on servers this one knows.
func Global() Stream { return Stream{"/posts/streams/global"} }

// Personal is your posts and those of the people you follow (needs the
// stream scope).
func Personal() Stream { return Stream{"/posts/streams/me"} }

// Unified is Personal plus the posts that mention you (needs stream).
func Unified() Stream { return Stream{"/posts/streams/unified"} }

// Tagged is the posts with a tag (without the #).
func Tagged(tag string) Stream { return Stream{"/posts/tags/" + ref(tag)} }

// PostsOf is a user's posts and reposts. user is an id, "@name",
// "@name@host" or "me".
func PostsOf(user string) Stream { return Stream{"/users/" + ref(user) + "/posts"} }

// MentionsOf is the posts that mention a user.
func MentionsOf(user string) Stream { return Stream{"/users/" + ref(user) + "/mentions"} }

// BookmarksOf is a user's bookmarks, newest bookmark first (needs a token).
func BookmarksOf(user string) Stream { return Stream{"/users/" + ref(user) + "/bookmarks"} }

// Thread is the thread a post is in.
func Thread(postID string) Stream { return Stream{"/posts/" + ref(postID) + "/thread"} }

// Page says which part of a list to fetch. The zero Page is the newest 20.
type Page struct {
	// BeforeID and SinceID bound the page (both exclusive). On markable
	// streams they may also be "last_read", "last_read_inclusive",
	// "marker" or "marker_inclusive".
	BeforeID string
	SinceID  string
	// Count is 1 to 200 (0 means the server's 20); -1 to -200 takes the
	// oldest within the bounds.
	Count int
	// Params are further query parameters, such as include_replies=0 or
	// include_raw=1.
	Params url.Values
}

func (p Page) query() url.Values {
	q := url.Values{}
	for k, v := range p.Params {
		q[k] = v
	}
	if p.BeforeID != "" {
		q.Set("before_id", p.BeforeID)
	}
	if p.SinceID != "" {
		q.Set("since_id", p.SinceID)
	}
	if p.Count != 0 {
		q.Set("count", strconv.Itoa(p.Count))
	}
	return q
}

// PostPage is one page of a stream, newest first.
type PostPage struct {
	Posts []Post
	Meta  Meta
	asked Page
}

// Older is the page before this one, for walking back through a stream;
// check Meta.More first.
func (pp *PostPage) Older() Page {
	next := pp.asked
	next.BeforeID, next.SinceID = pp.Meta.MinID, ""
	return next
}

// Newer is the page of what came after this one, for polling a stream:
// ask for it later to get only new posts.
func (pp *PostPage) Newer() Page {
	next := pp.asked
	next.SinceID, next.BeforeID = pp.Meta.MaxID, ""
	if next.SinceID == "" {
		next.SinceID = pp.asked.SinceID
	}
	return next
}

// Stream fetches one page of a stream.
func (c *Client) Stream(ctx context.Context, s Stream, p Page) (*PostPage, error) {
	out := &PostPage{asked: p}
	meta, err := c.call(ctx, request{method: "GET", path: s.path, query: p.query()}, &out.Posts)
	if err != nil {
		return nil, err
	}
	out.Meta = *meta
	return out, nil
}

// All walks a stream from p backwards, page by page, yielding each post
// until the stream ends, the loop stops, or a call fails (yielded as the
// error, after which the walk ends).
func (c *Client) All(ctx context.Context, s Stream, p Page) iter.Seq2[Post, error] {
	return func(yield func(Post, error) bool) {
		for {
			page, err := c.Stream(ctx, s, p)
			if err != nil {
				yield(Post{}, err)
				return
			}
			for _, post := range page.Posts {
				if !yield(post, nil) {
					return
				}
			}
			if !page.Meta.More || len(page.Posts) == 0 {
				return
			}
			p = page.Older()
		}
	}
}
