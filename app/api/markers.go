package api

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
	"github.com/pecan-social/pecan/streams"
)

const markerMetaKey = "pecan.marker"

// streamMarker loads the reader's marker of a markable stream: nil when the
// stream has none or nobody is signed in, a zero marker when it was never set.
func (s *server) streamMarker(c echo.Context, name string) (*models.Marker, error) {
	v := viewer(c)
	if name == "" || v == nil {
		return nil, nil
	}
	m, found, err := s.markers.Get(c.Request().Context(), v.ID, name)
	if err != nil {
		return nil, err
	}
	if !found {
		m = models.Marker{Name: name}
	}
	return &m, nil
}

type markerBody struct {
	Name       string `json:"name"`
	ID         *Int   `json:"id"`
	Percentage *Int   `json:"percentage"`
	Version    *Int   `json:"version"`
}

// readMarkers takes pnut's array of markers, or a single marker object.
func readMarkers(c echo.Context) ([]markerBody, error) {
	if _, err := mediaType(c.Request()); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, readError(err)
	}
	raw = bytes.TrimSpace(raw)
	var list []markerBody
	if len(raw) > 0 && raw[0] == '{' {
		list = make([]markerBody, 1)
		err = json.Unmarshal(raw, &list[0])
	} else {
		err = json.Unmarshal(raw, &list)
	}
	if err != nil {
		return nil, jsonError(err)
	}
	return list, nil
}

func (s *server) postMarkers(c echo.Context) error {
	bodies, err := readMarkers(c)
	if err != nil {
		return err
	}
	reset := flag(c, "reset_read_id", false)
	updates := make([]streams.MarkerUpdate, len(bodies))
	for i, b := range bodies {
		if b.ID == nil {
			return errs.Invalid("id", "invalid_marker_id", "each marker needs an id")
		}
		updates[i] = streams.MarkerUpdate{Name: b.Name, ID: int64(*b.ID), ResetReadID: reset}
		if b.Percentage != nil {
			updates[i].Percentage = int(*b.Percentage)
		}
		if b.Version != nil {
			v := int64(*b.Version)
			updates[i].ExpectVersion = &v
		}
	}
	markers, err := s.markers.Update(c.Request().Context(), viewer(c).ID, updates)
	if err != nil {
		return err
	}
	return ok(c, convert.ToMarkers(markers))
}

func (s *server) getMarkers(c echo.Context) error {
	markers, err := s.markers.All(c.Request().Context(), viewer(c).ID)
	if err != nil {
		return err
	}
	return ok(c, convert.ToMarkers(markers))
}
