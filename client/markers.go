package client

import (
	"context"
	"net/url"
)

// Marker names.
const (
	MarkerGlobal   = "global"
	MarkerPersonal = "personal" // shared by the personal and unified streams
	MarkerMentions = "mentions"
)

// MarkerUpdate moves one marker.
type MarkerUpdate struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Percentage int    `json:"percentage"`
	// Version, when set, makes the update conditional: if someone moved
	// the marker since you saw this version, the server answers 409 with
	// ErrorCode "marker_conflict".
	Version *int64 `json:"version,omitempty"`
}

// SetMarkers moves up to 10 markers at once. last_read_id only ever rises;
// see ResetMarkers.
func (c *Client) SetMarkers(ctx context.Context, updates ...MarkerUpdate) ([]Marker, error) {
	return c.setMarkers(ctx, nil, updates)
}

// ResetMarkers is SetMarkers that lets last_read_id move back too.
func (c *Client) ResetMarkers(ctx context.Context, updates ...MarkerUpdate) ([]Marker, error) {
	return c.setMarkers(ctx, url.Values{"reset_read_id": {"1"}}, updates)
}

func (c *Client) setMarkers(ctx context.Context, q url.Values, updates []MarkerUpdate) ([]Marker, error) {
	var out []Marker
	_, err := c.call(ctx, request{method: "POST", path: "/markers", query: q, body: updates}, &out)
	return out, err
}

// Markers lists all your markers.
func (c *Client) Markers(ctx context.Context) ([]Marker, error) {
	var out []Marker
	_, err := c.call(ctx, request{method: "GET", path: "/markers"}, &out)
	return out, err
}
