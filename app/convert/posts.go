package convert

import (
	"github.com/pecan-social/pecan/app/graph"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// PostOptions are pnut's general post parameters that shape each post.
type PostOptions struct {
	Counts bool // include_counts, default on
	HTML   bool // include_html, default on
	Raw    bool // include_raw, default off
	User   bool // include_user, default on
	Client bool // include_client, default on
}

// DefaultPostOptions are pnut's defaults.
var DefaultPostOptions = PostOptions{Counts: true, HTML: true, User: true, Client: true}

// Viewer is who is looking, how they stand with the users shown, and what
// they did to the posts shown.
type Viewer struct {
	User       *models.User
	Relations  graph.Relations
	Bookmarked map[int64]bool
	Reposted   map[int64]bool
	PublicURL  string
}

// Source names the client a post came from.
type Source struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// PostCounts are a post's totals.
type PostCounts struct {
	Bookmarks int64 `json:"bookmarks"`
	Replies   int64 `json:"replies"`
	Reposts   int64 `json:"reposts"`
	Threads   int64 `json:"threads"`
}

// PostContent is a post's text, its HTML and its entities.
type PostContent struct {
	Text     string       `json:"text"`
	HTML     string       `json:"html,omitempty"`
	Entities PostEntities `json:"entities"`
}

// PostEntities are a post's entities as pnut shows them, made with
// Entities.WithEmptyLists. models.Entities' MarshalJSON does the same, but
// the encoder parses and compacts again whatever a marshaler returns,
// which was 9 % of the CPU of serving a page; this type has no marshaler.
type PostEntities struct {
	Links    []models.Link    `json:"links"`
	Mentions []models.Mention `json:"mentions"`
	Tags     []models.Tag     `json:"tags"`
}

// Post is pnut's post object.
type Post struct {
	ID            string       `json:"id"`
	CreatedAt     string       `json:"created_at"`
	User          *User        `json:"user,omitempty"`
	UserID        string       `json:"user_id,omitempty"`
	Source        any          `json:"source"`
	ThreadID      string       `json:"thread_id"`
	ReplyTo       string       `json:"reply_to,omitempty"`
	RepostOf      *Post        `json:"repost_of,omitempty"`
	Counts        *PostCounts  `json:"counts,omitempty"`
	Content       *PostContent `json:"content,omitempty"`
	IsDeleted     bool         `json:"is_deleted,omitempty"`
	IsNSFW        bool         `json:"is_nsfw,omitempty"`
	IsRevised     bool         `json:"is_revised,omitempty"`
	Revision      *int         `json:"revision,omitempty"`
	Raw           models.Raw   `json:"raw,omitempty"`
	YouBookmarked *bool        `json:"you_bookmarked,omitempty"`
	YouReposted   *bool        `json:"you_reposted,omitempty"`
	PaginationID  string       `json:"pagination_id,omitempty"`
	Note          *string      `json:"note,omitempty"`
	// Deliveries are the post's crossposts, shown to its author only.
	Deliveries []CrosspostDelivery `json:"deliveries,omitempty"`
}

// ToPost renders a post as v sees it. A repost mirrors its original's
// content, counts, raw and flags, and carries the original in repost_of.
func ToPost(p *models.Post, opts PostOptions, v Viewer) Post {
	out := Post{ID: ID(p.ID), CreatedAt: Time(p.CreatedAt), ThreadID: ID(p.ThreadID), Source: source(p, opts, v)}
	if p.ReplyTo != nil {
		out.ReplyTo = ID(*p.ReplyTo)
	}
	if opts.User && p.User != nil {
		u := ToUser(p.User, v)
		out.User = &u
	} else {
		out.UserID = ID(p.UserID)
	}
	shown := p
	if p.RepostOf != nil && p.Original != nil {
		original := ToPost(p.Original, opts, v)
		out.RepostOf = &original
		shown = p.Original
	}
	fillBody(&out, shown, opts)
	if v.User != nil {
		bookmarked, reposted := v.Bookmarked[shown.ID], v.Reposted[shown.ID]
		out.YouBookmarked, out.YouReposted = &bookmarked, &reposted
	}
	return out
}

// fillBody copies what a post shows of itself (or of its original).
func fillBody(out *Post, p *models.Post, opts PostOptions) {
	if opts.Counts {
		out.Counts = &PostCounts{Bookmarks: p.BookmarkCount, Replies: p.ReplyCount, Reposts: p.RepostCount, Threads: p.ThreadCount}
	}
	if p.Deleted() {
		out.IsDeleted = true
		return
	}
	out.Content = content(p.Text, p.Entities, opts)
	out.IsNSFW, out.IsRevised = p.IsNSFW, p.IsRevised
	if opts.Raw && len(p.Raw) > 0 {
		out.Raw = p.Raw
	}
}

func content(txt string, e models.Entities, opts PostOptions) *PostContent {
	c := &PostContent{Text: txt, Entities: PostEntities(e.WithEmptyLists())}
	if opts.HTML {
		c.HTML = text.HTML(txt, e)
	}
	return c
}

func source(p *models.Post, opts PostOptions, v Viewer) any {
	const id = "pecan"
	if !opts.Client {
		return id
	}
	name := p.SourceName
	if name == "" {
		name = "Pecan"
	}
	return Source{ID: id, Name: name, URL: v.PublicURL}
}

// ToPosts renders a list.
func ToPosts(list []*models.Post, opts PostOptions, v Viewer) []Post {
	out := make([]Post, len(list))
	for i, p := range list {
		out[i] = ToPost(p, opts, v)
	}
	return out
}

// ToRevision renders an earlier version of a post: the post as it was, with
// its revision number.
func ToRevision(p *models.Post, r *models.PostRevision, opts PostOptions, v Viewer) Post {
	old := *p
	old.Text, old.Entities, old.IsNSFW, old.IsRevised, old.DeletedAt = r.Text, r.Entities, r.IsNSFW, false, nil
	out := ToPost(&old, opts, v)
	out.Revision = &r.Revision
	out.YouBookmarked, out.YouReposted = nil, nil
	return out
}
