package client

import (
	"context"
	"net/url"
	"strings"
)

// NewPost is a post to create. Only Text is required.
type NewPost struct {
	Text    string
	ReplyTo string // the id of the post this answers
	// NSFW marks the post sensitive; nil lets "#nsfw" in the text decide.
	NSFW *bool
	// Raw is pnut raw: {type: [object, …]}, at most 8192 bytes as JSON.
	Raw map[string][]any
	// ParseLinks and ParseMarkdownLinks turn the link parsers off when false.
	ParseLinks         *bool
	ParseMarkdownLinks *bool
	// UpdateMarker moves your personal stream's marker to the new post.
	UpdateMarker bool
	// IdempotencyKey makes a create safe to repeat: the same key within an
	// hour returns the first post. Empty means a fresh random key per call
	// (still the same on every retry of that call).
	IdempotencyKey string
}

type postBody struct {
	Text     string           `json:"text"`
	ReplyTo  string           `json:"reply_to,omitempty"`
	IsNSFW   *bool            `json:"is_nsfw,omitempty"`
	Raw      map[string][]any `json:"raw,omitempty"`
	Entities *entityOptions   `json:"entities,omitempty"`
}

type entityOptions struct {
	ParseLinks         *bool `json:"parse_links,omitempty"`
	ParseMarkdownLinks *bool `json:"parse_markdown_links,omitempty"`
}

// CreatePost posts. The server refuses with ErrorCode "text_too_long" past
// 256 code points and "duplicate_post" for the same text within two
// minutes (bots are exempt).
func (c *Client) CreatePost(ctx context.Context, p NewPost) (*Post, error) {
	body := postBody{Text: p.Text, ReplyTo: p.ReplyTo, IsNSFW: p.NSFW, Raw: p.Raw}
	if p.ParseLinks != nil || p.ParseMarkdownLinks != nil {
		body.Entities = &entityOptions{ParseLinks: p.ParseLinks, ParseMarkdownLinks: p.ParseMarkdownLinks}
	}
	var q url.Values
	if p.UpdateMarker {
		q = url.Values{"update_marker": {"1"}}
	}
	var out Post
	_, err := c.call(ctx, request{method: "POST", path: "/posts", query: q, body: body, create: true, key: p.IdempotencyKey}, &out)
	return postOrNil(&out, err)
}

// Post fetches one post, deleted or not.
func (c *Client) Post(ctx context.Context, id string) (*Post, error) {
	var out Post
	_, err := c.call(ctx, request{method: "GET", path: "/posts/" + ref(id)}, &out)
	return postOrNil(&out, err)
}

// Posts fetches several posts (up to 200) in the order asked; unknown ids
// are left out.
func (c *Client) Posts(ctx context.Context, ids ...string) ([]Post, error) {
	var out []Post
	_, err := c.call(ctx, request{method: "GET", path: "/posts", query: url.Values{"ids": {strings.Join(ids, ",")}}}, &out)
	return out, err
}

// Revision is what a revision may change: the text (keeping its links,
// mentions and tags) and the NSFW flag.
type Revision struct {
	Text string
	NSFW *bool
}

// RevisePost revises your post, once, within five minutes of posting it.
func (c *Client) RevisePost(ctx context.Context, id string, r Revision) (*Post, error) {
	var out Post
	_, err := c.call(ctx, request{method: "PUT", path: "/posts/" + ref(id), body: postBody{Text: r.Text, IsNSFW: r.NSFW}}, &out)
	return postOrNil(&out, err)
}

// Revisions lists a revised post's earlier versions; the original is
// Revision 0.
func (c *Client) Revisions(ctx context.Context, id string) ([]Post, error) {
	var out []Post
	_, err := c.call(ctx, request{method: "GET", path: "/posts/" + ref(id) + "/revisions"}, &out)
	return out, err
}

// DeletePost deletes your post; the answer is the post, IsDeleted and
// without content.
func (c *Client) DeletePost(ctx context.Context, id string) (*Post, error) {
	return c.postAction(ctx, "DELETE", "/posts/"+ref(id), nil)
}

// Repost reposts a post; the answer is the reposted post (YouReposted).
func (c *Client) Repost(ctx context.Context, id string) (*Post, error) {
	return c.postAction(ctx, "PUT", "/posts/"+ref(id)+"/repost", nil)
}

// Unrepost takes your repost of a post back.
func (c *Client) Unrepost(ctx context.Context, id string) (*Post, error) {
	return c.postAction(ctx, "DELETE", "/posts/"+ref(id)+"/repost", nil)
}

// Bookmark bookmarks a post, with a private note ("" for none).
func (c *Client) Bookmark(ctx context.Context, id, note string) (*Post, error) {
	var body any
	if note != "" {
		body = map[string]string{"note": note}
	}
	return c.postAction(ctx, "PUT", "/posts/"+ref(id)+"/bookmark", body)
}

// Unbookmark removes your bookmark of a post.
func (c *Client) Unbookmark(ctx context.Context, id string) (*Post, error) {
	return c.postAction(ctx, "DELETE", "/posts/"+ref(id)+"/bookmark", nil)
}

func (c *Client) postAction(ctx context.Context, method, path string, body any) (*Post, error) {
	var out Post
	_, err := c.call(ctx, request{method: method, path: path, body: body}, &out)
	return postOrNil(&out, err)
}

// ProcessText shows what a text would become as a post, storing nothing.
func (c *Client) ProcessText(ctx context.Context, text string) (*ProcessedText, error) {
	var out ProcessedText
	if _, err := c.call(ctx, request{method: "POST", path: "/text/process", body: postBody{Text: text}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func postOrNil(p *Post, err error) (*Post, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}
