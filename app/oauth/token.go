package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

// TokenRequest is a POST to the token endpoint, form fields as RFC 6749 and
// pnut name them. The client's credentials may come from the form or from
// HTTP Basic authentication.
type TokenRequest struct {
	GrantType           string
	ClientID            string
	ClientSecret        string
	Code                string
	RedirectURI         string
	CodeVerifier        string
	Username            string
	Password            string
	PasswordGrantSecret string
	Scope               string
	IP                  string // the caller's address, for sign-in throttling
}

// Issued is a token just made, with its secret.
type Issued struct {
	Raw   string
	Token *models.Token
}

// Token answers the token endpoint.
func (p *Processor) Token(ctx context.Context, r TokenRequest) (*Issued, error) {
	switch r.GrantType {
	case "authorization_code":
		return p.exchangeCode(ctx, r)
	case "password":
		return p.passwordGrant(ctx, r)
	case "client_credentials":
		return p.clientCredentials(ctx, r)
	case "":
		return nil, invalidRequest("grant_type is required")
	default:
		return nil, oauthError(http.StatusBadRequest, "unsupported_grant_type",
			"grant_type must be authorization_code, password or client_credentials")
	}
}

var errBadClient = oauthError(http.StatusUnauthorized, "invalid_client", "unknown client_id or wrong client_secret")

// authenticateClient checks client_id and client_secret. An unknown app
// and a wrong secret get the same answer.
func (p *Processor) authenticateClient(ctx context.Context, clientID, secret string) (*models.App, error) {
	app, err := p.appFor(ctx, clientID)
	if err != nil {
		return nil, err
	}
	storedHash := ""
	if app != nil {
		storedHash = app.SecretHash
	}
	if !secretMatches(storedHash, secret) || app == nil {
		return nil, errBadClient
	}
	return app, nil
}

// appFor loads an app, or nil when no app has that client_id.
func (p *Processor) appFor(ctx context.Context, clientID string) (*models.App, error) {
	if clientID == "" {
		return nil, nil
	}
	app, err := p.db.AppByClientID(ctx, clientID)
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	return app, err
}

// exchangeCode turns a code into a token, once. Everything the code was
// bound to must match: the app, the redirect URI and the PKCE verifier.
func (p *Processor) exchangeCode(ctx context.Context, r TokenRequest) (*Issued, error) {
	app, err := p.authenticateClient(ctx, r.ClientID, r.ClientSecret)
	if err != nil {
		return nil, err
	}
	if r.Code == "" || r.RedirectURI == "" || r.CodeVerifier == "" {
		return nil, invalidRequest("code, redirect_uri and code_verifier are required")
	}
	code, err := p.db.CodeByHash(ctx, tokens.Hash(r.Code))
	if errors.Is(err, database.ErrNotFound) {
		return nil, invalidGrant("the code is not valid")
	}
	if err != nil {
		return nil, err
	}
	if code.AppID != app.ID {
		return nil, invalidGrant("the code was issued to another app")
	}
	if code.UsedAt != nil {
		return nil, p.refuseReplay(ctx, code.ID)
	}
	if !p.now().Before(code.ExpiresAt) {
		return nil, invalidGrant("the code has expired")
	}
	if code.RedirectURI != r.RedirectURI {
		return nil, invalidGrant("redirect_uri differs from the one the code was issued for")
	}
	if !verifierMatches(code.CodeChallenge, r.CodeVerifier) {
		return nil, invalidGrant("code_verifier does not match the code_challenge")
	}
	return p.redeem(ctx, app, code)
}

// errReplayed answers a code presented a second time.
var errReplayed = invalidGrant("the code was already used; the token issued for it is revoked")

