// Package web renders Pecan's public pages: the home page, profiles, posts
// with their threads and tags, as server-side HTML with no script at all.
// Like app/api it only reads the request, asks the processors and renders
// what app/convert makes of the answer.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/models"
	"github.com/pecan-social/pecan/streams"
)

// pageSize is how many posts a page of a profile, a tag or the home page shows.
const pageSize = 20

// threadSize is how many posts of a thread a post page shows.
const threadSize = 200

// Deps is what the pages read from.
type Deps struct {
	Site    convert.Site
	Users   *users.Processor
	Posts   *posts.Processor
	Streams *streams.Store
	Logger  *slog.Logger
}

// Pages serves the public pages.
type Pages struct {
	site    convert.Site
	users   *users.Processor
	posts   *posts.Processor
	streams *streams.Store
	logger  *slog.Logger
}

// New returns the pages.
func New(d Deps) *Pages {
	return &Pages{site: d.Site, users: d.Users, posts: d.Posts, streams: d.Streams, logger: d.Logger}
}

// Route is one page route. Limit says whether it costs the visitor's rate
// limit: pages read the database, stylesheets and scripts do not.
type Route struct {
	Path   string
	Handle echo.HandlerFunc
	Limit  bool
}

// Routes lists the page routes, each already rendering its own errors as
// pages.
func (p *Pages) Routes() []Route {
	return []Route{
		{"/", p.page(p.home), true},
		{"/@:name", p.page(p.profile), true},
		{"/@:name/:id", p.page(p.post), true},
		{"/tags/:tag", p.page(p.tag), true},
		{"/static/pecan.css", stylesheet, false},
		{"/docs", p.page(p.docsPage), false},
		{"/docs/:file", docsAsset, false},
	}
}

// ActorPage answers a browser at a local user's ActivityPub id with their profile.
func (p *Pages) ActorPage(c echo.Context) error {
	return p.page(p.profile)(c)
}

// NotePage answers a browser at a post's ActivityPub id with its page.
func (p *Pages) NotePage(c echo.Context) error {
	return p.page(func(c echo.Context) error {
		post, err := p.postByID(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return p.renderPost(c, post)
	})(c)
}

func (p *Pages) home(c echo.Context) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	list, more, err := p.stream(c.Request().Context(), streams.Filter{Kind: streams.Local}, page)
	if err != nil {
		return err
	}
	host := p.site.Host()
	return p.render(c, http.StatusOK, "home", view{
		Title: host, Description: host + " is a Pecan server: a federated, pnut-style microblog.",
		Canonical: p.site.Base + "/", OGType: "website",
		Posts: list, Older: olderLink(c, p.site.Base+"/", list, more),
	})
}

func (p *Pages) profile(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := p.users.Known(ctx, c.Param("name"))
	if err != nil {
		return err
	}
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	list, more, err := p.stream(ctx, streams.Filter{Kind: streams.UserPosts, UserID: u.ID}, page)
	if err != nil {
		return err
	}
	who := p.site.ToWebUser(u)
	description := shorten(u.ProfileText, 200)
	if description == "" {
		description = "Posts by @" + who.Handle
	}
	return p.render(c, http.StatusOK, "profile", view{
		Title: who.Name + " (@" + who.Handle + ")", Description: description,
		Canonical: who.PageURL, ActivityPub: who.ActorURL, OGType: "profile",
		User: &who, Posts: list, Older: olderLink(c, who.PageURL, list, more),
	})
}

func (p *Pages) post(c echo.Context) error {
	post, err := p.postByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	// A post lives under its author's page only.
	if !strings.EqualFold(post.User.Username, c.Param("name")) {
		return errPostNotFound
	}
	return p.renderPost(c, post)
}

var errPostNotFound = errs.NotFound("post_not_found", "There is no such post here.")

func (p *Pages) postByID(ctx context.Context, raw string) (*models.Post, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, errPostNotFound
	}
	post, err := p.posts.Get(ctx, id)
	if e, ok := errs.As(err); ok && e.Status == http.StatusNotFound {
		return nil, errPostNotFound
	}
	if err != nil {
		return nil, err
	}
	if post.User == nil {
		return nil, errPostNotFound
	}
	return post, nil
}

