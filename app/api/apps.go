package api

import (
	"encoding/json"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/models"
)

// uriList accepts redirect URIs as a JSON list or one string with the URIs
// separated by whitespace (a URI never holds any).
type uriList []string

func (l *uriList) UnmarshalJSON(data []byte) error {
	var list []string
	if err := json.Unmarshal(data, &list); err == nil {
		*l = list
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errs.Invalid("redirect_uris", "invalid_type", "redirect_uris must be a list of URIs or a string of them separated by spaces")
	}
	*l = strings.Fields(s)
	return nil
}

type appBody struct {
	Name         string    `json:"name"`
	Website      string    `json:"website"`
	RedirectURIs uriList   `json:"redirect_uris"`
	Scopes       scopeList `json:"scopes"`
}

func (s *server) createApp(c echo.Context) error {
	var body appBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	scopes, err := models.ParseScopes(body.Scopes.value)
	if err != nil {
		return errs.Invalid("scopes", "unknown_scope", "%v", err)
	}
	reg, err := s.oauth.RegisterApp(c.Request().Context(), oauth.NewApp{
		Name: body.Name, Website: body.Website, RedirectURIs: body.RedirectURIs, Scopes: scopes, Owner: viewer(c),
	})
	if err != nil {
		return err
	}
	return created(c, convert.ToApp(reg.App, reg.Secret))
}

func (s *server) listApps(c echo.Context) error {
	apps, err := s.oauth.OwnedApps(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	return ok(c, convert.ToApps(apps))
}

func (s *server) getApp(c echo.Context) error {
	id, err := pathID(c, "id", "app")
	if err != nil {
		return err
	}
	a, err := s.oauth.OwnedApp(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToApp(a, ""))
}

// deleteApp removes the app; every token it holds stops working at once.
func (s *server) deleteApp(c echo.Context) error {
	id, err := pathID(c, "id", "app")
	if err != nil {
		return err
	}
	a, err := s.oauth.DeleteApp(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToApp(a, ""))
}

// listAuthorizations shows the apps the caller let in, with their tokens.
func (s *server) listAuthorizations(c echo.Context) error {
	list, err := s.oauth.Authorizations(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	out := make([]convert.Authorization, len(list))
	for i, a := range list {
		out[i] = convert.ToAuthorization(a.Grant, a.Tokens)
	}
	return ok(c, out)
}

// revokeAuthorization withdraws consent from an app and revokes its tokens.
func (s *server) revokeAuthorization(c echo.Context) error {
	g, err := s.oauth.RevokeAuthorization(c.Request().Context(), viewer(c), c.Param("client_id"))
	if err != nil {
		return err
	}
	return ok(c, convert.ToAuthorization(g, nil))
}
