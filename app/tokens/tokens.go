// Package tokens issues, checks and revokes access tokens. A token is shown
// once when issued; only its SHA-256 is stored.
package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/models"
)

// Prefix marks Pecan tokens so secret scanners and people can recognise them.
const Prefix = "pcn_"

// MaxLabelLength bounds a token's label.
const MaxLabelLength = 100

// Processor holds the token rules.
type Processor struct {
	db    *database.DB
	now   func() time.Time
	cache *cache // nil: every request asks the database

	forgetting *kv.Forgetting
}

// New returns a token processor.
func New(db *database.DB, now func() time.Time) *Processor {
	p := &Processor{db: db, now: now}
	p.forgetting = kv.NewForgetting(forgetTopic, func(string) { p.cache.forget() })
	return p
}

// CacheFor lets a token that authenticated be trusted for ttl without
// asking the database again (0: always ask). A revocation made by this
// process takes effect at once; one made elsewhere (another replica, the
// command line) at once too when both share notices (ShareForgetting),
// else within ttl. ttl stays under a minute, the resolution of
// last_used_at, which is only written on a lookup.
func (p *Processor) CacheFor(ttl time.Duration) {
	p.cache = nil
	if ttl > 0 {
		p.cache = newCache(ttl)
	}
}

// forgetTopic is the notice on which every replica empties its cache.
const forgetTopic = "tokens.forget"

// ShareForgetting has Forget tell every replica sharing n, so a token
// revoked on one is refused by all at once rather than when their cached
// entry runs out. A notice that cannot be sent is logged; the others then
// fall back on the entry's ttl.
func (p *Processor) ShareForgetting(n kv.Notices, logger *slog.Logger) {
	p.forgetting.Share(n, logger, "they see revocations within http.token_cache_ttl")
}

// ListenForForgets empties this process's cache on every other replica's
// Forget, until ctx ends. A serving process runs it.
func (p *Processor) ListenForForgets(ctx context.Context) {
	if p.cache != nil {
		p.forgetting.Listen(ctx)
	}
}

// Forget drops every cached token, here and on the replicas that share
// notices: for whoever revokes tokens or changes what a token carries (its
// user's profile, its app) outside Revoke.
func (p *Processor) Forget(ctx context.Context) {
	p.forgetting.Forget(ctx, "")
}

// Hash is what the database keeps of a raw token.
func Hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

func newRaw() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(buf), nil
}

// NewToken is what issuing a token takes. TTL 0 means it never expires.
type NewToken struct {
	Label  string
	Scopes models.Scopes
	TTL    time.Duration
}

// Issue creates a token for u and returns the raw secret, which is never
// stored and cannot be shown again.
func (p *Processor) Issue(ctx context.Context, u *models.User, in NewToken) (string, *models.Token, error) {
	raw, t, err := p.Build(u, nil, in)
	if err != nil {
		return "", nil, err
	}
	if err := p.db.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return raw, t, nil
}

// Build makes a token without storing it, so a caller can store it in a
// transaction of its own. u is the user it acts for (nil for an app token),
// app the OAuth app it was issued to (nil for a personal token).
func (p *Processor) Build(u *models.User, app *models.App, in NewToken) (string, *models.Token, error) {
	if utf8.RuneCountInString(in.Label) > MaxLabelLength {
		return "", nil, errs.Invalid("label", "label_too_long", "label must be at most %d characters", MaxLabelLength)
	}
	if in.TTL < 0 {
		return "", nil, errs.Invalid("expires_in", "invalid_expiry", "expiry must be in the future")
	}
	raw, err := newRaw()
	if err != nil {
		return "", nil, err
	}
	now := p.now().UTC()
	t := &models.Token{Hash: Hash(raw), Label: in.Label, Scopes: in.Scopes, CreatedAt: now, User: u, App: app}
	if u != nil {
		t.UserID = u.ID
	}
	if app != nil {
		t.AppID = app.ID
	}
	if in.TTL > 0 {
		exp := now.Add(in.TTL)
		t.ExpiresAt = &exp
	}
	return raw, t, nil
}

// IssueFor lets a token holder mint another token. The new token may not
// carry a scope the caller's token lacks, so "tokens" cannot widen access,
// and it belongs to the caller's app, if any, so revoking the app revokes
// what the app minted too.
func (p *Processor) IssueFor(ctx context.Context, caller *models.Token, in NewToken) (string, *models.Token, error) {
	for _, sc := range in.Scopes {
		if !caller.Scopes.Has(sc) {
			return "", nil, errs.Forbidden("scope_not_held", "this token cannot grant scope %q it does not have", sc)
		}
	}
	raw, t, err := p.Build(caller.User, caller.App, in)
	if err != nil {
		return "", nil, err
	}
	if err := p.db.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return raw, t, nil
}

// Authenticate turns a raw bearer token into the token and its user.
func (p *Processor) Authenticate(ctx context.Context, raw string) (*models.Token, error) {
	if !strings.HasPrefix(raw, Prefix) {
		return nil, errs.Unauthorized("invalid_token", "the access token is not valid")
	}
	hash, now := Hash(raw), p.now()
	if t, ok := p.cache.get(hash, now); ok && t.Active(now) {
		return t, nil
	}
	generation := p.cache.begin()
	t, err := p.load(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	p.cache.put(hash, t, now, generation)
	return t, nil
}

// load reads the token from the database and checks it is usable.
func (p *Processor) load(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	t, err := p.db.TokenByHash(ctx, hash)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errs.Unauthorized("invalid_token", "the access token is not valid")
	}
	if err != nil {
		return nil, err
	}
	if !t.Active(now) || (t.AppID != 0 && t.App == nil) || (t.UserID != 0 && t.User == nil) {
		return nil, errs.Unauthorized("invalid_token", "the access token is revoked or expired")
	}
	// last_used_at is kept to the minute: most requests need not write.
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute {
		if err := p.db.TouchToken(ctx, t.ID, now.UTC()); err != nil {
			return nil, err
		}
		used := now.UTC()
		t.LastUsedAt = &used
	}
	return t, nil
}

// List returns a user's live tokens.
func (p *Processor) List(ctx context.Context, u *models.User) ([]*models.Token, error) {
	return p.db.TokensByUser(ctx, u.ID)
}

// Revoke ends t at once.
func (p *Processor) Revoke(ctx context.Context, t *models.Token) (*models.Token, error) {
	now := p.now().UTC()
	if err := p.db.RevokeToken(ctx, t.ID, now); err != nil {
		return nil, err
	}
	p.Forget(ctx)
	revoked := *t
	revoked.RevokedAt = &now
	return &revoked, nil
}

// RevokeByID revokes one of u's tokens by id.
func (p *Processor) RevokeByID(ctx context.Context, u *models.User, id int64) (*models.Token, error) {
	t, err := p.db.TokenByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) || (err == nil && t.RevokedAt != nil) {
		return nil, errs.NotFound("token_not_found", "token %d not found", id)
	}
	if err != nil {
		return nil, err
	}
	if t.UserID != u.ID {
		return nil, errs.Forbidden("not_yours", "token %d belongs to another user", id)
	}
	return p.Revoke(ctx, t)
}