// renderPost shows a post in its thread; a repost sends the visitor to its
// original, and a deleted post answers 410.
func (p *Pages) renderPost(c echo.Context, post *models.Post) error {
	ctx := c.Request().Context()
	if post.RepostOf != nil && post.Original != nil && post.Original.User != nil {
		return c.Redirect(http.StatusFound, p.site.PostPage(post.Original))
	}
	if post.Deleted() {
		return p.render(c, http.StatusGone, "gone", view{
			Title: "Deleted post", Description: "This post was deleted.", ActivityPub: p.apLink(post),
		})
	}
	thread, more, err := p.stream(ctx, streams.Filter{Kind: streams.Thread, ThreadID: post.ThreadID, IncludeDeleted: true},
		streams.Page{Count: -threadSize})
	if err != nil {
		return err
	}
	focus := markFocus(thread, convert.ID(post.ID))
	if focus == nil { // past the first threadSize posts of a long thread
		shown, err := p.webPosts(ctx, []*models.Post{post})
		if err != nil {
			return err
		}
		thread = append(thread, shown...)
		focus = markFocus(thread, convert.ID(post.ID))
	}
	description := focus.Summary
	if focus.IsNSFW {
		description = "A post marked sensitive (NSFW)."
	}
	return p.render(c, http.StatusOK, "post", view{
		Title: focus.Author.Name + " (@" + focus.Author.Handle + ")", Description: description,
		Canonical: focus.PageURL, ActivityPub: p.apLink(post), OGType: "article",
		Posts: thread, ThreadCut: more,
	})
}

// apLink is the ActivityPub id a page offers as its alternate: a local
// post's own, or the original's on its server.
func (p *Pages) apLink(post *models.Post) string { return p.site.NoteOf(post) }

// markFocus flags the post with the given id as the page's subject.
func markFocus(list []webPost, id string) *webPost {
	for i := range list {
		if list[i].ID == id {
			list[i].Focus = true
			return &list[i]
		}
	}
	return nil
}

func (p *Pages) tag(c echo.Context) error {
	tag := text.NormalizeTag(c.Param("tag"))
	if tag == "" {
		return errs.NotFound("tag_not_found", "There is no such tag.")
	}
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	list, more, err := p.stream(c.Request().Context(), streams.Filter{Kind: streams.Tag, Tag: tag}, page)
	if err != nil {
		return err
	}
	url := p.site.Tag(tag)
	return p.render(c, http.StatusOK, "tag", view{
		Title: "#" + tag, Description: "Posts tagged #" + tag + " on " + p.site.Host(),
		Canonical: url, OGType: "website", Tag: tag, Posts: list, Older: olderLink(c, url, list, more),
	})
}

// pageOf reads before_id and since_id as the API does; a page always
// shows pageSize posts, newest first.
func pageOf(c echo.Context) (streams.Page, error) {
	page, err := streams.ParsePage(c.QueryParams(), nil)
	page.Count = pageSize
	return page, err
}

// olderLink is the URL of the next page back, or "" on the last page.
func olderLink(c echo.Context, base string, list []webPost, more bool) string {
	if !more || len(list) == 0 {
		return ""
	}
	return base + "?before_id=" + list[len(list)-1].placeID
}

// stream reads one page of a stream, as a visitor who is not signed in,
// without deleted posts unless the filter asks for them.
func (p *Pages) stream(ctx context.Context, f streams.Filter, page streams.Page) ([]webPost, bool, error) {
	f.IncludeReplies, f.IncludeDirected = true, true
	res, err := p.streams.Posts(ctx, f, page)
	if err != nil {
		return nil, false, err
	}
	if err := p.posts.AttachOriginals(ctx, res.Posts); err != nil {
		return nil, false, err
	}
	shown, err := p.webPosts(ctx, res.Posts)
	if page.Count < 0 {
		// A thread reads from its start; show it in the order it was written.
		for i, j := 0, len(shown)-1; i < j; i, j = i+1, j-1 {
			shown[i], shown[j] = shown[j], shown[i]
		}
	}
	return shown, res.More, err
}

// webPost is a post on a page, with its place in the stream for paging and
// whether it is the page's subject.
type webPost struct {
	convert.WebPost
	placeID string
	Focus   bool
}

// webPosts converts posts for a page, loading the users they mention.
func (p *Pages) webPosts(ctx context.Context, list []*models.Post) ([]webPost, error) {
	mentioned, err := p.mentionedUsers(ctx, list)
	if err != nil {
		return nil, err
	}
	out := make([]webPost, 0, len(list))
	for _, post := range list {
		if post.User == nil || (post.RepostOf != nil && (post.Original == nil || post.Original.User == nil)) {
			continue
		}
		out = append(out, webPost{WebPost: p.site.ToWebPost(post, convert.WebContext{Mentioned: mentioned}), placeID: convert.ID(post.ID)})
	}
	return out, nil
}

func (p *Pages) mentionedUsers(ctx context.Context, list []*models.Post) (map[int64]*models.User, error) {
	var refs []string
	add := func(post *models.Post) {
		for _, m := range post.Entities.Mentions {
			if m.ID != "" {
				refs = append(refs, m.ID)
			}
		}
	}
	for _, post := range list {
		add(post)
		if post.Original != nil {
			add(post.Original)
		}
	}
	out := map[int64]*models.User{}
	if len(refs) == 0 {
		return out, nil
	}
	found, err := p.users.LookupMany(ctx, refs)
	if err != nil {
		return nil, err
	}
	for _, u := range found {
		out[u.ID] = u
	}
	return out, nil
}

// shorten cuts s to at most n code points.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
