// Package convert is the one place that turns models into the shapes Pecan
// shows the world: pnut API JSON now, ActivityPub and HTML as they arrive.
package convert

import (
	"html"
	"strconv"
	"time"

	"github.com/pecan-social/pecan/models"
)

// ID renders a database id the way pnut does: as a string.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// Time renders a time as RFC 3339 UTC with seconds, as pnut does.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := Time(*t)
	return &s
}

// Entities is pnut's entity lists; empty lists are shown, never null.
type Entities struct {
	Links    []any `json:"links"`
	Mentions []any `json:"mentions"`
	Tags     []any `json:"tags"`
}

func emptyEntities() Entities {
	return Entities{Links: []any{}, Mentions: []any{}, Tags: []any{}}
}

// UserContent is a user's profile text.
type UserContent struct {
	Text     string   `json:"text"`
	HTML     string   `json:"html"`
	Entities Entities `json:"entities"`
}

// UserCounts are a user's totals.
type UserCounts struct {
	Bookmarks int64 `json:"bookmarks"`
	Clients   int64 `json:"clients"`
	Followers int64 `json:"followers"`
	Following int64 `json:"following"`
	Posts     int64 `json:"posts"`
}

// User is pnut's user object.
type User struct {
	ID        string      `json:"id"`
	Username  string      `json:"username"`
	Name      string      `json:"name,omitempty"`
	Type      string      `json:"type"`
	CreatedAt string      `json:"created_at"`
	Locale    string      `json:"locale"`
	Timezone  string      `json:"timezone"`
	Content   UserContent `json:"content"`
	Counts    UserCounts  `json:"counts"`

	// Relationship fields appear only when a signed-in user is looking.
	FollowsYou   *bool `json:"follows_you,omitempty"`
	YouFollow    *bool `json:"you_follow,omitempty"`
	YouCanFollow *bool `json:"you_can_follow,omitempty"`
	YouMuted     *bool `json:"you_muted,omitempty"`
	YouBlocked   *bool `json:"you_blocked,omitempty"`
}

// profileHTML wraps the escaped profile text as pnut renders content.
func profileHTML(text string) string {
	return `<span itemscope itemtype="https://pnut.io/schemas/Post">` + html.EscapeString(text) + `</span>`
}

// ToUser renders u as v sees it; relationship fields appear only for a
// signed-in viewer.
func ToUser(u *models.User, v Viewer) User {
	out := User{
		ID: ID(u.ID), Username: u.Username, Name: u.Name, Type: string(u.Type),
		CreatedAt: Time(u.CreatedAt), Locale: u.Locale, Timezone: u.Timezone,
		Content: UserContent{Text: u.ProfileText, HTML: profileHTML(u.ProfileText), Entities: emptyEntities()},
		Counts: UserCounts{Posts: u.PostCount, Bookmarks: u.BookmarkCount,
			Followers: u.FollowerCount, Following: u.FollowingCount},
	}
	if v.User != nil {
		r := v.Relations
		follows, followed, muted, blocked := r.YouFollow[u.ID], r.FollowsYou[u.ID], r.YouMuted[u.ID], r.YouBlocked[u.ID]
		canFollow := v.User.ID != u.ID && !blocked
		out.YouFollow, out.FollowsYou, out.YouMuted, out.YouBlocked = &follows, &followed, &muted, &blocked
		out.YouCanFollow = &canFollow
	}
	return out
}

// ToUsers renders a list.
func ToUsers(us []*models.User, v Viewer) []User {
	out := make([]User, len(us))
	for i, u := range us {
		out[i] = ToUser(u, v)
	}
	return out
}

// Token is an access token as its owner sees it. Raw is set only in the
// response that creates it; App only for tokens an OAuth app holds.
type Token struct {
	ID         string    `json:"id"`
	App        *TokenApp `json:"app,omitempty"`
	Label      string    `json:"label"`
	Scopes     []string  `json:"scopes"`
	CreatedAt  string    `json:"created_at"`
	ExpiresAt  *string   `json:"expires_at"`
	LastUsedAt *string   `json:"last_used_at"`
	RevokedAt  *string   `json:"revoked_at,omitempty"`
	Token      string    `json:"token,omitempty"`
}

// ToToken renders t; raw is the secret, passed only when just issued.
func ToToken(t *models.Token, raw string) Token {
	out := Token{
		ID: ID(t.ID), Label: t.Label, Scopes: t.Scopes.Strings(), CreatedAt: Time(t.CreatedAt),
		ExpiresAt: optionalTime(t.ExpiresAt), LastUsedAt: optionalTime(t.LastUsedAt),
		RevokedAt: optionalTime(t.RevokedAt), Token: raw,
	}
	if t.App != nil {
		app := ToTokenApp(t.App)
		out.App = &app
	}
	return out
}

// ToTokens renders a list.
func ToTokens(ts []*models.Token) []Token {
	out := make([]Token, len(ts))
	for i, t := range ts {
		out[i] = ToToken(t, "")
	}
	return out
}

// TokenApp names the app behind a token, by its client_id as pnut does.
// Personal access tokens have no OAuth app, so they show a fixed one that
// says what they are.
type TokenApp struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// TokenInfo is pnut's GET /token answer.
type TokenInfo struct {
	App     TokenApp `json:"app"`
	Scopes  []string `json:"scopes"`
	User    *User    `json:"user,omitempty"` // absent for app tokens
	Token   Token    `json:"token"`
	Storage struct {
		Available int64 `json:"available"`
		Total     int64 `json:"total"`
	} `json:"storage"`
}

// ToTokenInfo renders the token a request was made with.
func ToTokenInfo(t *models.Token, publicURL string) TokenInfo {
	info := TokenInfo{
		App:    TokenApp{ID: "personal", Name: "Personal access token", URL: publicURL},
		Scopes: t.Scopes.Strings(),
		Token:  ToToken(t, ""),
	}
	if t.App != nil {
		info.App = ToTokenApp(t.App)
	}
	if t.User != nil {
		u := ToUser(t.User, Viewer{User: t.User})
		info.User = &u
	}
	return info
}

// ToTokenApp names an OAuth app.
func ToTokenApp(a *models.App) TokenApp {
	return TokenApp{ID: a.ClientID, Name: a.Name, URL: a.Website}
}

// Marker is a stream marker as pnut shows it.
type Marker struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	LastReadID string `json:"last_read_id"`
	Percentage int    `json:"percentage"`
	UpdatedAt  string `json:"updated_at"`
	Version    int64  `json:"version"`
}

// ToMarker renders a marker.
func ToMarker(m models.Marker) Marker {
	return Marker{Name: m.Name, ID: ID(m.ID), LastReadID: ID(m.LastReadID), Percentage: m.Percentage,
		UpdatedAt: Time(m.UpdatedAt), Version: m.Version}
}

// ToMarkers renders a list.
func ToMarkers(ms []models.Marker) []Marker {
	out := make([]Marker, len(ms))
	for i, m := range ms {
		out[i] = ToMarker(m)
	}
	return out
}
