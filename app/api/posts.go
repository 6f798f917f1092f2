package api

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
	"github.com/pecan-social/pecan/streams"
)

// postBody is POST /posts, PUT /posts/{id} and POST /text/process.
type postBody struct {
	Text     *string         `json:"text"`
	ReplyTo  *Int            `json:"reply_to"`
	IsNSFW   *Bool           `json:"is_nsfw"`
	Raw      json.RawMessage `json:"raw"`
	Entities *struct {
		ParseLinks         *Bool `json:"parse_links"`
		ParseMarkdownLinks *Bool `json:"parse_markdown_links"`
	} `json:"entities"`
	Crosspost    *idList `json:"crosspost"`
	CrosspostAll *Bool   `json:"crosspost_all"`
}

func readPostInput(c echo.Context) (posts.Input, error) {
	var body postBody
	if err := decodeBody(c, &body); err != nil {
		return posts.Input{}, err
	}
	if body.Text == nil {
		return posts.Input{}, errs.Invalid("text", "text_missing", "text is required")
	}
	in := posts.Input{Text: *body.Text, Raw: body.Raw, ParseLinks: true, ParseMarkdownLinks: true,
		Crosspost: crosspostChoice(body.Crosspost, body.CrosspostAll)}
	if body.ReplyTo != nil {
		in.ReplyTo = (*int64)(body.ReplyTo)
	}
	if body.IsNSFW != nil {
		in.IsNSFW = (*bool)(body.IsNSFW)
	}
	if e := body.Entities; e != nil {
		if e.ParseLinks != nil {
			in.ParseLinks = bool(*e.ParseLinks)
		}
		if e.ParseMarkdownLinks != nil {
			in.ParseMarkdownLinks = bool(*e.ParseMarkdownLinks)
		}
	}
	return in, nil
}

// postID reads the {id} path parameter of a post route.
func postID(c echo.Context) (int64, error) { return pathID(c, "id", "post") }

// pathID reads a numeric path parameter; pnut answers 400, not 404, to an
// id that is not a number. what names the object: "post" gives field
// post_id and error code invalid_post_id.
func pathID(c echo.Context, param, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(param), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Invalid(what+"_id", "invalid_"+what+"_id", "%s id must be a positive integer", what)
	}
	return id, nil
}

func flag(c echo.Context, name string, def bool) bool {
	switch strings.ToLower(c.QueryParam(name)) {
	case "1", "true":
		return true
	case "0", "false":
		return false
	}
	return def
}

func postOptions(c echo.Context) convert.PostOptions {
	d := convert.DefaultPostOptions
	return convert.PostOptions{
		Counts: flag(c, "include_counts", d.Counts),
		HTML:   flag(c, "include_html", flag(c, "include_post_html", d.HTML)),
		Raw:    flag(c, "include_raw", flag(c, "include_post_raw", d.Raw)),
		User:   flag(c, "include_user", d.User),
		Client: flag(c, "include_client", d.Client),
	}
}

// viewerOf loads what the caller did to the posts about to be shown and
// how they stand with the authors.
func (s *server) viewerOf(c echo.Context, list []*models.Post) (convert.Viewer, error) {
	rel, state, err := s.graph.Standing(c.Request().Context(), viewer(c), authors(list), postIDs(list))
	v := convert.Viewer{User: viewer(c), Relations: rel, Bookmarked: state.Bookmarked, Reposted: state.Reposted, PublicURL: s.cfg.PublicURL()}
	return v, err
}

// postIDs are the posts shown, and the originals of reposts among them,
// that anyone has bookmarked or reposted: only those can be the viewer's
// bookmarks or reposts, and on most pages that is few or none of them.
func postIDs(list []*models.Post) []int64 {
	ids := make([]int64, 0, len(list))
	for _, p := range list {
		if p.BookmarkCount > 0 || p.RepostCount > 0 {
			ids = append(ids, p.ID)
		}
		if p.RepostOf != nil && (p.Original == nil || p.Original.BookmarkCount > 0 || p.Original.RepostCount > 0) {
			ids = append(ids, *p.RepostOf)
		}
	}
	return ids
}

func authors(list []*models.Post) []*models.User {
	out := make([]*models.User, 0, len(list))
	for _, p := range list {
		out = append(out, p.User)
		if p.Original != nil {
			out = append(out, p.Original.User)
		}
	}
	return out
}

// renderPosts writes posts with the viewer's bookmark and repost state.
func (s *server) renderPosts(c echo.Context, list []*models.Post, status int, meta Meta) error {
	v, err := s.viewerOf(c, list)
	if err != nil {
		return err
	}
	meta.Code = status
	out := convert.ToPosts(list, postOptions(c), v)
	if err := s.attachDeliveries(c, list, out); err != nil {
		return err
	}
	return render(c, Envelope{Meta: meta, Data: out})
}

func (s *server) renderPost(c echo.Context, post *models.Post, status int) error {
	return s.renderPostWith(c, post, status, true)
}

