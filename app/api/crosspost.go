package api

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/crosspost"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// targetBody is POST /crosspost/targets.
type targetBody struct {
	Kind        *string `json:"kind"`
	URL         *string `json:"url"`
	AccessToken *string `json:"access_token"`
	Actor       *string `json:"actor"`
}

func (s *server) createTarget(c echo.Context) error {
	var body targetBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	in := crosspost.TargetInput{URL: body.URL, AccessToken: body.AccessToken, Actor: body.Actor}
	if body.Kind != nil {
		in.Kind = *body.Kind
	}
	t, err := s.crosspost.CreateTarget(c.Request().Context(), viewer(c), in)
	if err != nil {
		return err
	}
	return created(c, convert.ToCrosspostTarget(t))
}

func (s *server) listTargets(c echo.Context) error {
	list, err := s.crosspost.Targets(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	return ok(c, convert.ToCrosspostTargets(list))
}

func (s *server) getTarget(c echo.Context) error {
	id, err := pathID(c, "id", "target")
	if err != nil {
		return err
	}
	t, err := s.crosspost.OwnedTarget(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToCrosspostTarget(t))
}

func (s *server) deleteTarget(c echo.Context) error {
	id, err := pathID(c, "id", "target")
	if err != nil {
		return err
	}
	t, err := s.crosspost.DeleteTarget(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToCrosspostTarget(t))
}

// crosspostChoice reads crosspost and crosspost_all of a post body.
func crosspostChoice(ids *idList, all *Bool) *models.CrosspostChoice {
	switch {
	case all != nil && bool(*all):
		return &models.CrosspostChoice{All: true}
	case ids != nil && len(*ids) > 0:
		return &models.CrosspostChoice{TargetIDs: *ids}
	}
	return nil
}

// idList accepts a JSON list of ids, as strings or numbers, or, as forms
// send it, one comma-separated string.
type idList []int64

func (l *idList) UnmarshalJSON(data []byte) error {
	var parts []json.Number
	if err := json.Unmarshal(data, &parts); err != nil {
		var s string
		if json.Unmarshal(data, &s) != nil {
			return errs.Invalid("crosspost", "invalid_crosspost", "crosspost must be a list of target ids")
		}
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				parts = append(parts, json.Number(part))
			}
		}
	}
	*l = idList{}
	for _, part := range parts {
		id, err := strconv.ParseInt(strings.Trim(string(part), `"`), 10, 64)
		if err != nil || id <= 0 {
			return errs.Invalid("crosspost", "invalid_crosspost", "crosspost must be a list of target ids; %q is not one", string(part))
		}
		*l = append(*l, id)
	}
	return nil
}

// attachDeliveries adds to the viewer's own posts where they stand at
// their crosspost targets.
func (s *server) attachDeliveries(c echo.Context, list []*models.Post, out []convert.Post) error {
	statuses, err := s.crosspost.Statuses(c.Request().Context(), viewer(c), list)
	if err != nil || len(statuses) == 0 {
		return err
	}
	for i, p := range list {
		if st, ok := statuses[p.ID]; ok {
			out[i].Deliveries = convert.ToCrosspostDeliveries(st)
		}
	}
	return nil
}
