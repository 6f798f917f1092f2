package federation

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// activity is what Pecan reads of an inbound activity.
type activity struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Actor  json.RawMessage `json:"actor"`
	Object json.RawMessage `json:"object"`
}

// idOf reads a reference that may be an id or an object with one.
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}

// embedded reads an object given inline; ok is false for a bare id.
func embedded(raw json.RawMessage) (activity, bool) {
	var a activity
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &a) != nil {
		return activity{}, false
	}
	return a, true
}

// Receive handles one inbound activity, from the shared inbox or a user's.
// Nothing is stored unless the request is signed by a key whose owner is
// the activity's actor, and the activity comes from the actor's own host.
// An activity id seen before is acknowledged and ignored.
func (s *Service) Receive(ctx context.Context, r *http.Request, body []byte) error {
	if len(body) > MaxDocument {
		return &errs.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "activities are at most 1 MB"}
	}
	if !strings.EqualFold(r.Host, s.site.Host()) {
		// A signature covers the Host it was made for: a request another
		// server received cannot be replayed here.
		return errs.Unauthorized("wrong_host", "this is %s, not %s", s.site.Host(), r.Host)
	}
	if s.unknownActorLeaving(ctx, body) {
		return nil
	}
	owner, err := s.verify(ctx, r, body)
	if err != nil {
		return err
	}
	var act activity
	if err := json.Unmarshal(body, &act); err != nil || act.Type == "" {
		return errs.Invalid("body", "invalid_activity", "the body is not an ActivityPub activity")
	}
	if actor := idOf(act.Actor); owner.ActorID == nil || actor != *owner.ActorID {
		return errs.Unauthorized("key_not_actor", "the request is signed by %s, not by the activity's actor %q", s.site.ActorOf(owner), actor)
	}
	if act.ID != "" && !sameHost(act.ID, *owner.ActorID) {
		return errs.Forbidden("foreign_activity", "activity %s is not on its actor's host", act.ID)
	}
	if err := s.dispatch(ctx, owner, act); err != nil {
		return err
	}
	if act.ID != "" {
		_, err = s.db.RecordInboxActivity(ctx, act.ID, s.clock())
	}
	return err
}

// unknownActorLeaving recognises the Delete a server sends everywhere when
// one of its accounts is deleted, for an actor Pecan never stored: there
// is nothing to remove, and its key cannot be fetched any more (the actor
// answers 410), so it is acknowledged without verifying, as Mastodon does.
func (s *Service) unknownActorLeaving(ctx context.Context, body []byte) bool {
	var act activity
	if json.Unmarshal(body, &act) != nil || act.Type != "Delete" {
		return false
	}
	actor := idOf(act.Actor)
	if actor == "" || idOf(act.Object) != actor {
		return false
	}
	_, err := s.db.UserByActorID(ctx, actor)
	return errors.Is(err, database.ErrNotFound)
}

// verify checks the HTTP Signature and returns the key's owner.
func (s *Service) verify(ctx context.Context, r *http.Request, body []byte) (*models.User, error) {
	var owner *models.User
	lookup := func(ctx context.Context, keyID string, refresh bool) (*rsa.PublicKey, error) {
		key, u, err := s.lookupKey(ctx, keyID, refresh)
		if err == nil {
			owner = u
		}
		return key, err
	}
	if _, err := VerifyRequest(ctx, r, body, s.now(), lookup); err != nil {
		s.logger.InfoContext(ctx, "inbox: refused a request", "error", err.Error())
		return nil, errs.Unauthorized("bad_signature", "the HTTP Signature does not verify: %v", err)
	}
	if owner == nil || !owner.Remote() {
		return nil, errs.Unauthorized("bad_signature", "the signing key belongs to no remote actor")
	}
	return owner, nil
}

func (s *Service) dispatch(ctx context.Context, actor *models.User, act activity) error {
	if act.ID != "" {
		if seen, err := s.seen(ctx, act.ID); err != nil || seen {
			return err
		}
	}
	switch act.Type {
	case "Follow":
		return s.onFollow(ctx, actor, act)
	case "Undo":
		return s.onUndo(ctx, actor, act)
	case "Accept", "Reject":
		return s.onAnswer(ctx, actor, act)
	case "Create":
		return s.onCreate(ctx, actor, act)
	case "Update":
		return s.onUpdate(ctx, actor, act)
	case "Delete":
		return s.onDelete(ctx, actor, act)
	case "Announce":
		return s.onAnnounce(ctx, actor, act)
	case "Like":
		return s.onLike(ctx, actor, act)
	}
	return nil // an activity Pecan has no use for is acknowledged all the same
}

