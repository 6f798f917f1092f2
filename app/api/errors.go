package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/errs"
)

// echoCodes gives a stable error_code to the errors echo itself raises.
var echoCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// errorHandler renders every error in the pnut shape. Anything that is not
// a known client error is a 500 whose error_id also goes to the log, so an
// operator can find the cause from what the user reports.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		meta := metaFor(err)
		if meta.ErrorCode == "internal_error" {
			meta.ErrorID = newErrorID()
			logger.ErrorContext(c.Request().Context(), "request failed",
				"error", err.Error(), "error_id", meta.ErrorID,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "path", c.Request().URL.Path)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(meta.Code)
			return
		}
		_ = render(c, Envelope{Meta: meta})
	}
}

func metaFor(err error) Meta {
	// A 503 says the server is busy, which the client may know and act on.
	if e, ok := errs.As(err); ok && (e.Status < http.StatusInternalServerError || e.Status == http.StatusServiceUnavailable) {
		return Meta{Code: e.Status, ErrorMessage: e.Message, ErrorCode: e.Code, Field: e.Field}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code < http.StatusInternalServerError {
		code, ok := echoCodes[he.Code]
		if !ok {
			code = "error"
		}
		msg := http.StatusText(he.Code)
		if s, isString := he.Message.(string); isString && s != "" {
			msg = s
		}
		return Meta{Code: he.Code, ErrorMessage: msg, ErrorCode: code}
	}
	return Meta{Code: http.StatusInternalServerError, ErrorMessage: "Internal Server Error", ErrorCode: "internal_error"}
}

func newErrorID() string {
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}