// renderPostWith renders one post, its crosspost deliveries only if it
// may have some.
func (s *server) renderPostWith(c echo.Context, post *models.Post, status int, deliveries bool) error {
	list := []*models.Post{post}
	if err := s.posts.AttachOriginals(c.Request().Context(), list); err != nil {
		return err
	}
	v, err := s.viewerOf(c, list)
	if err != nil {
		return err
	}
	out := []convert.Post{convert.ToPost(post, postOptions(c), v)}
	if deliveries {
		if err := s.attachDeliveries(c, list, out); err != nil {
			return err
		}
	}
	return render(c, Envelope{Meta: Meta{Code: status}, Data: out[0]})
}

func (s *server) createPost(c echo.Context) error {
	in, err := readPostInput(c)
	if err != nil {
		return err
	}
	tok := caller(c)
	post, err := s.posts.Create(c.Request().Context(), tok.User, in, c.Request().Header.Get("Idempotency-Key"), tok.Label)
	if err != nil {
		return err
	}
	if flag(c, "update_marker", false) {
		update := streams.MarkerUpdate{Name: streams.MarkerPersonal, ID: post.ID}
		if _, err := s.markers.Update(c.Request().Context(), tok.UserID, []streams.MarkerUpdate{update}); err != nil {
			return err
		}
	}
	// A post made without crossposting has no deliveries to show.
	return s.renderPostWith(c, post, 201, in.Crosspost != nil)
}

func (s *server) getPost(c echo.Context) error {
	id, err := postID(c)
	if err != nil {
		return err
	}
	post, err := s.posts.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.renderPost(c, post, 200)
}

func (s *server) getPosts(c echo.Context) error {
	var ids []int64
	for _, part := range splitList(c.QueryParam("ids")) {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return errs.Invalid("ids", "invalid_post_id", "%q is not a post id", part)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return errs.Invalid("ids", "ids_missing", "ids must list post ids, comma-separated")
	}
	list, err := s.posts.GetMany(c.Request().Context(), ids, flag(c, "include_deleted", true))
	if err != nil {
		return err
	}
	return s.renderPosts(c, list, 200, Meta{})
}

func (s *server) revisePost(c echo.Context) error {
	id, err := postID(c)
	if err != nil {
		return err
	}
	in, err := readPostInput(c)
	if err != nil {
		return err
	}
	post, err := s.posts.Revise(c.Request().Context(), viewer(c), id, in)
	if err != nil {
		return err
	}
	return s.renderPost(c, post, 201)
}