func (s *Service) seen(ctx context.Context, id string) (bool, error) {
	n, err := s.db.Bun.NewSelect().Table("inbox_activities").Where("ap_id = ?", id).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("inbox activity %s: %w", id, err)
	}
	return n > 0, nil
}

// localUser is the local user an actor id names, or nil.
func (s *Service) localUser(ctx context.Context, actorID string) (*models.User, error) {
	name, ok := s.site.LocalUsername(actorID)
	if !ok {
		return nil, nil
	}
	u, err := s.db.UserByUsername(ctx, name)
	if err != nil || u.Remote() {
		return nil, nil //nolint:nilerr // an unknown local name is nobody
	}
	return u, nil
}

func (s *Service) onFollow(ctx context.Context, actor *models.User, act activity) error {
	target, err := s.localUser(ctx, idOf(act.Object))
	if err != nil || target == nil {
		return err
	}
	return s.graph.RemoteFollow(ctx, actor, target, act.ID)
}

// onUndo takes back a Follow, an Announce or a Like the actor made.
func (s *Service) onUndo(ctx context.Context, actor *models.User, act activity) error {
	inner, ok := embedded(act.Object)
	if !ok {
		// A bare id: only a repost can be found by the id of its Announce.
		return s.posts.UnrepostRemote(ctx, actor, idOf(act.Object))
	}
	if a := idOf(inner.Actor); a != "" && a != *actor.ActorID {
		return errs.Forbidden("foreign_activity", "an actor may undo only its own activities")
	}
	switch inner.Type {
	case "Follow":
		target, err := s.localUser(ctx, idOf(inner.Object))
		if err != nil || target == nil {
			return err
		}
		return s.graph.RemoteUnfollow(ctx, actor, target)
	case "Announce":
		return s.posts.UnrepostRemote(ctx, actor, inner.ID)
	case "Like":
		post, err := s.localPost(ctx, idOf(inner.Object))
		if err != nil || post == nil {
			return err
		}
		_, err = s.posts.Unbookmark(ctx, actor, post.ID)
		return ignoreMissing(err)
	}
	return nil
}

// onAnswer is a remote user's Accept or Reject of a local user's Follow.
func (s *Service) onAnswer(ctx context.Context, actor *models.User, act activity) error {
	followID := idOf(act.Object)
	reqID, byID := s.followRequestID(followID)
	follower := int64(0)
	if inner, ok := embedded(act.Object); ok {
		if inner.Type != "" && inner.Type != "Follow" {
			return nil
		}
		if u, err := s.localUser(ctx, idOf(inner.Actor)); err != nil || u != nil {
			if err != nil {
				return err
			}
			follower = u.ID
		}
	}
	if act.Type == "Accept" {
		if byID {
			if found, err := s.graph.FollowAccepted(ctx, reqID, actor); err != nil || found {
				return err
			}
		}
		if follower != 0 {
			if req, err := s.db.FollowRequest(ctx, follower, actor.ID); err == nil {
				_, err = s.graph.FollowAccepted(ctx, req.ID, actor)
				return err
			}
		}
		return nil
	}
	if follower == 0 && byID {
		if req, err := s.db.FollowRequestByID(ctx, reqID); err == nil {
			follower = req.FollowerID
		}
	}
	if follower == 0 {
		return nil
	}
	return s.graph.FollowRejected(ctx, follower, actor)
}

// followRequestID reads back the id of a Follow this instance sent.
func (s *Service) followRequestID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, s.site.Base+"/follows/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil
}

// onLike is a remote user's Like of a local post: a bookmark.
func (s *Service) onLike(ctx context.Context, actor *models.User, act activity) error {
	post, err := s.localPost(ctx, idOf(act.Object))
	if err != nil || post == nil {
		return err
	}
	_, err = s.posts.Bookmark(ctx, actor, post.ID, nil)
	return ignoreMissing(err)
}

// localPost is the local post a Note id names, or nil.
func (s *Service) localPost(ctx context.Context, noteID string) (*models.Post, error) {
	id, ok := s.site.LocalPostID(noteID)
	if !ok {
		return nil, nil
	}
	post, err := s.posts.Get(ctx, id)
	if err != nil {
		return nil, ignoreMissing(err)
	}
	return post, nil
}

func ignoreMissing(err error) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}
