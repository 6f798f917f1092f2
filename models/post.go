package models

import (
	"database/sql/driver"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// Post is a post or a repost. A repost has RepostOf set and no text of its
// own: it shows the original's content.
type Post struct {
	bun.BaseModel `bun:"table:posts"`

	ID     int64  `bun:"id,pk,autoincrement"`
	UserID int64  `bun:"user_id,notnull"`
	Text   string `bun:"text,notnull"`
	// Entities of posts read through database.ReadPosts (stream pages,
	// PostByID) share their slices with other readers: change a copy,
	// never in place.
	Entities      Entities   `bun:"entities,notnull"`
	IsNSFW        bool       `bun:"is_nsfw,notnull"`
	ReplyTo       *int64     `bun:"reply_to"`
	ThreadID      int64      `bun:"thread_id,notnull"`
	RepostOf      *int64     `bun:"repost_of"`
	Raw           Raw        `bun:"raw,notnull"`
	SourceName    string     `bun:"source_name,notnull"`
	IsRevised     bool       `bun:"is_revised,notnull"`
	ReplyCount    int64      `bun:"reply_count,notnull"`
	RepostCount   int64      `bun:"repost_count,notnull"`
	BookmarkCount int64      `bun:"bookmark_count,notnull"`
	ThreadCount   int64      `bun:"thread_count,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	RevisedAt     *time.Time `bun:"revised_at"`
	DeletedAt     *time.Time `bun:"deleted_at"`
	// APID is a remote post's ActivityPub id, APURL its page; both are
	// empty on local posts, whose ids derive from the instance's host.
	APID  *string `bun:"ap_id"`
	APURL string  `bun:"ap_url,notnull"`

	// RepostOfUserID is the reposted post's author, copied at insert so
	// that streams can hide reposts of people the viewer blocks or mutes.
	RepostOfUserID *int64 `bun:"repost_of_user_id"`

	User     *User `bun:"rel:belongs-to,join:user_id=id"`
	Original *Post `bun:"-"` // the reposted post, loaded for reposts
	// Mentioned is the users the post mentions, when the code that made it
	// has them at hand (nil otherwise): renderers need not read them again.
	Mentioned []*User `bun:"-"`
	// Listeners is who besides Pecan's own rows may hear of the post's
	// creation, as the statement that stored it found; nil when not known,
	// and then whoever would hear of it is looked up.
	Listeners *Listeners `bun:"-"`
}

// Listeners says whether anyone may be listening for a new post. False
// means no one is, so the lookup can be skipped; true means look.
type Listeners struct {
	Webhooks        bool // the author or a user the post mentions has a webhook
	RemoteFollowers bool // the author has followers on other servers
}

// Deleted reports whether the post was deleted.
func (p *Post) Deleted() bool { return p.DeletedAt != nil }

// PostRevision is a post as it was before its revision.
type PostRevision struct {
	bun.BaseModel `bun:"table:post_revisions"`

	PostID    int64     `bun:"post_id,pk"`
	Revision  int       `bun:"revision,pk"`
	Text      string    `bun:"text,notnull"`
	Entities  Entities  `bun:"entities,notnull"`
	IsNSFW    bool      `bun:"is_nsfw,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// PostMention records that a post mentions a user.
type PostMention struct {
	bun.BaseModel `bun:"table:post_mentions"`

	PostID  int64 `bun:"post_id,pk"`
	UserID  int64 `bun:"user_id,pk"`
	Leading bool  `bun:"is_leading,notnull"` // before any other words: the post is addressed to them
}

// PostTag records a post's tag, normalised for lookup.
type PostTag struct {
	bun.BaseModel `bun:"table:post_tags"`

	PostID int64  `bun:"post_id,pk"`
	Tag    string `bun:"tag,pk"`
}

// Bookmark is a user's bookmark of a post, with a private note.
type Bookmark struct {
	bun.BaseModel `bun:"table:bookmarks"`

	ID        int64     `bun:"id,pk,autoincrement"`
	UserID    int64     `bun:"user_id,notnull"`
	PostID    int64     `bun:"post_id,notnull"`
	Note      string    `bun:"note,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Event is something that happened, handed to the event sinks (webhooks,
// federation) inside the transaction that made it happen, so what they
// enqueue lands or rolls back with the change itself.
type Event struct {
	Type    string
	ActorID int64 // the user who acted
	PostID  int64 // the post acted on or made, if any; for a repost, the repost
	// SubjectID is the user the event is addressed to besides the actor: the
	// mentioned user, the followed user, the author of a reposted or
	// bookmarked post. Zero when there is none.
	SubjectID int64
	// OriginalID is the reposted post of a repost event.
	OriginalID int64
	// ObjectID is the ActivityPub id the event is about, where there is
	// one: the Follow activity behind a follow, an unfollow or an accept.
	ObjectID string
	At       time.Time
	// Post is the post as its processor just wrote it, with its author,
	// when it has it at hand: sinks use it instead of reading it back.
	// Its counts are those of before the change.
	Post *Post
}

// Listeners is who may hear of the event, as the statement that stored
// its post found: known only for the news of a new post, nil otherwise.
func (e Event) Listeners() *Listeners {
	if !e.OfNewPost() || e.Post == nil || e.Post.ID != e.PostID {
		return nil
	}
	return e.Post.Listeners
}

// OfNewPost reports whether e is the news of a new post: its creation or
// a mention in it, whose listeners the statement storing it looks for.
func (e Event) OfNewPost() bool {
	return e.Type == EventPostCreated || e.Type == EventMentionCreated
}

// Event types.
const (
	EventPostCreated      = "post.created"
	EventPostRevised      = "post.revised"
	EventPostDeleted      = "post.deleted"
	EventPostReposted     = "post.reposted"
	EventPostUnreposted   = "post.unreposted"
	EventPostBookmarked   = "post.bookmarked"
	EventPostUnbookmarked = "post.unbookmarked"
	EventMentionCreated   = "mention.created"
	EventUserFollowed     = "user.followed"
	EventUserUnfollowed   = "user.unfollowed"
	// EventFollowRequested is a local user's follow of a remote user, sent
	// as a Follow and made a follow when the Accept comes back.
	EventFollowRequested = "user.follow_requested"
	// EventFollowAccepted and EventFollowRejected answer a remote user's
	// Follow of a local one; a rejection also ends a remote follower's
	// follow when the local user blocks them.
	EventFollowAccepted = "user.follow_accepted"
	EventFollowRejected = "user.follow_rejected"
	EventTest           = "test.event"
)

// Raw is pnut's raw: {type: [object, …]}, kept as the client sent it.
type Raw map[string][]json.RawMessage

// Value stores raw as JSON text.
func (r Raw) Value() (driver.Value, error) {
	if r == nil {
		return "{}", nil
	}
	b, err := json.Marshal(r)
	return string(b), err
}

// Scan reads the JSON text back, replacing what r held. Most posts have
// no raw, stored as {}: that reads as nil without decoding, sparing every
// row of a page a map.
func (r *Raw) Scan(src any) error {
	*r = nil
	switch v := src.(type) {
	case string:
		if v == "{}" {
			return nil
		}
	case []byte:
		if string(v) == "{}" {
			return nil
		}
	}
	return scanJSON(src, r, "raw")
}
