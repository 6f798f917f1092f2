package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

// Limits on what an app registers.
const (
	MaxAppNameLength    = 100
	MaxWebsiteLength    = 512
	MaxRedirectURIs     = 10
	MaxRedirectURILen   = 1024
	clientSecretPrefix  = "pcs_"
	grantSecretPrefix   = "pcg_"
	clientIDRandomBytes = 24
)

// NewApp is what registering an app takes.
type NewApp struct {
	Name         string
	Website      string
	RedirectURIs []string
	Scopes       models.Scopes // the most the app may ask for; nil means basic
	Owner        *models.User  // nil: registered by the operator
}

// RegisteredApp is a new app with its secret, which is shown this once.
type RegisteredApp struct {
	App    *models.App
	Secret string
}

// RegisterApp validates and stores a new app.
func (p *Processor) RegisterApp(ctx context.Context, in NewApp) (*RegisteredApp, error) {
	if err := validateApp(in); err != nil {
		return nil, err
	}
	clientID, err := newClientID()
	if err != nil {
		return nil, err
	}
	secret, err := newSecret(clientSecretPrefix)
	if err != nil {
		return nil, err
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		scopes = models.Scopes{models.ScopeBasic}
	}
	a := &models.App{
		ClientID: clientID, SecretHash: tokens.Hash(secret), Name: in.Name, Website: in.Website,
		RedirectURIs: models.StringList(in.RedirectURIs), Scopes: scopes, CreatedAt: p.now().UTC(),
	}
	if in.Owner != nil {
		a.OwnerID = in.Owner.ID
	}
	if a.RedirectURIs == nil {
		a.RedirectURIs = models.StringList{}
	}
	if err := p.db.CreateApp(ctx, a); err != nil {
		return nil, err
	}
	return &RegisteredApp{App: a, Secret: secret}, nil
}

// newClientID is a random client id that does not start with "-": the
// operator types it after commands (pecan app trust ID), which would take
// it for a flag. One in 64 did.
func newClientID() (string, error) {
	for {
		id, err := randomString(clientIDRandomBytes)
		if err != nil || !strings.HasPrefix(id, "-") {
			return id, err
		}
	}
}

func newSecret(prefix string) (string, error) {
	s, err := randomString(32)
	if err != nil {
		return "", err
	}
	return prefix + s, nil
}

func validateApp(in NewApp) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); n == 0 || n > MaxAppNameLength {
		return errs.Invalid("name", "invalid_name", "name must be 1 to %d characters", MaxAppNameLength)
	}
	if in.Website != "" {
		u, err := url.Parse(in.Website)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.Website) > MaxWebsiteLength {
			return errs.Invalid("website", "invalid_website", "website must be an http or https URL of at most %d characters", MaxWebsiteLength)
		}
	}
	if len(in.RedirectURIs) > MaxRedirectURIs {
		return errs.Invalid("redirect_uris", "too_many_redirect_uris", "at most %d redirect URIs", MaxRedirectURIs)
	}
	for _, uri := range in.RedirectURIs {
		if err := validateRedirectURI(uri); err != nil {
			return errs.Invalid("redirect_uris", "invalid_redirect_uri", "%q: %v", uri, err)
		}
	}
	return nil
}

// Schemes a redirect may never use: they would run code or read files in
// the user's browser instead of reaching an app.
var forbiddenSchemes = map[string]bool{"javascript": true, "data": true, "vbscript": true, "file": true, "about": true, "blob": true}

// validateRedirectURI accepts what RFC 8252 and common practice allow:
// https anywhere, http only to a loopback address (native apps listening
// locally), an app's own scheme, or the out-of-band URN.
func validateRedirectURI(raw string) error {
	if raw == OOB {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > MaxRedirectURILen || strings.ContainsAny(raw, " \t\r\n"):
		return errors.New("not a valid URI")
	case u.Scheme == "":
		return errors.New("must be absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case u.User != nil:
		return errors.New("must not carry a user name or password")
	case forbiddenSchemes[strings.ToLower(u.Scheme)]:
		return errors.New("scheme not allowed")
	case u.Scheme == "https":
		if u.Host == "" {
			return errors.New("needs a host")
		}
	case u.Scheme == "http":
		if !isLoopback(u.Hostname()) {
			return errors.New("http is allowed only for loopback addresses; use https")
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectMatches reports whether requested is one of the registered URI
// strings. Loopback redirects match on any port, as RFC 8252 §7.3 asks:
// native apps listen on whatever port is free.
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	reg, err1 := url.Parse(registered)
	req, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || reg.Scheme != "http" || req.Scheme != "http" || !isLoopback(reg.Hostname()) {
		return false
	}
	return reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() &&
		reg.RawQuery == req.RawQuery && req.User == nil && req.Fragment == ""
}

// OwnedApps lists the apps u registered.
func (p *Processor) OwnedApps(ctx context.Context, u *models.User) ([]*models.App, error) {
	return p.db.AppsByOwner(ctx, u.ID)
}

// OwnedApp loads one of u's apps.
func (p *Processor) OwnedApp(ctx context.Context, u *models.User, id int64) (*models.App, error) {
	a, err := p.db.AppByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errs.NotFound("app_not_found", "app %d not found", id)
	}
	if err != nil {
		return nil, err
	}
	if a.OwnerID != u.ID {
		return nil, errs.Forbidden("not_yours", "app %d belongs to someone else", id)
	}
	return a, nil
}

// DeleteApp removes one of u's apps; every token it holds stops working.
func (p *Processor) DeleteApp(ctx context.Context, u *models.User, id int64) (*models.App, error) {
	a, err := p.OwnedApp(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if err := p.db.DeleteApp(ctx, a.ID); err != nil {
		return nil, err
	}
	p.tokens.Forget(ctx)
	return a, nil
}

// AppByClientID loads an app for the operator's commands.
func (p *Processor) AppByClientID(ctx context.Context, clientID string) (*models.App, error) {
	a, err := p.db.AppByClientID(ctx, clientID)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errs.NotFound("app_not_found", "no app has client_id %q", clientID)
	}
	return a, err
}

// Trust makes an app first-party, allowed the password grant, and returns
// the new password-grant secret (shown once; trusting again replaces it).
func (p *Processor) Trust(ctx context.Context, a *models.App) (string, error) {
	secret, err := newSecret(grantSecretPrefix)
	if err != nil {
		return "", err
	}
	return secret, p.db.SetAppTrust(ctx, a.ID, true, tokens.Hash(secret))
}

// Distrust takes the password grant away from an app.
func (p *Processor) Distrust(ctx context.Context, a *models.App) error {
	return p.db.SetAppTrust(ctx, a.ID, false, "")
}

// secretMatches compares a presented secret with a stored hash in constant
// time. An empty stored hash matches nothing.
func secretMatches(storedHash, presented string) bool {
	if storedHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(storedHash), []byte(tokens.Hash(presented))) == 1
}
