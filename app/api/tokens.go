package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

func (s *server) getToken(c echo.Context) error {
	return ok(c, convert.ToTokenInfo(caller(c), s.cfg.PublicURL()))
}

// deleteToken revokes the token the request was made with, and only it.
func (s *server) deleteToken(c echo.Context) error {
	tok := caller(c)
	revoked, err := s.tokens.Revoke(c.Request().Context(), tok)
	if err != nil {
		return err
	}
	return ok(c, convert.ToTokenInfo(revoked, s.cfg.PublicURL()))
}

func (s *server) listTokens(c echo.Context) error {
	list, err := s.tokens.List(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	return ok(c, convert.ToTokens(list))
}

// scopeList accepts scopes as a JSON list or a comma-separated string.
type scopeList struct {
	set   bool
	value string
}

func (l *scopeList) UnmarshalJSON(data []byte) error {
	var list []string
	if err := json.Unmarshal(data, &list); err == nil {
		l.set, l.value = true, strings.Join(list, ",")
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errs.Invalid("scopes", "invalid_type", "scopes must be a list of scope names or a comma-separated string")
	}
	l.set, l.value = true, s
	return nil
}

type tokenBody struct {
	Label     string    `json:"label"`
	Scopes    scopeList `json:"scopes"`
	ExpiresIn *Int      `json:"expires_in"` // seconds
}

func (s *server) createToken(c echo.Context) error {
	var body tokenBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	in, err := newTokenFrom(body)
	if err != nil {
		return err
	}
	raw, tok, err := s.tokens.IssueFor(c.Request().Context(), caller(c), in)
	if err != nil {
		return err
	}
	return created(c, convert.ToToken(tok, raw))
}

func newTokenFrom(body tokenBody) (tokens.NewToken, error) {
	if !body.Scopes.set {
		return tokens.NewToken{}, errs.Invalid("scopes", "scopes_missing", "scopes must name at least one scope")
	}
	scopes, err := models.ParseScopes(body.Scopes.value)
	if err != nil {
		return tokens.NewToken{}, errs.Invalid("scopes", "unknown_scope", "%v", err)
	}
	in := tokens.NewToken{Label: body.Label, Scopes: scopes}
	if body.ExpiresIn != nil {
		if *body.ExpiresIn <= 0 || *body.ExpiresIn > 10*365*24*3600 {
			return tokens.NewToken{}, errs.Invalid("expires_in", "invalid_expiry", "expires_in must be between 1 second and 10 years")
		}
		in.TTL = time.Duration(*body.ExpiresIn) * time.Second
	}
	return in, nil
}

func (s *server) revokeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.Invalid("id", "invalid_id", "token id must be a positive integer")
	}
	tok, err := s.tokens.RevokeByID(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToToken(tok, ""))
}
