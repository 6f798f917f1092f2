package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/models"
)

// ErrBadCredentials is every failed sign-in: unknown account, account
// without a password, or wrong password alike.
var ErrBadCredentials = users.ErrBadCredentials

// SignIn checks a username and password. Each attempt, right or wrong,
// counts against the account and against the client's address; past either
// limit the answer is an *Error with Code "rate_limited" and Status 429,
// given whether or not the account exists.
func (p *Processor) SignIn(ctx context.Context, username, password, ip string) (*models.User, error) {
	if err := p.throttle(ctx, "signin:ip:"+ip, p.settings.SignInPerIP); err != nil {
		return nil, err
	}
	if err := p.throttle(ctx, "signin:account:"+accountKey(username), p.settings.SignInPerAccount); err != nil {
		return nil, err
	}
	return p.users.CheckPassword(ctx, username, password)
}

// accountKey names an account's bucket: the name as typed, lower-cased and
// cut short, so nonsense names cost as little as real ones to track.
func accountKey(username string) string {
	key := strings.ToLower(strings.TrimSpace(username))
	if len(key) > 64 {
		key = key[:64]
	}
	return key
}

func (p *Processor) throttle(ctx context.Context, key string, limit kv.Limit) error {
	res, err := p.limiter.Allow(ctx, key, limit)
	if err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	if !res.Allowed {
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Description: "too many sign-in attempts; try again later", RetryAfter: res.RetryAfter}
	}
	return nil
}

const sessionPrefix = "oauth:session:"

// StartSession remembers that the browser holding the returned secret is
// signed in as u, for the consent pages only.
func (p *Processor) StartSession(ctx context.Context, u *models.User) (string, error) {
	raw, err := randomString(32)
	if err != nil {
		return "", err
	}
	key := sessionPrefix + tokens.Hash(raw)
	if err := p.store.Set(ctx, key, strconv.FormatInt(u.ID, 10), p.settings.SessionTTL); err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return raw, nil
}

// SessionUser is the user a session secret belongs to, or nil.
func (p *Processor) SessionUser(ctx context.Context, raw string) (*models.User, error) {
	if raw == "" {
		return nil, nil
	}
	v, ok, err := p.store.Get(ctx, sessionPrefix+tokens.Hash(raw))
	if err != nil || !ok {
		return nil, err
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, nil
	}
	u, err := p.db.UserByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// EndSession signs the browser out.
func (p *Processor) EndSession(ctx context.Context, raw string) error {
	if raw == "" {
		return nil
	}
	return p.store.Delete(ctx, sessionPrefix+tokens.Hash(raw))
}
