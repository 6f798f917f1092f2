package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/web"
)

// registerPages mounts the public web pages and the API reference. They
// keep out of the API's token and body rules, render their own errors as
// pages, and the pages (not their stylesheets and scripts) count against
// the visitor's read limit like any unauthenticated read.
func (s *server) registerPages(e *echo.Echo) {
	s.pages = web.New(web.Deps{
		Site: convert.Site{Base: s.cfg.PublicURL()}, Users: s.users, Posts: s.posts, Streams: s.streams, Logger: s.logger,
	})
	for _, r := range s.pages.Routes() {
		h := r.Handle
		if r.Limit {
			h = s.pageRateLimit(h)
		}
		e.Add(http.MethodGet, r.Path, h)
		e.Add(http.MethodHead, r.Path, h)
		s.pageRoutes[r.Path] = true
	}
	s.actorPage = s.pageRateLimit(s.pages.ActorPage)
	s.notePage = s.pageRateLimit(s.pages.NotePage)
}

// pageRateLimit answers a visitor over the limit with a short page, not
// the API's JSON.
func (s *server) pageRateLimit(h echo.HandlerFunc) echo.HandlerFunc {
	limited := s.rateLimit(h)
	return func(c echo.Context) error {
		err := limited(c)
		if meta := metaFor(err); err != nil && meta.Code == http.StatusTooManyRequests {
			return c.HTML(http.StatusTooManyRequests, "<!DOCTYPE html>\n<title>Too many requests</title>\n<p>Too many requests. Please wait a minute and try again.</p>\n")
		}
		return err
	}
}
