package client

import (
	"encoding/json"
	"time"
)

// Entities are what the server found in a text: links, @mentions and
// #tags. Positions and lengths count code points.
type Entities struct {
	Links    []Link    `json:"links"`
	Mentions []Mention `json:"mentions"`
	Tags     []Tag     `json:"tags"`
}

// Link is a link in a text.
type Link struct {
	URL        string `json:"url"`
	Text       string `json:"text"`
	Pos        int    `json:"pos"`
	Len        int    `json:"len"`
	AmendedLen *int   `json:"amended_len,omitempty"`
	Title      string `json:"title,omitempty"`
}

// Mention is an @mention; ID is the mentioned user's, empty if nobody by
// that name is known.
type Mention struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Pos       int    `json:"pos"`
	Len       int    `json:"len"`
	IsLeading bool   `json:"is_leading"`
	IsCopy    bool   `json:"is_copy"`
}

// Tag is a #tag, as written, without the #.
type Tag struct {
	Text string `json:"text"`
	Pos  int    `json:"pos"`
	Len  int    `json:"len"`
}

// User is a person, feed or bot, here or on another server (then Username
// is "name@host").
type User struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	Type      string    `json:"type"` // human, feed or bot
	CreatedAt time.Time `json:"created_at"`
	Locale    string    `json:"locale"`
	Timezone  string    `json:"timezone"`
	Content   struct {
		Text     string   `json:"text"`
		HTML     string   `json:"html"`
		Entities Entities `json:"entities"`
	} `json:"content"`
	Counts struct {
		Bookmarks int64 `json:"bookmarks"`
		Clients   int64 `json:"clients"`
		Followers int64 `json:"followers"`
		Following int64 `json:"following"`
		Posts     int64 `json:"posts"`
	} `json:"counts"`
	// How you stand with them: set only when the client has a token.
	FollowsYou   *bool `json:"follows_you"`
	YouFollow    *bool `json:"you_follow"`
	YouCanFollow *bool `json:"you_can_follow"`
	YouMuted     *bool `json:"you_muted"`
	YouBlocked   *bool `json:"you_blocked"`
	// PaginationID is the user's place in a follower or following list.
	PaginationID string `json:"pagination_id"`
}

// Post is a post or a repost. A repost carries its original in RepostOf
// and mirrors its content and counts. A deleted post has no Content.
type Post struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	User      *User     `json:"user"`
	UserID    string    `json:"user_id"`
	Source    Source    `json:"source"`
	ThreadID  string    `json:"thread_id"`
	ReplyTo   string    `json:"reply_to"`
	RepostOf  *Post     `json:"repost_of"`
	Counts    *struct {
		Bookmarks int64 `json:"bookmarks"`
		Replies   int64 `json:"replies"`
		Reposts   int64 `json:"reposts"`
		Threads   int64 `json:"threads"`
	} `json:"counts"`
	Content *struct {
		Text     string   `json:"text"`
		HTML     string   `json:"html"`
		Entities Entities `json:"entities"`
	} `json:"content"`
	IsDeleted     bool                         `json:"is_deleted"`
	IsNSFW        bool                         `json:"is_nsfw"`
	IsRevised     bool                         `json:"is_revised"`
	Revision      *int                         `json:"revision"`
	Raw           map[string][]json.RawMessage `json:"raw"`
	YouBookmarked *bool                        `json:"you_bookmarked"`
	YouReposted   *bool                        `json:"you_reposted"`
	// PaginationID is the post's place in a stream (in bookmarks, the
	// bookmark's); Note is your note on your own bookmark.
	PaginationID string  `json:"pagination_id"`
	Note         *string `json:"note"`
	// Crosspost deliveries will appear here once the server supports
	// crossposting.
}

// Text is the post's text, or "" for a deleted post.
func (p *Post) Text() string {
	if p.Content == nil {
		return ""
	}
	return p.Content.Text
}

// Source is the client a post came from. The server sends just its ID when
// asked for include_client=0.
type Source struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// UnmarshalJSON reads the object or the bare id.
func (s *Source) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &s.ID)
	}
	type plain Source
	return json.Unmarshal(b, (*plain)(s))
}

// Marker is your place in a stream.
type Marker struct {
	Name       string    `json:"name"`
	ID         string    `json:"id"`
	LastReadID string    `json:"last_read_id"`
	Percentage int       `json:"percentage"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    int64     `json:"version"`
}

// Token is an access token. Token (the secret) is set only in the answer
// that creates it.
type Token struct {
	ID         string     `json:"id"`
	Label      string     `json:"label"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Token      string     `json:"token"`
}

// TokenInfo is the token a client calls with, and whose it is.
type TokenInfo struct {
	App struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"app"`
	Scopes []string `json:"scopes"`
	User   User     `json:"user"`
	Token  Token    `json:"token"`
}

// Webhook sends events that concern you to a URL of yours. Secret is set
// only in the answers that create it or rotate it.
type Webhook struct {
	ID                      string            `json:"id"`
	Name                    string            `json:"name"`
	URL                     string            `json:"url"`
	Events                  []string          `json:"events"`
	Headers                 map[string]string `json:"headers"`
	RetryCount              int               `json:"retry_count"`
	TimeoutSeconds          int               `json:"timeout_seconds"`
	CreatedAt               time.Time         `json:"created_at"`
	UpdatedAt               time.Time         `json:"updated_at"`
	Secret                  string            `json:"secret"`
	PreviousSecretExpiresAt *time.Time        `json:"previous_secret_expires_at"`
}

// Delivery is one request the server sends, or sent, to a webhook.
type Delivery struct {
	ID            string     `json:"id"`
	MessageID     string     `json:"message_id"`
	Event         string     `json:"event"`
	Status        string     `json:"status"` // pending, delivered or failed
	Attempts      int        `json:"attempts"`
	MaxAttempts   int        `json:"max_attempts"`
	ResponseCode  *int       `json:"response_code"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	PaginationID  string     `json:"pagination_id"`
}

// ProcessedText is what a text would become as a post.
type ProcessedText struct {
	Text     string   `json:"text"`
	HTML     string   `json:"html"`
	Entities Entities `json:"entities"`
}
