// Package oauth holds the rules of OAuth 2 for client apps (RFC 6749 with
// PKCE, RFC 7636): registering apps, asking a user's consent, turning
// consent into single-use codes and codes into tokens, the password grant
// for first-party apps, app tokens, sign-in throttling and the grants users
// can review and revoke.
//
// It is written here rather than taken from an OAuth framework: the flows
// Pecan offers are few and small, while the parts that matter (tokens that
// are Pecan's hashed pcn_ tokens, pnut's request and response shapes, codes
// that revoke their token when replayed, throttled sign-in) would all have
// to be rebuilt around a framework's own storage and token model anyway.
package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
)

// OOB is the redirect URI of apps that cannot receive a redirect: the code
// is shown to the user to copy instead.
const OOB = "urn:ietf:wg:oauth:2.0:oob"

// Settings are the operator's choices.
type Settings struct {
	CodeTTL          time.Duration // how long a code may wait to be exchanged
	SessionTTL       time.Duration // how long a sign-in on the consent page lasts
	SignInPerAccount kv.Limit      // sign-in attempts per username
	SignInPerIP      kv.Limit      // sign-in attempts per client address
}

// Processor applies the OAuth rules.
type Processor struct {
	db       *database.DB
	users    *users.Processor
	tokens   *tokens.Processor
	limiter  kv.RateLimiter
	store    kv.Store
	now      func() time.Time
	settings Settings
}

// New returns a processor.
func New(db *database.DB, u *users.Processor, t *tokens.Processor, limiter kv.RateLimiter, store kv.Store, now func() time.Time, s Settings) *Processor {
	return &Processor{db: db, users: u, tokens: t, limiter: limiter, store: store, now: now, settings: s}
}

// Error is an OAuth error as RFC 6749 names them (§4.1.2.1, §5.2): sent to
// the redirect URI from the authorization endpoint, and as JSON from the
// token endpoint with Status.
type Error struct {
	Code        string // invalid_request, invalid_client, invalid_grant, …
	Description string
	Status      int
	RetryAfter  time.Duration // set with Code "rate_limited"
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oauthError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *Error {
	return oauthError(http.StatusBadRequest, "invalid_request", format, args...)
}

func invalidGrant(format string, args ...any) *Error {
	return oauthError(http.StatusBadRequest, "invalid_grant", format, args...)
}

func invalidScope(format string, args ...any) *Error {
	return oauthError(http.StatusBadRequest, "invalid_scope", format, args...)
}

// randomString is n random bytes, base64url without padding.
func randomString(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}
