package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/apidoc"
)

// openAPI serves the OpenAPI document.
func (s *server) openAPI(c echo.Context) error {
	doc, err := apidoc.JSON()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}
