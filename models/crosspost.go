package models

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// CrosspostKind is where a crosspost target lives.
type CrosspostKind string

const (
	// CrosspostMastodon is an account on a server that speaks the Mastodon
	// client API, reached with the user's access token.
	CrosspostMastodon CrosspostKind = "mastodon"
	// CrosspostActivityPub is a remote actor that gets the post in its
	// inbox, signed with the author's key.
	CrosspostActivityPub CrosspostKind = "activitypub"
)

// EventPostCrossposted is a crosspost that reached its target.
const EventPostCrossposted = "post.crossposted"

// CrosspostTarget is one of a user's accounts elsewhere that their posts
// may be carried to.
type CrosspostTarget struct {
	bun.BaseModel `bun:"table:crosspost_targets"`

	ID     int64         `bun:"id,pk,autoincrement"`
	UserID int64         `bun:"user_id,notnull"`
	Kind   CrosspostKind `bun:"kind,notnull"`
	// RemoteKey names the account so a user cannot add it twice: the
	// actor id, or the server URL and the account id there.
	RemoteKey string `bun:"remote_key,notnull"`
	// Handle is the account as people write it, "alice@mastodon.example".
	Handle     string `bun:"handle,notnull"`
	ProfileURL string `bun:"profile_url,notnull"`
	// ServerURL is a Mastodon target's API base, "https://mastodon.example".
	ServerURL string `bun:"server_url,notnull"`
	// SealedToken is a Mastodon target's access token, encrypted; it is
	// opened only to sign a request.
	SealedToken string `bun:"sealed_token,notnull"`
	// RemoteUserID is an ActivityPub target's row in users.
	RemoteUserID *int64    `bun:"remote_user_id"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// Crosspost is one post carried to one target: the id the target gave it,
// and the delivery that last acted on it there (the create, then an edit
// or the delete).
type Crosspost struct {
	bun.BaseModel `bun:"table:crossposts"`

	ID          int64      `bun:"id,pk,autoincrement"`
	PostID      int64      `bun:"post_id,notnull"`
	TargetID    int64      `bun:"target_id,notnull"`
	DeliveryID  int64      `bun:"delivery_id,notnull"`
	RemoteID    string     `bun:"remote_id,notnull"`
	RemoteURL   string     `bun:"remote_url,notnull"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	DeliveredAt *time.Time `bun:"delivered_at"` // when the create arrived
}

// CrosspostChoice is where a new post is to be crossposted: the listed
// targets, or all of the author's.
type CrosspostChoice struct {
	TargetIDs []int64
	All       bool
}

// CrosspostStatus is where a post stands at one target: its crosspost, and
// the delivery last sent for it (the create, an edit or the delete), whose
// fields are nil once it was delivered and pruned.
type CrosspostStatus struct {
	PostID      int64      `bun:"post_id"`
	TargetID    int64      `bun:"target_id"`
	Kind        string     `bun:"kind"`
	RemoteID    string     `bun:"remote_id"`
	RemoteURL   string     `bun:"remote_url"`
	ArrivedAt   *time.Time `bun:"arrived_at"`
	Status      *string    `bun:"status"`
	Attempts    *int       `bun:"attempts"`
	DeliveredAt *time.Time `bun:"delivered_at"`
	LastError   *string    `bun:"last_error"`
}

// CrosspostSource is what a post's io.pnut.core.crosspost raw says: the
// post is a copy of one whose canonical home is elsewhere.
func CrosspostSource(r Raw) string {
	for _, item := range r["io.pnut.core.crosspost"] {
		var v struct {
			CanonicalURL string `json:"canonical_url"`
		}
		if json.Unmarshal(item, &v) == nil && v.CanonicalURL != "" {
			return v.CanonicalURL
		}
	}
	return ""
}
