package client

import (
	"context"
	"net/url"
	"strings"
)

// User fetches a user by id, "@name", "@name@host" (a user on another
// server) or "me".
func (c *Client) User(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "GET", "/users/"+ref(user), nil)
}

// Users fetches several users by id or "@name", in the order asked;
// unknown ones are left out.
func (c *Client) Users(ctx context.Context, users ...string) ([]User, error) {
	var out []User
	_, err := c.call(ctx, request{method: "GET", path: "/users", query: url.Values{"ids": {strings.Join(users, ",")}}}, &out)
	return out, err
}

// ProfileUpdate changes your profile; nil fields stay as they are.
type ProfileUpdate struct {
	Name     *string
	Text     *string // the profile text
	Locale   *string // e.g. "en_US"
	Timezone *string // e.g. "Europe/Berlin"
}

// UpdateProfile changes your profile (needs the update_profile scope).
func (c *Client) UpdateProfile(ctx context.Context, u ProfileUpdate) (*User, error) {
	body := map[string]any{}
	if u.Name != nil {
		body["name"] = *u.Name
	}
	if u.Text != nil {
		body["content"] = map[string]string{"text": *u.Text}
	}
	if u.Locale != nil {
		body["locale"] = *u.Locale
	}
	if u.Timezone != nil {
		body["timezone"] = *u.Timezone
	}
	return c.userCall(ctx, "PATCH", "/users/me", body)
}

// Follow follows a user; "@name@host" follows someone on another server.
// The answer is the user as you now see them.
func (c *Client) Follow(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "PUT", "/users/"+ref(user)+"/follow", nil)
}

// Unfollow stops following a user.
func (c *Client) Unfollow(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "DELETE", "/users/"+ref(user)+"/follow", nil)
}

// Mute hides a user's posts from your streams.
func (c *Client) Mute(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "PUT", "/users/"+ref(user)+"/mute", nil)
}

// Unmute shows a muted user's posts again.
func (c *Client) Unmute(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "DELETE", "/users/"+ref(user)+"/mute", nil)
}

// Block hides you and a user from each other.
func (c *Client) Block(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "PUT", "/users/"+ref(user)+"/block", nil)
}

// Unblock lifts a block.
func (c *Client) Unblock(ctx context.Context, user string) (*User, error) {
	return c.userCall(ctx, "DELETE", "/users/"+ref(user)+"/block", nil)
}

func (c *Client) userCall(ctx context.Context, method, path string, body any) (*User, error) {
	var out User
	if _, err := c.call(ctx, request{method: method, path: path, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UserPage is one page of users, newest relation first.
type UserPage struct {
	Users []User
	Meta  Meta
}

// Followers lists who follows a user.
func (c *Client) Followers(ctx context.Context, user string, p Page) (*UserPage, error) {
	return c.userPage(ctx, "/users/"+ref(user)+"/followers", p)
}

// Following lists whom a user follows.
func (c *Client) Following(ctx context.Context, user string, p Page) (*UserPage, error) {
	return c.userPage(ctx, "/users/"+ref(user)+"/following", p)
}

// Muted lists whom you muted.
func (c *Client) Muted(ctx context.Context, p Page) (*UserPage, error) {
	return c.userPage(ctx, "/users/me/muted", p)
}

// Blocked lists whom you blocked.
func (c *Client) Blocked(ctx context.Context, p Page) (*UserPage, error) {
	return c.userPage(ctx, "/users/me/blocked", p)
}

func (c *Client) userPage(ctx context.Context, path string, p Page) (*UserPage, error) {
	out := &UserPage{}
	meta, err := c.call(ctx, request{method: "GET", path: path, query: p.query()}, &out.Users)
	if err != nil {
		return nil, err
	}
	out.Meta = *meta
	return out, nil
}
