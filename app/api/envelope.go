package api

import (
	"github.com/segmentio/encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
)

// Meta is the pnut envelope's meta object.
type Meta struct {
	Code         int    `json:"code"`
	ErrorMessage string `json:"error_message,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorID      string `json:"error_id,omitempty"`
	Field        string `json:"field,omitempty"`
	MinID        string `json:"min_id,omitempty"`
	MaxID        string `json:"max_id,omitempty"`
	More         *bool  `json:"more,omitempty"`

	Marker *convert.Marker `json:"marker,omitempty"`
}

// Envelope is every /v1 response: meta, and data on success.
type Envelope struct {
	Meta Meta `json:"meta"`
	Data any  `json:"data,omitempty"`
}

// render writes an envelope, pretty-printed when the client sent
// X-Pretty-Json with any value.
func render(c echo.Context, env Envelope) error {
	var (
		body []byte
		err  error
	)
	if c.Request().Header.Get("X-Pretty-Json") != "" {
		body, err = json.MarshalIndent(env, "", "  ")
	} else {
		body, err = json.Marshal(env)
	}
	if err != nil {
		return err
	}
	return c.Blob(env.Meta.Code, echo.MIMEApplicationJSON, append(body, '\n'))
}

// ok answers 200 with data.
func ok(c echo.Context, data any) error {
	return render(c, Envelope{Meta: Meta{Code: http.StatusOK}, Data: data})
}

// created answers 201 with data.
func created(c echo.Context, data any) error {
	return render(c, Envelope{Meta: Meta{Code: http.StatusCreated}, Data: data})
}
