package convert

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// ActivityStreams vocabulary this instance speaks.
const (
	ASContext       = "https://www.w3.org/ns/activitystreams"
	SecurityContext = "https://w3id.org/security/v1"
	Public          = "https://www.w3.org/ns/activitystreams#Public"
)

// Site knows this instance's public URL and builds its ActivityPub ids from
// it. Every id is also the URL its document is served at.
type Site struct {
	Base string // "https://pecan.example", no trailing slash
}

func (s Site) Actor(username string) string     { return s.Base + "/users/" + username }
func (s Site) KeyID(username string) string     { return s.Actor(username) + "#main-key" }
func (s Site) Inbox(username string) string     { return s.Actor(username) + "/inbox" }
func (s Site) Outbox(username string) string    { return s.Actor(username) + "/outbox" }
func (s Site) Followers(username string) string { return s.Actor(username) + "/followers" }
func (s Site) Following(username string) string { return s.Actor(username) + "/following" }
func (s Site) SharedInbox() string              { return s.Base + "/inbox" }
func (s Site) InstanceActor() string            { return s.Base + "/actor" }
func (s Site) InstanceKeyID() string            { return s.InstanceActor() + "#main-key" }
func (s Site) Note(postID int64) string         { return s.Base + "/posts/" + ID(postID) }
func (s Site) Profile(username string) string   { return s.Base + "/@" + username }
func (s Site) Follow(requestID int64) string    { return s.Base + "/follows/" + ID(requestID) }
func (s Site) Tag(tag string) string {
	return s.Base + "/tags/" + url.PathEscape(text.NormalizeTag(tag))
}

// Host is the instance's host, with its port if it has one.
func (s Site) Host() string {
	u, err := url.Parse(s.Base)
	if err != nil {
		return ""
	}
	return u.Host
}

// ActorOf is a user's actor id, local or remote.
func (s Site) ActorOf(u *models.User) string {
	if u.ActorID != nil {
		return *u.ActorID
	}
	return s.Actor(u.Username)
}

// NoteOf is a post's ActivityPub id, local or remote.
func (s Site) NoteOf(p *models.Post) string {
	if p.APID != nil {
		return *p.APID
	}
	return s.Note(p.ID)
}

// LocalPostID reads back a local Note id ("…/posts/42"); ok is false for
// anything else.
func (s Site) LocalPostID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, s.Base+"/posts/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil && n > 0
}

// LocalUsername reads back a local actor id ("…/users/alice").
func (s Site) LocalUsername(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, s.Base+"/users/")
	if !ok || rest == "" || strings.ContainsAny(rest, "/#?") {
		return "", false
	}
	return rest, true
}

// PublicKey is an actor's key.
type PublicKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPem string `json:"publicKeyPem"`
}

// Endpoints are an actor's extra endpoints.
type Endpoints struct {
	SharedInbox string `json:"sharedInbox"`
}

// Actor is a Person, a Service (bots) or the instance's Application.
type Actor struct {
	Context                   []string  `json:"@context"`
	ID                        string    `json:"id"`
	Type                      string    `json:"type"`
	PreferredUsername         string    `json:"preferredUsername"`
	Name                      string    `json:"name,omitempty"`
	Summary                   string    `json:"summary,omitempty"`
	URL                       string    `json:"url,omitempty"`
	Inbox                     string    `json:"inbox"`
	Outbox                    string    `json:"outbox"`
	Followers                 string    `json:"followers,omitempty"`
	Following                 string    `json:"following,omitempty"`
	Endpoints                 Endpoints `json:"endpoints"`
	PublicKey                 PublicKey `json:"publicKey"`
	Published                 string    `json:"published,omitempty"`
	ManuallyApprovesFollowers bool      `json:"manuallyApprovesFollowers"`
	Discoverable              bool      `json:"discoverable"`
}

// ToActor renders a local user as an actor: a Person, or a Service for a
// bot (which Mastodon shows as a bot).
func (s Site) ToActor(u *models.User) Actor {
	typ := "Person"
	if u.Type == models.UserBot {
		typ = "Service"
	}
	return Actor{
		Context: []string{ASContext, SecurityContext},
		ID:      s.Actor(u.Username), Type: typ, PreferredUsername: u.Username, Name: u.Name,
		Summary: text.FediHTML(u.ProfileText, models.Entities{}, nil, nil),
		URL:     s.Profile(u.Username), Inbox: s.Inbox(u.Username), Outbox: s.Outbox(u.Username),
		Followers: s.Followers(u.Username), Following: s.Following(u.Username),
		Endpoints: Endpoints{SharedInbox: s.SharedInbox()},
		PublicKey: PublicKey{ID: s.KeyID(u.Username), Owner: s.Actor(u.Username), PublicKeyPem: u.PublicKeyPEM},
		Published: Time(u.CreatedAt), Discoverable: true,
	}
}

