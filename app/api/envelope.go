package api

import (
	"net/http"
	"sync"

	"github.com/segmentio/encoding/json"

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
	if c.Request().Header.Get("X-Pretty-Json") != "" {
		body, err := json.MarshalIndent(env, "", "  ")
		if err != nil {
			return err
		}
		return c.Blob(env.Meta.Code, echo.MIMEApplicationJSON, append(body, '\n'))
	}
	buf := bodies.Get().(*[]byte)
	defer recycleBody(buf)
	body, err := json.Append((*buf)[:0], env, json.EscapeHTML|json.SortMapKeys)
	if err != nil {
		return err
	}
	*buf = append(body, '\n')
	// Blob has written the bytes to the connection (or its buffer) by the
	// time it returns, so buf may be reused.
	return c.Blob(env.Meta.Code, echo.MIMEApplicationJSON, *buf)
}

// bodies recycles response buffers. A page of posts is some 30 kB, and
// a fresh buffer for each (and a copy to add the newline) was two fifths
// of the bytes a stream read allocated.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody keeps the odd huge answer (a 200-post page) from staying
// in memory as a pooled buffer.
const maxPooledBody = 256 << 10

func recycleBody(buf *[]byte) {
	if cap(*buf) <= maxPooledBody {
		bodies.Put(buf)
	}
}

// ok answers 200 with data.
func ok(c echo.Context, data any) error {
	return render(c, Envelope{Meta: Meta{Code: http.StatusOK}, Data: data})
}

// created answers 201 with data.
func created(c echo.Context, data any) error {
	return render(c, Envelope{Meta: Meta{Code: http.StatusCreated}, Data: data})
}
