package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/models"
)

const (
	authorizePath    = "/oauth/authorize"
	authenticatePath = "/oauth/authenticate"
	signOutPath      = "/oauth/sign_out"
)

// registerOAuth mounts the consent pages and the token endpoint. They speak
// HTML and RFC 6749's JSON rather than the pnut envelope, so they live
// outside the route table; they take no tokens and so need no scopes.
func (s *server) registerOAuth(e *echo.Echo) {
	for _, path := range []string{authorizePath, authenticatePath} {
		e.GET(path, s.oauthPage(s.authorizePage))
		e.POST(path, s.oauthPage(s.authorizeSubmit))
		s.rateClasses[http.MethodGet+" "+path] = classOAuth
		s.rateClasses[http.MethodPost+" "+path] = classOAuth
	}
	e.POST(signOutPath, s.oauthPage(s.signOut))
	s.rateClasses[http.MethodPost+" "+signOutPath] = classOAuth
	// pnut serves the token endpoint under the API's base path.
	for _, path := range []string{"/oauth/access_token", "/v1/oauth/access_token", "/v0/oauth/access_token"} {
		e.POST(path, s.accessToken)
		s.rateClasses[http.MethodPost+" "+path] = classOAuth
	}
}

// oauthAuthParams reads an authorization request from the query or the form.
func oauthAuthParams(get func(string) string) oauth.AuthParams {
	return oauth.AuthParams{
		ClientID: get("client_id"), RedirectURI: get("redirect_uri"), ResponseType: get("response_type"),
		Scope: get("scope"), State: get("state"),
		CodeChallenge: get("code_challenge"), CodeChallengeMethod: get("code_challenge_method"),
	}
}

// oauthFormValue reads the form body only: the page never puts its fields in
// the URL of a POST.
func oauthFormValue(c echo.Context) func(string) string {
	return func(key string) string {
		_ = c.Request().ParseForm()
		return c.Request().PostForm.Get(key)
	}
}

// authorizePage shows the sign-in and consent page. On /oauth/authenticate
// a signed-in user who already allowed every scope asked for is sent
// straight back to the app.
func (s *server) authorizePage(c echo.Context) error {
	ctx := c.Request().Context()
	req, err := s.oauth.CheckRequest(ctx, oauthAuthParams(c.QueryParam))
	if err != nil {
		return s.authorizeFailed(c, req, err)
	}
	user, err := s.oauthSessionUser(c)
	if err != nil {
		return err
	}
	if user != nil && c.Path() == authenticatePath {
		granted, err := s.oauth.AlreadyGranted(ctx, user, req)
		if err != nil {
			return err
		}
		if granted {
			return s.approve(c, user, req, http.StatusFound)
		}
	}
	return s.renderConsent(c, http.StatusOK, req, user, "", "")
}

// authorizeSubmit handles the page's form: deny, or sign in (unless signed
// in already) and approve.
func (s *server) authorizeSubmit(c echo.Context) error {
	if !s.oauthCSRFValid(c) {
		return s.renderOAuthError(c, http.StatusForbidden, "This form has expired",
			"The form did not come from this site's page, or the page is too old. Go back, reload it and try again.")
	}
	ctx := c.Request().Context()
	form := oauthFormValue(c)
	req, err := s.oauth.CheckRequest(ctx, oauthAuthParams(form))
	if err != nil {
		return s.authorizeFailed(c, req, err)
	}
	if form("decision") != "approve" {
		return s.redirectError(c, req, &oauth.Error{Code: "access_denied", Description: "the user declined to authorize the app"})
	}
	user, err := s.consentingUser(c, form)
	if err != nil {
		return s.signInFailed(c, req, form("username"), err)
	}
	return s.approve(c, user, req, http.StatusSeeOther)
}

// errNoCredentials is a form sent with neither a sign-in nor a session.
var errNoCredentials = errors.New("no username or password")

// consentingUser is who approves: the browser's signed-in user, unless a
// username was typed, in which case that account signs in (and the browser
// stays signed in as it).
func (s *server) consentingUser(c echo.Context, form func(string) string) (*models.User, error) {
	username := form("username")
	if username == "" {
		user, err := s.oauthSessionUser(c)
		if err == nil && user == nil {
			err = errNoCredentials
		}
		return user, err
	}
	user, err := s.oauth.SignIn(c.Request().Context(), username, form("password"), c.RealIP())
	if err != nil {
		return nil, err
	}
	return user, s.startOAuthSession(c, user)
}

