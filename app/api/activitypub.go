package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/federation"
)

// Media types of the federation routes.
const (
	mediaActivity = "application/activity+json; charset=utf-8"
	mediaJRD      = "application/jrd+json; charset=utf-8"
)

// registerFederation mounts discovery and ActivityPub. These routes answer
// other servers, so they render ActivityPub, not the pnut envelope, and
// their errors are small JSON objects.
func (s *server) registerFederation(e *echo.Echo) {
	routes := []struct {
		method, path string
		handle       echo.HandlerFunc
	}{
		{http.MethodGet, "/.well-known/webfinger", s.webfinger},
		{http.MethodGet, "/.well-known/host-meta", s.hostMeta},
		{http.MethodGet, "/.well-known/nodeinfo", s.nodeInfoLinks},
		{http.MethodGet, "/nodeinfo/:version", s.nodeInfo},
		{http.MethodGet, "/actor", s.instanceActor},
		{http.MethodGet, "/users/:name", s.actor},
		{http.MethodGet, "/users/:name/outbox", s.outbox},
		{http.MethodGet, "/users/:name/followers", s.followCollection(true)},
		{http.MethodGet, "/users/:name/following", s.followCollection(false)},
		{http.MethodPost, "/users/:name/inbox", s.inbox},
		{http.MethodPost, "/inbox", s.inbox},
		{http.MethodGet, "/posts/:id", s.apPost},
	}
	for _, r := range routes {
		e.Add(r.method, r.path, federationErrors(r.handle))
		s.federationRoutes[r.path] = true
	}
}

// federationErrors renders errors as {"error": "..."} with their status.
func federationErrors(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		if err == nil {
			return nil
		}
		if e, ok := errs.As(err); ok && e.Status < 500 {
			return c.JSON(e.Status, map[string]string{"error": e.Message})
		}
		return err
	}
}

func activityJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, mediaActivity, b)
}

// wantsActivity reports whether the client asked for ActivityPub JSON;
// anyone else (a browser, a link preview) gets the page. Either way the
// answer varies with Accept.
func wantsActivity(c echo.Context) bool {
	c.Response().Header().Add("Vary", "Accept")
	accept := c.Request().Header.Get("Accept")
	return strings.Contains(accept, "application/activity+json") || strings.Contains(accept, "application/ld+json") ||
		strings.Contains(accept, "application/json")
}

func (s *server) webfinger(c echo.Context) error {
	resource := c.QueryParam("resource")
	if resource == "" {
		return errs.Invalid("resource", "invalid_resource", "resource is required")
	}
	jrd, err := s.fed.WebFinger(c.Request().Context(), resource)
	if err != nil {
		return err
	}
	b, err := json.Marshal(jrd)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, mediaJRD, b)
}

func (s *server) hostMeta(c echo.Context) error {
	template := s.fed.Site().Base + "/.well-known/webfinger?resource={uri}"
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" type="application/jrd+json" template="` +
		template + `"/></XRD>` + "\n"
	return c.Blob(http.StatusOK, "application/xrd+xml; charset=utf-8", []byte(doc))
}

func (s *server) nodeInfoLinks(c echo.Context) error {
	return c.JSON(http.StatusOK, s.fed.NodeInfoLinks())
}

func (s *server) nodeInfo(c echo.Context) error {
	version := c.Param("version")
	if version != "2.0" && version != "2.1" {
		return errs.NotFound("not_found", "NodeInfo %s is not served; 2.0 and 2.1 are", version)
	}
	doc, err := s.fed.NodeInfo(c.Request().Context(), version, s.version, false)
	if err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	profile := `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/` + version + `#"`
	return c.Blob(http.StatusOK, profile, b)
}

func (s *server) instanceActor(c echo.Context) error {
	doc, err := s.fed.InstanceActorDocument(c.Request().Context())
	if err != nil {
		return err
	}
	return activityJSON(c, http.StatusOK, doc)
}

func (s *server) actor(c echo.Context) error {
	if !wantsActivity(c) {
		return s.actorPage(c)
	}
	doc, err := s.fed.ActorDocument(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return activityJSON(c, http.StatusOK, doc)
}

func (s *server) outbox(c echo.Context) error {
	var maxID int64
	if v := c.QueryParam("max_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errs.Invalid("max_id", "invalid_max_id", "max_id must be a post id")
		}
		maxID = n
	}
	doc, err := s.fed.Outbox(c.Request().Context(), c.Param("name"), c.QueryParam("page") == "true", maxID)
	if err != nil {
		return err
	}
	return activityJSON(c, http.StatusOK, doc)
}

func (s *server) followCollection(followers bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		doc, err := s.fed.FollowCollection(c.Request().Context(), c.Param("name"), followers)
		if err != nil {
			return err
		}
		return activityJSON(c, http.StatusOK, doc)
	}
}

func (s *server) apPost(c echo.Context) error {
	if !wantsActivity(c) {
		return s.notePage(c)
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.NotFound("post_not_found", "no such post here")
	}
	doc, status, err := s.fed.PostDocument(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return activityJSON(c, status, doc)
}

// inbox takes an activity: 202 once it is verified and handled.
func (s *server) inbox(c echo.Context) error {
	r := c.Request()
	if name := c.Param("name"); name != "" {
		if _, err := s.fed.LocalActor(r.Context(), name); err != nil {
			return err
		}
	}
	if !federation.IsActivityPubType(r.Header.Get("Content-Type")) && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return &errs.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send activities as application/activity+json"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, federation.MaxDocument+1))
	if err != nil {
		return errs.Invalid("body", "invalid_body", "cannot read the body")
	}
	if err := s.fed.Receive(r.Context(), r, body); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}
