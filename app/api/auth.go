package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

const tokenKey = "pecan.token"

// access is what a route demands of the caller.
type access struct {
	needsToken bool
	scope      models.Scope // "" with needsToken: any valid token
	// appTokens lets app tokens (client credentials, no user) in, on the
	// few routes pnut allows them on. Elsewhere they get 403.
	appTokens bool
}

var (
	public   = access{}
	anyToken = access{needsToken: true}
)

func needs(scope models.Scope) access { return access{needsToken: true, scope: scope} }

// orAppToken lets app tokens use a route too.
func orAppToken(a access) access {
	a.appTokens = true
	return a
}

// bearer pulls the raw token from the Authorization header or, as pnut
// allows for streams, the access_token query parameter.
func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if scheme, raw, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(raw)
	}
	return c.QueryParam("access_token")
}

// authErrKey holds why a sent token did not authenticate.
const authErrKey = "pecan.auth_error"

// authenticate resolves the token, if one was sent. A token that does not
// work is not refused here but recorded for refuseFailedAuth: the rate
// limiter has to count the attempt first, or token guessing would cost
// nothing but a database lookup each.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := bearer(c)
		if raw == "" {
			return next(c)
		}
		tok, err := s.tokens.Authenticate(c.Request().Context(), raw)
		if err != nil {
			c.Set(authErrKey, err)
			return next(c)
		}
		c.Set(tokenKey, tok)
		c.Response().Header().Set("X-OAuth-Scopes", tok.Scopes.String())
		return next(c)
	}
}

// refuseFailedAuth answers a token that was sent but does not work with
// its 401, even on public routes, so a client learns at once that its
// credentials went stale.
func refuseFailedAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err, _ := c.Get(authErrKey).(error); err != nil {
			return err
		}
		return next(c)
	}
}

// caller is the token a request was made with, or nil.
func caller(c echo.Context) *models.Token {
	tok, _ := c.Get(tokenKey).(*models.Token)
	return tok
}

// viewer is the signed-in user, or nil.
func viewer(c echo.Context) *models.User {
	if tok := caller(c); tok != nil {
		return tok.User
	}
	return nil
}

// require wraps a handler with the route's access rule.
func require(a access, h echo.HandlerFunc) echo.HandlerFunc {
	if !a.needsToken {
		return h
	}
	return func(c echo.Context) error {
		tok := caller(c)
		if tok == nil {
			return errs.Unauthorized("token_missing", "this call needs an access token")
		}
		if tok.IsAppToken() && !a.appTokens {
			return errs.Forbidden("user_token_required", "this call needs a user token; app tokens cannot use it")
		}
		if a.scope != "" && !tok.Scopes.Has(a.scope) {
			return errs.Forbidden("scope_missing", "this call needs the %q scope", a.scope)
		}
		return h(c)
	}
}
