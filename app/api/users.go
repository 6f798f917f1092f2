package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/models"
)

func (s *server) getUser(c echo.Context) error {
	u, err := s.users.Lookup(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return err
	}
	return s.renderUser(c, u)
}

// usersViewer loads how the caller stands with the users about to be shown.
func (s *server) usersViewer(c echo.Context, list []*models.User) (convert.Viewer, error) {
	rel, err := s.graph.RelationsWith(c.Request().Context(), viewer(c), list)
	return convert.Viewer{User: viewer(c), Relations: rel, PublicURL: s.cfg.PublicURL()}, err
}

func (s *server) renderUser(c echo.Context, u *models.User) error {
	v, err := s.usersViewer(c, []*models.User{u})
	if err != nil {
		return err
	}
	return ok(c, convert.ToUser(u, v))
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
	v, err := s.usersViewer(c, found)
	if err != nil {
		return err
	}
	return ok(c, convert.ToUsers(found, v))
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
	return s.renderUser(c, u)
}
