package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/models"
)

//go:embed oauthhtml/*.html
var oauthFiles embed.FS

var oauthPages = template.Must(template.ParseFS(oauthFiles, "oauthhtml/*.html"))

// oauthPageData is everything the OAuth templates show.
type oauthPageData struct {
	Site       string
	Title      string
	Message    string
	AppName    string
	AppWebsite string
	Scopes     []string
	Action     string
	CSRF       string
	Hidden     []oauthHiddenField
	User       *models.User
	Username   string
	ReturnTo   string
	Code       string
	State      string
	CodeTTL    string
}

type oauthHiddenField struct{ Name, Value string }

// oauthScopeText says in words what each scope lets an app do.
var oauthScopeText = map[models.Scope]string{
	models.ScopeBasic:          "see your profile and what is public",
	models.ScopeStream:         "read your personal and unified streams",
	models.ScopeWritePost:      "post, revise and delete posts, repost and bookmark as you",
	models.ScopeFollow:         "follow, mute and block accounts for you",
	models.ScopeUpdateProfile:  "change your profile",
	models.ScopePresence:       "set your presence",
	models.ScopeMessages:       "read and send your private messages",
	models.ScopePublicMessages: "read and send messages in public channels",
	models.ScopeFiles:          "upload and manage your files",
	models.ScopePolls:          "create polls and vote",
	models.ScopeEmail:          "see your email address",
	models.ScopeWebhooks:       "manage your webhooks",
	models.ScopeTokens:         "manage your access tokens and apps",
}

// page wraps the HTML handlers: headers that keep the pages out of caches
// and frames, and an error page instead of JSON when something breaks.
func (s *server) oauthPage(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		// No form-action: browsers apply it to the redirect that follows
		// the form, which must reach the app's redirect URI.
		hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
		err := h(c)
		if err == nil || c.Response().Committed {
			return err
		}
		id := newErrorID()
		s.logger.ErrorContext(c.Request().Context(), "oauth page failed", "error", err.Error(), "error_id", id, "path", c.Path())
		return s.renderOAuthError(c, http.StatusInternalServerError, "Something went wrong", "Please try again. Error reference: "+id)
	}
}

func (s *server) renderOAuthPage(c echo.Context, status int, name string, data oauthPageData) error {
	data.Site = s.cfg.Host
	var buf bytes.Buffer
	if err := oauthPages.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *server) renderOAuthError(c echo.Context, status int, title, message string) error {
	return s.renderOAuthPage(c, status, "error", oauthPageData{Title: title, Message: message})
}

// renderConsent shows the sign-in and consent form for req. The form
// carries the checked request, which is checked again when it comes back.
func (s *server) renderConsent(c echo.Context, status int, req *oauth.AuthRequest, user *models.User, username, message string) error {
	csrf, err := s.oauthCSRFToken(c)
	if err != nil {
		return err
	}
	params := url.Values{
		"client_id": {req.App.ClientID}, "redirect_uri": {req.RedirectURI}, "response_type": {"code"},
		"scope": {req.Scopes.String()}, "state": {req.State},
		"code_challenge": {req.CodeChallenge}, "code_challenge_method": {"S256"},
	}
	data := oauthPageData{
		Title: "Authorize " + req.App.Name, AppName: req.App.Name, AppWebsite: req.App.Website,
		Action: c.Path(), CSRF: csrf, User: user, Username: username, Message: message,
		ReturnTo: c.Path() + "?" + params.Encode(),
	}
	for _, sc := range req.Scopes {
		data.Scopes = append(data.Scopes, oauthScopeText[sc])
	}
	for _, name := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"} {
		data.Hidden = append(data.Hidden, oauthHiddenField{name, params.Get(name)})
	}
	return s.renderOAuthPage(c, status, "authorize", data)
}

// Cookie names; over https they get the __Host- prefix, which browsers only
// accept from a secure origin for the whole host, so no subdomain can plant
// one.
const (
	oauthCSRFCookie    = "pecan_csrf"
	oauthSessionCookie = "pecan_session"
)

func (s *server) oauthSecureCookies() bool { return s.cfg.Scheme == "https" }

func (s *server) oauthCookieName(base string) string {
	if s.oauthSecureCookies() {
		return "__Host-" + base
	}
	return base
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole host;
// maxAge 0 makes it last the browser session, -1 deletes it.
func (s *server) setOAuthCookie(c echo.Context, base, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: s.oauthCookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.oauthSecureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

var oauthCookiePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// csrfToken returns the form token for the browser's CSRF cookie, setting
// the cookie first if there is none. A cross-site page can make the browser
// send the cookie but cannot read it, so it cannot write the token.
func (s *server) oauthCSRFToken(c echo.Context) (string, error) {
	if cookie, err := c.Cookie(s.oauthCookieName(oauthCSRFCookie)); err == nil && oauthCookiePattern.MatchString(cookie.Value) {
		return csrfFormToken(cookie.Value), nil
	}
	secret, err := newCookieSecret()
	if err != nil {
		return "", err
	}
	s.setOAuthCookie(c, oauthCSRFCookie, secret, 0)
	return csrfFormToken(secret), nil
}

// csrfFormToken derives the form's token from the cookie, so the page never
// shows the cookie itself.
func csrfFormToken(cookieSecret string) string {
	sum := sha256.Sum256([]byte("pecan csrf form token\x00" + cookieSecret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// csrfValid checks a posted form's token against the browser's cookie.
func (s *server) oauthCSRFValid(c echo.Context) bool {
	cookie, err := c.Cookie(s.oauthCookieName(oauthCSRFCookie))
	if err != nil || !oauthCookiePattern.MatchString(cookie.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(csrfFormToken(cookie.Value)), []byte(oauthFormValue(c)("csrf_token"))) == 1
}

func newCookieSecret() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// sessionUser is the user signed in on the consent page, or nil.
func (s *server) oauthSessionUser(c echo.Context) (*models.User, error) {
	cookie, err := c.Cookie(s.oauthCookieName(oauthSessionCookie))
	if err != nil {
		return nil, nil
	}
	return s.oauth.SessionUser(c.Request().Context(), cookie.Value)
}

// startSession signs the browser in as u, replacing any earlier sign-in.
func (s *server) startOAuthSession(c echo.Context, u *models.User) error {
	ctx := c.Request().Context()
	if old, err := c.Cookie(s.oauthCookieName(oauthSessionCookie)); err == nil {
		if err := s.oauth.EndSession(ctx, old.Value); err != nil {
			return err
		}
	}
	raw, err := s.oauth.StartSession(ctx, u)
	if err != nil {
		return err
	}
	s.setOAuthCookie(c, oauthSessionCookie, raw, int(s.cfg.OAuth.SessionTTL.Seconds()))
	return nil
}