func (s *server) postRevisions(c echo.Context) error {
	id, err := postID(c)
	if err != nil {
		return err
	}
	post, revs, err := s.posts.Revisions(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := convert.Viewer{User: viewer(c), PublicURL: s.cfg.PublicURL()}
	out := make([]convert.Post, len(revs))
	for i, r := range revs {
		out[i] = convert.ToRevision(post, r, postOptions(c), v)
	}
	return ok(c, out)
}

// postAction is the shape of delete, repost and bookmark: read the id, act
// as the caller, render the post that comes back.
func (s *server) postAction(status int, act func(c echo.Context, u *models.User, id int64) (*models.Post, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := postID(c)
		if err != nil {
			return err
		}
		post, err := act(c, viewer(c), id)
		if err != nil {
			return err
		}
		return s.renderPost(c, post, status)
	}
}

func (s *server) deletePost(c echo.Context, u *models.User, id int64) (*models.Post, error) {
	return s.posts.Delete(c.Request().Context(), u, id)
}

func (s *server) repost(c echo.Context, u *models.User, id int64) (*models.Post, error) {
	return s.posts.Repost(c.Request().Context(), u, id)
}

func (s *server) unrepost(c echo.Context, u *models.User, id int64) (*models.Post, error) {
	return s.posts.Unrepost(c.Request().Context(), u, id)
}

type bookmarkBody struct {
	Note *string `json:"note"`
}

func (s *server) bookmark(c echo.Context, u *models.User, id int64) (*models.Post, error) {
	var body bookmarkBody
	if err := decodeBody(c, &body); err != nil {
		return nil, err
	}
	return s.posts.Bookmark(c.Request().Context(), u, id, body.Note)
}

func (s *server) unbookmark(c echo.Context, u *models.User, id int64) (*models.Post, error) {
	return s.posts.Unbookmark(c.Request().Context(), u, id)
}

// renderPage writes one page of a stream with pnut's pagination meta;
// pageIDs are the posts' places in the stream (their ids, or for bookmarks
// the bookmarks' ids) and decorate may add per-post fields.
func (s *server) renderPage(c echo.Context, list []*models.Post, pageIDs []int64, more bool, decorate func(i int, p *convert.Post)) error {
	if err := s.posts.AttachOriginals(c.Request().Context(), list); err != nil {
		return err
	}
	v, err := s.viewerOf(c, list)
	if err != nil {
		return err
	}
	out := convert.ToPosts(list, postOptions(c), v)
	if err := s.attachDeliveries(c, list, out); err != nil {
		return err
	}
	for i := range out {
		out[i].PaginationID = convert.ID(pageIDs[i])
		if decorate != nil {
			decorate(i, &out[i])
		}
	}
	meta := Meta{Code: 200, More: &more}
	if n := len(pageIDs); n > 0 {
		meta.MaxID, meta.MinID = convert.ID(pageIDs[0]), convert.ID(pageIDs[n-1])
	}
	if m, ok := c.Get(markerMetaKey).(*models.Marker); ok {
		shown := convert.ToMarker(*m)
		meta.Marker = &shown
	}
	return render(c, Envelope{Meta: meta, Data: out})
}

func (s *server) thread(c echo.Context) error {
	id, err := postID(c)
	if err != nil {
		return err
	}
	post, err := s.posts.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.stream(c, streams.Filter{Kind: streams.Thread, ThreadID: post.ThreadID}, "")
}

func (s *server) userPosts(c echo.Context) error {
	u, err := s.users.Lookup(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return err
	}
	return s.stream(c, streams.Filter{Kind: streams.UserPosts, UserID: u.ID}, "")
}

// stream serves one page of a stream. markerName is the stream's marker
// ("" for streams without one); a signed-in reader may page from it and
// gets it back in meta.marker.
func (s *server) stream(c echo.Context, f streams.Filter, markerName string) error {
	marker, err := s.streamMarker(c, markerName)
	if err != nil {
		return err
	}
	page, err := streams.ParsePage(c.QueryParams(), marker)
	if err != nil {
		return err
	}
	f.IncludeDeleted = flag(c, "include_deleted", true)
	f.IncludeMuted = flag(c, "include_muted", false)
	f.IncludeReplies = flag(c, "include_replies", true)
	f.IncludeDirected = flag(c, "include_directed_posts", true)
	if v := viewer(c); v != nil {
		f.ViewerID, f.ViewerFollows = v.ID, v.FollowingCount
	}
	res, err := s.streams.Posts(c.Request().Context(), f, page)
	if err != nil {
		return err
	}
	ids := make([]int64, len(res.Posts))
	for i, p := range res.Posts {
		ids[i] = p.ID
	}
	if marker != nil && marker.Version > 0 && flag(c, "include_marker", true) {
		c.Set(markerMetaKey, marker)
	}
	return s.renderPage(c, res.Posts, ids, res.More, nil)
}

func (s *server) globalStream(c echo.Context) error {
	return s.stream(c, streams.Filter{Kind: streams.Global}, streams.MarkerGlobal)
}

func (s *server) personalStream(c echo.Context) error {
	return s.stream(c, streams.Filter{Kind: streams.Personal}, streams.MarkerPersonal)
}

func (s *server) unifiedStream(c echo.Context) error {
	return s.stream(c, streams.Filter{Kind: streams.Unified}, streams.MarkerPersonal)
}

func (s *server) tagStream(c echo.Context) error {
	tag := text.NormalizeTag(c.Param("tag"))
	if tag == "" {
		return errs.Invalid("tag", "invalid_tag", "tag must not be empty")
	}
	return s.stream(c, streams.Filter{Kind: streams.Tag, Tag: tag}, "")
}

func (s *server) mentionStream(c echo.Context) error {
	u, err := s.users.Lookup(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return err
	}
	marker := ""
	if v := viewer(c); v != nil && v.ID == u.ID {
		marker = streams.MarkerMentions // only your own mentions carry your marker
	}
	return s.stream(c, streams.Filter{Kind: streams.Mentions, UserID: u.ID}, marker)
}

// bookmarkStream lists a user's bookmarks in bookmark order; notes are
// shown only to their owner.
func (s *server) bookmarkStream(c echo.Context) error {
	u, err := s.users.Lookup(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return err
	}
	page, err := streams.ParsePage(c.QueryParams(), nil)
	if err != nil {
		return err
	}
	res, err := s.streams.Bookmarks(c.Request().Context(), u.ID, page)
	if err != nil {
		return err
	}
	list, ids := make([]*models.Post, len(res.Bookmarks)), make([]int64, len(res.Bookmarks))
	for i, b := range res.Bookmarks {
		list[i], ids[i] = b.Post, b.ID
	}
	own := viewer(c) != nil && viewer(c).ID == u.ID
	return s.renderPage(c, list, ids, res.More, func(i int, p *convert.Post) {
		if own {
			p.Note = &res.Bookmarks[i].Note
		}
	})
}

// processedText is POST /text/process's answer.
type processedText struct {
	Text     string          `json:"text"`
	HTML     string          `json:"html"`
	Entities models.Entities `json:"entities"`
}

func (s *server) processText(c echo.Context) error {
	in, err := readPostInput(c)
	if err != nil {
		return err
	}
	p, err := s.posts.Process(c.Request().Context(), in)
	if err != nil {
		return err
	}
	html := convert.ToPost(&models.Post{Text: p.Text, Entities: p.Entities}, convert.DefaultPostOptions, convert.Viewer{}).Content.HTML
	return ok(c, processedText{Text: p.Text, HTML: html, Entities: p.Entities})
}
