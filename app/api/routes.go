package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// route is one API endpoint with its access rule and, where it differs from
// the method's default, its rate-limit class. This table is the one place
// scopes are declared, and where the few routes that take app tokens are
// marked (orAppToken).
type route struct {
	method string
	path   string
	access access
	class  rateClass
	handle echo.HandlerFunc
}

func (s *server) routes() []route {
	return []route{
		{http.MethodGet, "/token", orAppToken(anyToken), "", s.getToken},
		{http.MethodDelete, "/token", orAppToken(anyToken), "", s.deleteToken},
		{http.MethodGet, "/tokens", needs(models.ScopeTokens), "", s.listTokens},
		{http.MethodPost, "/tokens", needs(models.ScopeTokens), classTokenCreation, s.createToken},
		{http.MethodDelete, "/tokens/:id", needs(models.ScopeTokens), "", s.revokeToken},
		{http.MethodGet, "/tokens/apps", needs(models.ScopeTokens), "", s.listAuthorizations},
		{http.MethodDelete, "/tokens/apps/:client_id", needs(models.ScopeTokens), "", s.revokeAuthorization},

		{http.MethodPost, "/apps", needs(models.ScopeTokens), classTokenCreation, s.createApp},
		{http.MethodGet, "/apps", needs(models.ScopeTokens), "", s.listApps},
		{http.MethodGet, "/apps/:id", needs(models.ScopeTokens), "", s.getApp},
		{http.MethodDelete, "/apps/:id", needs(models.ScopeTokens), "", s.deleteApp},

		{http.MethodGet, "/users", public, "", s.getUsers},
		{http.MethodGet, "/users/:id", public, "", s.getUser},
		{http.MethodPatch, "/users/me", needs(models.ScopeUpdateProfile), "", s.patchMe},
		{http.MethodGet, "/users/:id/posts", public, "", s.userPosts},
		{http.MethodPut, "/users/:id/follow", needs(models.ScopeFollow), "", s.graphAction(s.follow)},
		{http.MethodDelete, "/users/:id/follow", needs(models.ScopeFollow), "", s.graphAction(s.unfollow)},
		{http.MethodPut, "/users/:id/mute", needs(models.ScopeFollow), "", s.graphAction(s.mute)},
		{http.MethodDelete, "/users/:id/mute", needs(models.ScopeFollow), "", s.graphAction(s.unmute)},
		{http.MethodPut, "/users/:id/block", needs(models.ScopeFollow), "", s.graphAction(s.block)},
		{http.MethodDelete, "/users/:id/block", needs(models.ScopeFollow), "", s.graphAction(s.unblock)},
		{http.MethodGet, "/users/:id/following", orAppToken(anyToken), "", s.relationList(database.Follows, false, false)},
		{http.MethodGet, "/users/:id/followers", orAppToken(anyToken), "", s.relationList(database.Follows, true, false)},
		{http.MethodGet, "/users/me/muted", anyToken, "", s.relationList(database.Mutes, false, true)},
		{http.MethodGet, "/users/me/blocked", anyToken, "", s.relationList(database.Blocks, false, true)},

		{http.MethodPost, "/posts", needs(models.ScopeWritePost), "", s.createPost},
		{http.MethodGet, "/posts", public, "", s.getPosts},
		{http.MethodGet, "/posts/:id", public, "", s.getPost},
		{http.MethodPut, "/posts/:id", needs(models.ScopeWritePost), "", s.revisePost},
		{http.MethodDelete, "/posts/:id", needs(models.ScopeWritePost), "", s.postAction(http.StatusOK, s.deletePost)},
		{http.MethodGet, "/posts/:id/revisions", public, "", s.postRevisions},
		{http.MethodGet, "/posts/:id/thread", public, "", s.thread},
		{http.MethodPut, "/posts/:id/repost", needs(models.ScopeWritePost), "", s.postAction(http.StatusCreated, s.repost)},
		{http.MethodDelete, "/posts/:id/repost", needs(models.ScopeWritePost), "", s.postAction(http.StatusOK, s.unrepost)},
		{http.MethodPut, "/posts/:id/bookmark", needs(models.ScopeWritePost), "", s.postAction(http.StatusOK, s.bookmark)},
		{http.MethodDelete, "/posts/:id/bookmark", needs(models.ScopeWritePost), "", s.postAction(http.StatusOK, s.unbookmark)},
		{http.MethodPost, "/text/process", public, "", s.processText},

		{http.MethodGet, "/posts/streams/global", public, "", s.globalStream},
		{http.MethodGet, "/posts/streams/me", needs(models.ScopeStream), "", s.personalStream},
		{http.MethodGet, "/posts/streams/unified", needs(models.ScopeStream), "", s.unifiedStream},
		{http.MethodGet, "/posts/tags/:tag", public, "", s.tagStream},
		{http.MethodGet, "/users/:id/mentions", public, "", s.mentionStream},
		{http.MethodGet, "/users/:id/bookmarks", anyToken, "", s.bookmarkStream},

		{http.MethodPost, "/markers", anyToken, "", s.postMarkers},
		{http.MethodGet, "/markers", anyToken, "", s.getMarkers},

		{http.MethodPost, "/webhooks", needs(models.ScopeWebhooks), "", s.createWebhook},
		{http.MethodGet, "/webhooks", needs(models.ScopeWebhooks), "", s.listWebhooks},
		{http.MethodGet, "/webhooks/:id", needs(models.ScopeWebhooks), "", s.getWebhook},
		{http.MethodPatch, "/webhooks/:id", needs(models.ScopeWebhooks), "", s.updateWebhook},
		{http.MethodDelete, "/webhooks/:id", needs(models.ScopeWebhooks), "", s.deleteWebhook},
		{http.MethodPost, "/webhooks/:id/test", needs(models.ScopeWebhooks), "", s.testWebhook},
		{http.MethodPost, "/webhooks/:id/rotate_secret", needs(models.ScopeWebhooks), "", s.rotateWebhookSecret},
		{http.MethodGet, "/webhooks/:id/deliveries", needs(models.ScopeWebhooks), "", s.webhookDeliveries},
		{http.MethodPost, "/webhooks/:id/deliveries/:delivery_id/redeliver", needs(models.ScopeWebhooks), "", s.redeliver},

		{http.MethodPost, "/crosspost/targets", needs(models.ScopeWritePost), "", s.createTarget},
		{http.MethodGet, "/crosspost/targets", needs(models.ScopeWritePost), "", s.listTargets},
		{http.MethodGet, "/crosspost/targets/:id", needs(models.ScopeWritePost), "", s.getTarget},
		{http.MethodDelete, "/crosspost/targets/:id", needs(models.ScopeWritePost), "", s.deleteTarget},
		{http.MethodGet, "/openapi.json", public, "", s.openAPI},
	}
}

// register mounts the route table under g.
func (s *server) register(g *echo.Group) {
	for _, r := range s.routes() {
		added := g.Add(r.method, r.path, require(r.access, r.handle))
		if r.class != "" {
			s.rateClasses[r.method+" "+added.Path] = r.class
		}
	}
}
