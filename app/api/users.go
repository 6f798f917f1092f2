package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/users"
)

func (s *server) getUser(c echo.Context) error {
	u, err := s.users.Lookup(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return err
	}
	return ok(c, convert.ToUser(u, viewer(c)))
}

func (s *server) getUsers(c echo.Context) error {
	ids := c.QueryParam("ids")
	if strings.TrimSpace(ids) == "" {
		return errs.Invalid("ids", "ids_missing", "ids must list user ids or @usernames, comma-separated")
	}
	found, err := s.users.LookupMany(c.Request().Context(), splitList(ids))
	if err != nil {
		return err
	}
	return ok(c, convert.ToUsers(found, viewer(c)))
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// profileBody is PATCH /users/me: pnut nests the profile text in content.
type profileBody struct {
	Name     *string `json:"name"`
	Locale   *string `json:"locale"`
	Timezone *string `json:"timezone"`
	Content  *struct {
		Text *string `json:"text"`
	} `json:"content"`
}

func (s *server) patchMe(c echo.Context) error {
	var body profileBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	in := users.ProfileUpdate{Name: body.Name, Locale: body.Locale, Timezone: body.Timezone}
	if body.Content != nil {
		in.Text = body.Content.Text
	}
	u, err := s.users.UpdateProfile(c.Request().Context(), viewer(c), in)
	if err != nil {
		return err
	}
	return ok(c, convert.ToUser(u, u))
}