// ToInstanceActor renders the instance actor, which signs fetches.
func (s Site) ToInstanceActor(publicKeyPEM string) Actor {
	host := s.Host()
	return Actor{
		Context: []string{ASContext, SecurityContext},
		ID:      s.InstanceActor(), Type: "Application", PreferredUsername: host, Name: host,
		URL: s.Base, Inbox: s.SharedInbox(), Outbox: s.InstanceActor() + "/outbox",
		Endpoints:                 Endpoints{SharedInbox: s.SharedInbox()},
		PublicKey:                 PublicKey{ID: s.InstanceKeyID(), Owner: s.InstanceActor(), PublicKeyPem: publicKeyPEM},
		ManuallyApprovesFollowers: true,
	}
}

// APTag is a Note's Mention or Hashtag.
type APTag struct {
	Type string `json:"type"`
	Href string `json:"href"`
	Name string `json:"name"`
}

// Note is a post as ActivityPub shows it.
type Note struct {
	Context      []string `json:"@context,omitempty"`
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	AttributedTo string   `json:"attributedTo"`
	Content      string   `json:"content"`
	Published    string   `json:"published"`
	Updated      string   `json:"updated,omitempty"`
	URL          string   `json:"url"`
	To           []string `json:"to"`
	Cc           []string `json:"cc"`
	InReplyTo    *string  `json:"inReplyTo"`
	Sensitive    bool     `json:"sensitive"`
	Summary      *string  `json:"summary"`
	Tag          []APTag  `json:"tag"`
}

// NoteContext is what rendering a Note needs beyond the post: the users it
// mentions, by id, and the id of the post it replies to.
type NoteContext struct {
	Mentioned map[int64]*models.User
	InReplyTo string
}

// ToNote renders a local post as a Note addressed to the public, with the
// author's followers and everyone mentioned in copy.
func (s Site) ToNote(p *models.Post, author *models.User, nc NoteContext) Note {
	actor := s.ActorOf(author)
	n := Note{
		ID: s.NoteOf(p), Type: "Note", AttributedTo: actor, Published: Time(p.CreatedAt), URL: s.NoteOf(p),
		To: []string{Public}, Cc: []string{s.Followers(author.Username)}, Sensitive: p.IsNSFW, Tag: []APTag{},
	}
	if p.RevisedAt != nil {
		n.Updated = Time(*p.RevisedAt)
	}
	if canonical := models.CrosspostSource(p.Raw); canonical != "" {
		n.URL = canonical // the post is a copy: its page is where the original lives
	}
	if nc.InReplyTo != "" {
		n.InReplyTo = &nc.InReplyTo
	}
	mentionHref := func(id string) string {
		uid, _ := strconv.ParseInt(id, 10, 64)
		if u := nc.Mentioned[uid]; u != nil {
			return s.ActorOf(u)
		}
		return ""
	}
	for _, m := range p.Entities.Mentions {
		uid, _ := strconv.ParseInt(m.ID, 10, 64)
		if u := nc.Mentioned[uid]; u != nil {
			n.Tag = append(n.Tag, APTag{Type: "Mention", Href: s.ActorOf(u), Name: "@" + s.Handle(u)})
			n.Cc = appendOnce(n.Cc, s.ActorOf(u))
		}
	}
	for _, t := range p.Entities.Tags {
		n.Tag = append(n.Tag, APTag{Type: "Hashtag", Href: s.Tag(t.Text), Name: "#" + t.Text})
	}
	n.Content = text.FediHTML(p.Text, p.Entities, mentionHref, s.Tag)
	return n
}

// Handle is a user's full handle without the "@": "alice@pecan.example".
func (s Site) Handle(u *models.User) string {
	if u.Remote() {
		return u.Username
	}
	return u.Username + "@" + s.Host()
}

func appendOnce(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// Activity is any activity Pecan sends.
type Activity struct {
	Context   []string `json:"@context,omitempty"`
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Actor     string   `json:"actor"`
	Object    any      `json:"object"`
	To        []string `json:"to,omitempty"`
	Cc        []string `json:"cc,omitempty"`
	Published string   `json:"published,omitempty"`
}

// Tombstone is what is left of a deleted post.
type Tombstone struct {
	Context    []string `json:"@context,omitempty"`
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	FormerType string   `json:"formerType"`
	Deleted    string   `json:"deleted,omitempty"`
}

// ToTombstone renders a deleted post.
func (s Site) ToTombstone(p *models.Post) Tombstone {
	t := Tombstone{ID: s.NoteOf(p), Type: "Tombstone", FormerType: "Note"}
	if p.DeletedAt != nil {
		t.Deleted = Time(*p.DeletedAt)
	}
	return t
}

// OrderedCollection is an actor's outbox, followers or following, or a
// page of one.
type OrderedCollection struct {
	Context      []string `json:"@context,omitempty"`
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	TotalItems   int64    `json:"totalItems"`
	First        string   `json:"first,omitempty"`
	PartOf       string   `json:"partOf,omitempty"`
	Next         string   `json:"next,omitempty"`
	OrderedItems []any    `json:"orderedItems,omitempty"`
}
