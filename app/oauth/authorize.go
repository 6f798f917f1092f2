package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

// MaxStateLength bounds the state a client passes through, which comes back
// in a URL.
const MaxStateLength = 1024

// codeMemory is how long a code is remembered after it expires.
const codeMemory = 24 * time.Hour

// AuthParams are the query (or form) parameters of an authorization request.
type AuthParams struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// AuthRequest is a checked authorization request.
type AuthRequest struct {
	App           *models.App
	RedirectURI   string // where the answer goes: a registered URI, or OOB
	Scopes        models.Scopes
	State         string
	CodeChallenge string
}

// PageError is an authorization request so broken that it must not be
// redirected anywhere (RFC 6749 §4.1.2.1): the app is unknown or the
// redirect URI is not one it registered. The user is shown it instead.
type PageError struct{ Description string }

func (e *PageError) Error() string { return e.Description }

// CheckRequest validates an authorization request. When it returns an
// *Error, the request is still returned: the error goes to its RedirectURI.
// When it returns a *PageError, there is nowhere safe to send it.
func (p *Processor) CheckRequest(ctx context.Context, in AuthParams) (*AuthRequest, error) {
	unknown := &PageError{"No app with this client_id is registered here."}
	if in.ClientID == "" {
		return nil, unknown
	}
	app, err := p.db.AppByClientID(ctx, in.ClientID)
	if errors.Is(err, database.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	redirect, err := resolveRedirect(app, in.RedirectURI)
	if err != nil {
		return nil, err
	}
	req := &AuthRequest{App: app, RedirectURI: redirect, State: in.State}
	if len(in.State) > MaxStateLength {
		req.State = ""
		return req, invalidRequest("state is longer than %d characters", MaxStateLength)
	}
	if err := checkResponseType(in.ResponseType); err != nil {
		return req, err
	}
	if req.Scopes, err = allowedScopes(app, in.Scope); err != nil {
		return req, err
	}
	if in.CodeChallenge == "" {
		return req, invalidRequest("code_challenge is required (PKCE, RFC 7636, method S256)")
	}
	if in.CodeChallengeMethod != "S256" {
		return req, invalidRequest("code_challenge_method must be S256")
	}
	if !challengePattern.MatchString(in.CodeChallenge) {
		return req, invalidRequest("code_challenge must be the 43-character base64url SHA-256 of the code_verifier")
	}
	req.CodeChallenge = in.CodeChallenge
	return req, nil
}

func resolveRedirect(app *models.App, requested string) (string, error) {
	if requested == "" {
		if len(app.RedirectURIs) == 1 {
			return app.RedirectURIs[0], nil
		}
		return "", &PageError{"The app did not say where to return to (redirect_uri), and has no single registered address to default to."}
	}
	for _, registered := range app.RedirectURIs {
		if redirectMatches(registered, requested) {
			return requested, nil
		}
	}
	return "", &PageError{"The redirect_uri is not one this app registered, so the answer cannot be sent there."}
}

func checkResponseType(rt string) error {
	switch rt {
	case "code":
		return nil
	case "":
		return invalidRequest("response_type is required; use code")
	default:
		return oauthError(http.StatusBadRequest, "unsupported_response_type", "only response_type=code is supported (with PKCE)")
	}
}

// allowedScopes parses the scopes asked for and refuses any the app did not
// register: an app cannot ask a user for more than it declared.
func allowedScopes(app *models.App, requested string) (models.Scopes, error) {
	scopes, err := models.ParseScopes(requested)
	if err != nil {
		return nil, invalidScope("%v", err)
	}
	for _, sc := range scopes {
		if !app.Scopes.Has(sc) {
			return nil, invalidScope("the app did not register scope %q", sc)
		}
	}
	return scopes, nil
}

// AlreadyGranted reports whether u has allowed the app every scope req asks
// for, so /oauth/authenticate can skip asking again.
func (p *Processor) AlreadyGranted(ctx context.Context, u *models.User, req *AuthRequest) (bool, error) {
	g, err := p.db.GrantFor(ctx, u.ID, req.App.ID)
	if errors.Is(err, database.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, sc := range req.Scopes {
		if !g.Scopes.Has(sc) {
			return false, nil
		}
	}
	return true, nil
}

// Approve records u's consent to req and returns a code for the app to
// exchange. The code is bound to the app, the redirect URI, the scopes and
// the PKCE challenge.
func (p *Processor) Approve(ctx context.Context, u *models.User, req *AuthRequest) (string, error) {
	raw, err := randomString(32)
	if err != nil {
		return "", err
	}
	now := p.now().UTC()
	code := &models.AuthCode{
		Hash: tokens.Hash(raw), AppID: req.App.ID, UserID: u.ID, RedirectURI: req.RedirectURI,
		Scopes: req.Scopes, CodeChallenge: req.CodeChallenge, CreatedAt: now, ExpiresAt: now.Add(p.settings.CodeTTL),
	}
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if err := saveGrant(ctx, q, u.ID, req.App.ID, req.Scopes, now); err != nil {
			return err
		}
		// Used codes are kept a day past expiry so a replay can still be
		// recognised and its token revoked; after that they are noise.
		if err := q.DeleteCodesExpiredBefore(ctx, now.Add(-codeMemory)); err != nil {
			return err
		}
		return q.CreateCode(ctx, code)
	})
	if err != nil {
		return "", err
	}
	return raw, nil
}

// saveGrant adds scopes to what the user allowed the app before.
func saveGrant(ctx context.Context, q database.Queries, userID, appID int64, scopes models.Scopes, now time.Time) error {
	g, err := q.GrantFor(ctx, userID, appID)
	if errors.Is(err, database.ErrNotFound) {
		g, err = &models.Grant{UserID: userID, AppID: appID, CreatedAt: now}, nil
	}
	if err != nil {
		return err
	}
	union := slices.Clone(g.Scopes)
	for _, sc := range scopes {
		if !union.Has(sc) {
			union = append(union, sc)
		}
	}
	if g.Scopes, err = models.ParseScopes(union.String()); err != nil {
		return err
	}
	g.UpdatedAt = now
	return q.SaveGrant(ctx, g)
}

// RedirectWith adds params to a redirect URI, keeping any query it had.
func RedirectWith(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Set(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
