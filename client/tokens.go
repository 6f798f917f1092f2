package client

import (
	"context"
	"time"
)

// Token describes the token the client calls with, and its user.
func (c *Client) Token(ctx context.Context) (*TokenInfo, error) {
	var out TokenInfo
	if _, err := c.call(ctx, request{method: "GET", path: "/token"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NewToken is a personal access token to mint.
type NewToken struct {
	Label     string
	Scopes    []string      // never more than the calling token has; basic is always added
	ExpiresIn time.Duration // 0: never expires
}

// CreateToken mints a token for your account (needs the tokens scope).
// Its secret, Token.Token, is in this answer only.
func (c *Client) CreateToken(ctx context.Context, t NewToken) (*Token, error) {
	body := map[string]any{"label": t.Label, "scopes": t.Scopes}
	if t.ExpiresIn > 0 {
		body["expires_in"] = int64(t.ExpiresIn / time.Second)
	}
	var out Token
	if _, err := c.call(ctx, request{method: "POST", path: "/tokens", body: body, create: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Tokens lists your tokens, without their secrets (needs tokens).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	_, err := c.call(ctx, request{method: "GET", path: "/tokens"}, &out)
	return out, err
}

// RevokeToken revokes one of your tokens (needs tokens).
func (c *Client) RevokeToken(ctx context.Context, id string) (*Token, error) {
	var out Token
	if _, err := c.call(ctx, request{method: "DELETE", path: "/tokens/" + ref(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