// redeem claims the code and stores its token in one transaction, so of
// two racing exchanges exactly one gets a token, and the other counts as a
// replay.
func (p *Processor) redeem(ctx context.Context, app *models.App, code *models.AuthCode) (*Issued, error) {
	user, err := p.db.UserByID(ctx, code.UserID)
	if err != nil {
		return nil, err
	}
	raw, tok, err := p.tokens.Build(user, app, tokens.NewToken{Label: app.Name, Scopes: code.Scopes})
	if err != nil {
		return nil, err
	}
	replayed := false
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		won, err := q.ClaimCode(ctx, code.ID, p.now().UTC())
		if err != nil {
			return err
		}
		if !won {
			replayed = true
			return p.revokeIssuedFrom(ctx, q, code.ID)
		}
		if err := q.CreateToken(ctx, tok); err != nil {
			return err
		}
		return q.SetCodeToken(ctx, code.ID, tok.ID)
	})
	if err != nil {
		return nil, err
	}
	if replayed {
		p.tokens.Forget(ctx) // now that the revocation is committed
		return nil, errReplayed
	}
	return &Issued{Raw: raw, Token: tok}, nil
}

// refuseReplay revokes the token a code already became: RFC 6749 §4.1.2
// says a code used twice may have been stolen.
func (p *Processor) refuseReplay(ctx context.Context, codeID int64) error {
	if err := p.revokeIssuedFrom(ctx, p.db.Queries, codeID); err != nil {
		return err
	}
	p.tokens.Forget(ctx)
	return errReplayed
}

// revokeIssuedFrom reads the code afresh: a racing exchange may have just
// stored the token it made.
func (p *Processor) revokeIssuedFrom(ctx context.Context, q database.Queries, codeID int64) error {
	code, err := q.CodeByID(ctx, codeID)
	if err != nil || code.TokenID == 0 {
		return err
	}
	return q.RevokeToken(ctx, code.TokenID, p.now().UTC())
}

// passwordGrant signs a user in for a first-party app the operator trusts.
func (p *Processor) passwordGrant(ctx context.Context, r TokenRequest) (*Issued, error) {
	app, err := p.appFor(ctx, r.ClientID)
	if err != nil {
		return nil, err
	}
	if app != nil && !app.Trusted {
		return nil, oauthError(http.StatusBadRequest, "unauthorized_client", "only first-party apps may use the password grant")
	}
	if app == nil || !secretMatches(app.PasswordGrantSecretHash, r.PasswordGrantSecret) {
		return nil, oauthError(http.StatusUnauthorized, "invalid_client", "unknown client_id or wrong password_grant_secret")
	}
	if r.Username == "" || r.Password == "" {
		return nil, invalidRequest("username and password are required")
	}
	scopes, err := allowedScopes(app, r.Scope)
	if err != nil {
		return nil, err
	}
	user, err := p.SignIn(ctx, r.Username, r.Password, r.IP)
	if errors.Is(err, ErrBadCredentials) {
		return nil, invalidGrant("wrong username or password")
	}
	if err != nil {
		return nil, err
	}
	raw, tok, err := p.tokens.Build(user, app, tokens.NewToken{Label: app.Name, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if err := saveGrant(ctx, q, user.ID, app.ID, scopes, p.now().UTC()); err != nil {
			return err
		}
		return q.CreateToken(ctx, tok)
	})
	if err != nil {
		return nil, err
	}
	return &Issued{Raw: raw, Token: tok}, nil
}

// clientCredentials issues an app token: it acts for the app, no user.
func (p *Processor) clientCredentials(ctx context.Context, r TokenRequest) (*Issued, error) {
	app, err := p.authenticateClient(ctx, r.ClientID, r.ClientSecret)
	if err != nil {
		return nil, err
	}
	scopes, err := allowedScopes(app, r.Scope)
	if err != nil {
		return nil, err
	}
	raw, tok, err := p.tokens.Build(nil, app, tokens.NewToken{Label: app.Name, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	if err := p.db.CreateToken(ctx, tok); err != nil {
		return nil, err
	}
	return &Issued{Raw: raw, Token: tok}, nil
}
