package api

import (
	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
	"github.com/pecan-social/pecan/streams"
)

// graphAction is follow, mute and block and their undoing: act on the user
// named in the path, answer with that user as the caller now sees them.
func (s *server) graphAction(act func(c echo.Context, viewer, target *models.User) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		target, err := s.users.Lookup(c.Request().Context(), c.Param("id"), viewer(c))
		if err != nil {
			return err
		}
		if err := act(c, viewer(c), target); err != nil {
			return err
		}
		fresh, err := s.users.Lookup(c.Request().Context(), convert.ID(target.ID), viewer(c))
		if err != nil {
			return err
		}
		return s.renderUser(c, fresh)
	}
}

func (s *server) follow(c echo.Context, v, t *models.User) error {
	return s.graph.Follow(c.Request().Context(), v, t)
}
func (s *server) unfollow(c echo.Context, v, t *models.User) error {
	return s.graph.Unfollow(c.Request().Context(), v, t)
}
func (s *server) mute(c echo.Context, v, t *models.User) error {
	return s.graph.Mute(c.Request().Context(), v, t)
}
func (s *server) unmute(c echo.Context, v, t *models.User) error {
	return s.graph.Unmute(c.Request().Context(), v, t)
}
func (s *server) block(c echo.Context, v, t *models.User) error {
	return s.graph.Block(c.Request().Context(), v, t)
}
func (s *server) unblock(c echo.Context, v, t *models.User) error {
	return s.graph.Unblock(c.Request().Context(), v, t)
}

// relationList serves following, followers, muted and blocked lists, paged
// by the edge's id as pnut's pagination_id.
func (s *server) relationList(g database.Graph, incoming, ownOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ref := c.Param("id")
		if ownOnly {
			ref = "me"
		}
		u, err := s.users.Lookup(c.Request().Context(), ref, viewer(c))
		if err != nil {
			return err
		}
		page, err := streams.ParsePage(c.QueryParams(), nil)
		if err != nil {
			return err
		}
		list, more, err := s.graph.Page(c.Request().Context(), g, u.ID, incoming, page.BeforeID, page.SinceID, page.Count)
		if err != nil {
			return err
		}
		return s.renderRelationPage(c, list, more)
	}
}

func (s *server) renderRelationPage(c echo.Context, list []database.RelationUser, more bool) error {
	users := make([]*models.User, len(list))
	for i, r := range list {
		users[i] = r.User
	}
	v, err := s.usersViewer(c, users)
	if err != nil {
		return err
	}
	type paged struct {
		convert.User
		PaginationID string `json:"pagination_id"`
	}
	out := make([]paged, len(list))
	for i, r := range list {
		out[i] = paged{User: convert.ToUser(r.User, v), PaginationID: convert.ID(r.EdgeID)}
	}
	meta := Meta{Code: 200, More: &more}
	if n := len(list); n > 0 {
		meta.MaxID, meta.MinID = convert.ID(list[0].EdgeID), convert.ID(list[n-1].EdgeID)
	}
	return render(c, Envelope{Meta: meta, Data: out})
}
