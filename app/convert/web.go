package convert

import (
	"html/template"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// WebUser is a user as the public pages show them.
type WebUser struct {
	Name     string // display name, or the username when there is none
	Username string
	Handle   string // alice@pecan.example, for following from elsewhere
	PageURL  string // this instance's page of the user
	ActorURL string // their ActivityPub id
	HomeURL  string // a remote user's page on their own server
	Host     string // a remote user's server
	Bot      bool
	Bio      template.HTML
	Posts    int64
	Follows  int64
	Fans     int64
}

// ToWebUser renders u for a page.
func (s Site) ToWebUser(u *models.User) WebUser {
	out := WebUser{
		Name: u.Name, Username: u.Username, Handle: s.Handle(u), PageURL: s.Profile(u.Username),
		ActorURL: s.ActorOf(u), Bot: u.Type == models.UserBot,
		Posts: u.PostCount, Follows: u.FollowingCount, Fans: u.FollowerCount,
	}
	if u.ProfileText != "" {
		out.Bio = template.HTML(text.FediHTML(u.ProfileText, models.Entities{}, nil, nil)) //nolint:gosec // FediHTML escapes
	}
	if out.Name == "" {
		out.Name = u.Username
	}
	if u.Remote() {
		out.Host, out.HomeURL = u.Domain, u.ProfileURL
		if out.HomeURL == "" {
			out.HomeURL = out.ActorURL
		}
	}
	return out
}

// WebPost is a post as the public pages show it. A repost shows its
// original, with RepostedBy naming who reposted it.
type WebPost struct {
	ID          string
	PageURL     string // this instance's page of the post
	NoteURL     string // its ActivityPub id
	OriginalURL string // a remote post's page on its own server
	Author      WebUser
	RepostedBy  *WebUser
	HTML        template.HTML
	Summary     string // plain text, shortened, for link previews
	CreatedAt   time.Time
	RevisedAt   time.Time // set when IsRevised
	IsRevised   bool
	IsNSFW      bool
	IsDeleted   bool
	IsReply     bool
}

// WebContext is what rendering posts for a page needs beyond the posts:
// the users they mention, by id.
type WebContext struct {
	Mentioned map[int64]*models.User
}

// ToWebPost renders p for a page. Mentions link to the mentioned user's
// page here, tags to the tag's page here.
func (s Site) ToWebPost(p *models.Post, wc WebContext) WebPost {
	if p.RepostOf != nil && p.Original != nil {
		out := s.ToWebPost(p.Original, wc)
		by := s.ToWebUser(p.User)
		out.RepostedBy = &by
		return out
	}
	out := WebPost{
		ID: ID(p.ID), PageURL: s.PostPage(p), NoteURL: s.NoteOf(p), Author: s.ToWebUser(p.User),
		CreatedAt: p.CreatedAt.UTC(), IsReply: p.ReplyTo != nil,
	}
	if p.APID != nil {
		out.OriginalURL = p.APURL
		if out.OriginalURL == "" {
			out.OriginalURL = *p.APID
		}
	}
	if p.Deleted() {
		out.IsDeleted = true
		return out
	}
	out.IsNSFW = p.IsNSFW
	if p.IsRevised && p.RevisedAt != nil {
		out.IsRevised, out.RevisedAt = true, p.RevisedAt.UTC()
	}
	mentionHref := func(id string) string {
		uid, _ := strconv.ParseInt(id, 10, 64)
		if u := wc.Mentioned[uid]; u != nil {
			return s.Profile(u.Username)
		}
		return ""
	}
	out.HTML = template.HTML(text.FediHTML(p.Text, p.Entities, mentionHref, s.Tag)) //nolint:gosec // FediHTML escapes
	out.Summary = shorten(p.Text, 200)
	return out
}

// PostPage is where this instance shows a post: under its author's page.
func (s Site) PostPage(p *models.Post) string {
	if p.User == nil {
		return s.Note(p.ID)
	}
	return s.Profile(p.User.Username) + "/" + ID(p.ID)
}

// shorten cuts text to at most n code points, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