// signInFailed shows the page again with what went wrong. It says the same
// for an unknown user as for a wrong password.
func (s *server) signInFailed(c echo.Context, req *oauth.AuthRequest, username string, err error) error {
	if errors.Is(err, errNoCredentials) {
		return s.renderConsent(c, http.StatusUnauthorized, req, nil, "", "Enter your username and password.")
	}
	if errors.Is(err, oauth.ErrBadCredentials) {
		return s.renderConsent(c, http.StatusUnauthorized, req, nil, username, "Wrong username or password.")
	}
	var oe *oauth.Error
	if errors.As(err, &oe) && oe.Status == http.StatusTooManyRequests {
		minutes := int(oe.RetryAfter.Minutes()) + 1
		c.Response().Header().Set("Retry-After", strconv.Itoa(ceilSeconds(oe.RetryAfter)))
		return s.renderConsent(c, http.StatusTooManyRequests, req, nil, username,
			"Too many sign-in attempts. Try again in "+strconv.Itoa(minutes)+" minutes.")
	}
	return err
}

// approve turns consent into a code and hands it to the app: by redirect,
// or shown on the page for out-of-band apps.
func (s *server) approve(c echo.Context, user *models.User, req *oauth.AuthRequest, status int) error {
	code, err := s.oauth.Approve(c.Request().Context(), user, req)
	if err != nil {
		return err
	}
	if req.RedirectURI == oauth.OOB {
		return s.renderOAuthPage(c, http.StatusOK, "code", oauthPageData{
			Title: "Authorized", AppName: req.App.Name, Code: code, State: req.State, CodeTTL: inWords(s.cfg.OAuth.CodeTTL),
		})
	}
	return c.Redirect(status, oauth.RedirectWith(req.RedirectURI, url.Values{"code": {code}, "state": {req.State}}))
}

// inWords writes a code's lifetime for people: "5 minutes", "90 seconds".
func inWords(d time.Duration) string {
	if d%time.Minute == 0 && d >= 2*time.Minute {
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return strconv.Itoa(int(d/time.Second)) + " seconds"
}

// authorizeFailed answers a bad authorization request: on the page when
// there is nowhere safe to send it, else at the app's redirect URI.
func (s *server) authorizeFailed(c echo.Context, req *oauth.AuthRequest, err error) error {
	var pe *oauth.PageError
	if errors.As(err, &pe) {
		return s.renderOAuthError(c, http.StatusBadRequest, "This sign-in link does not work", pe.Description)
	}
	var oe *oauth.Error
	if errors.As(err, &oe) && req != nil {
		return s.redirectError(c, req, oe)
	}
	return err
}

// redirectError sends an error to the app as RFC 6749 §4.1.2.1 says.
func (s *server) redirectError(c echo.Context, req *oauth.AuthRequest, oe *oauth.Error) error {
	if req.RedirectURI == oauth.OOB {
		return s.renderOAuthError(c, http.StatusBadRequest, "The app's request cannot be completed", oe.Code+": "+oe.Description)
	}
	status := http.StatusFound
	if c.Request().Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	return c.Redirect(status, oauth.RedirectWith(req.RedirectURI, url.Values{
		"error": {oe.Code}, "error_description": {oe.Description}, "state": {req.State},
	}))
}

// signOut ends the page's sign-in and goes back to the page it came from.
func (s *server) signOut(c echo.Context) error {
	if !s.oauthCSRFValid(c) {
		return s.renderOAuthError(c, http.StatusForbidden, "This form has expired", "Go back, reload the page and try again.")
	}
	if cookie, err := c.Cookie(s.oauthCookieName(oauthSessionCookie)); err == nil {
		if err := s.oauth.EndSession(c.Request().Context(), cookie.Value); err != nil {
			return err
		}
	}
	s.setOAuthCookie(c, oauthSessionCookie, "", -1)
	back := oauthFormValue(c)("return_to")
	if oauthReturnPage(back) {
		return c.Redirect(http.StatusSeeOther, back)
	}
	return s.renderOAuthError(c, http.StatusOK, "Signed out", "You are signed out.")
}

// oauthReturnPage accepts only this site's consent pages as places to return to,
// so sign-out cannot be used to bounce a browser elsewhere.
func oauthReturnPage(path string) bool {
	return (strings.HasPrefix(path, authorizePath+"?") || strings.HasPrefix(path, authenticatePath+"?")) &&
		!strings.ContainsAny(path, "\\\r\n")
}
