package web

import (
	"embed"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// swaggerUI is Swagger UI's distribution (see static/swagger-ui/README.md),
// embedded so /docs works without reaching any other server.
//
//go:embed static/swagger-ui/swagger-ui-bundle.js static/swagger-ui/swagger-ui.css static/swagger-ui/docs.js static/swagger-ui/LICENSE static/swagger-ui/NOTICE
var swaggerUI embed.FS

// docsCSP lets Swagger UI run its own scripts and call this server's API
// (for "Try it out"), and nothing else. It sets styles inline as it draws.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var docsTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	"":     "text/plain; charset=utf-8",
}

func (p *Pages) docsPage(c echo.Context) error {
	v := view{Title: "API reference", Description: "The Pecan API, browsable.", Canonical: p.site.Base + "/docs",
		ExtraCSS: "/docs/swagger-ui.css", Wide: true, csp: docsCSP}
	return p.render(c, http.StatusOK, "docs", v)
}

// docsAsset serves Swagger UI's files, compressed, cached for a day.
var docsAsset = middleware.Gzip()(func(c echo.Context) error {
	name := c.Param("file")
	data, err := swaggerUI.ReadFile("static/swagger-ui/" + name)
	if err != nil || path.Base(name) != name {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, docsTypes[path.Ext(name)], data)
})
