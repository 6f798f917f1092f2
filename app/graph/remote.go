package graph

import (
	"context"
	"errors"
	"slices"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// A follow of a remote user is a request until the remote server accepts
// it; a remote user's follow of a local one is accepted at once. These are
// the graph rules federation applies, through the same counts and events
// as local follows.

// requestFollow records a local user's follow of a remote user as a
// request and asks the sinks to send the Follow.
func (p *Processor) requestFollow(ctx context.Context, q database.Queries, follower, followee *models.User) error {
	following, err := q.RelatedAmong(ctx, database.Follows, follower.ID, []int64{followee.ID}, false)
	if err != nil || following[followee.ID] {
		return err
	}
	req, added, err := q.AddFollowRequest(ctx, follower.ID, followee.ID, p.now().UTC())
	if err != nil || !added {
		return err
	}
	return p.events.Emit(ctx, q, models.Event{Type: models.EventFollowRequested, ActorID: follower.ID, SubjectID: followee.ID, ObjectID: p.followURL(req.ID), At: req.CreatedAt})
}

// withdrawRequest drops a pending follow request, telling the remote side.
func (p *Processor) withdrawRequest(ctx context.Context, q database.Queries, follower, followee int64) error {
	req, err := q.FollowRequest(ctx, follower, followee)
	if errors.Is(err, database.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if deleted, err := q.DeleteFollowRequest(ctx, req.ID); err != nil || !deleted {
		return err
	}
	return p.events.Emit(ctx, q, models.Event{Type: models.EventUserUnfollowed, ActorID: follower, SubjectID: followee, ObjectID: p.followURL(req.ID), At: p.now().UTC()})
}

// Pending reports whether follower has asked to follow followee and waits
// for an answer.
func (p *Processor) Pending(ctx context.Context, follower, followee int64) (bool, error) {
	_, err := p.db.FollowRequest(ctx, follower, followee)
	if errors.Is(err, database.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// FollowAccepted turns the request behind a Follow this instance sent into
// a follow, when the remote user it went to (by) accepts it. It reports
// whether there was such a request.
func (p *Processor) FollowAccepted(ctx context.Context, requestID int64, by *models.User) (_ bool, err error) {
	found, follower := false, int64(0)
	defer func() {
		if found && err == nil {
			p.changed(ctx, follower, by.ID)
		}
	}()
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		req, err := q.FollowRequestByID(ctx, requestID)
		if errors.Is(err, database.ErrNotFound) || (err == nil && req.FolloweeID != by.ID) {
			return nil
		}
		if err != nil {
			return err
		}
		found, follower = true, req.FollowerID
		if _, err := q.DeleteFollowRequest(ctx, req.ID); err != nil {
			return err
		}
		_, err = p.addFollow(ctx, q, req.FollowerID, req.FolloweeID, p.followURL(req.ID))
		return err
	})
	return found, err
}

// FollowRejected ends a local user's follow of, or request to, the remote
// user who rejected it.
func (p *Processor) FollowRejected(ctx context.Context, follower int64, by *models.User) (err error) {
	defer p.changedIfDone(ctx, &err, follower, by.ID)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		req, err := q.FollowRequest(ctx, follower, by.ID)
		if err == nil {
			_, err = q.DeleteFollowRequest(ctx, req.ID)
		}
		if err != nil && !errors.Is(err, database.ErrNotFound) {
			return err
		}
		return p.unfollow(ctx, q, follower, by.ID)
	})
}

// RemoteFollow is a remote user's Follow (activity apID) of a local user:
// accepted at once, unless either blocks the other, when it is rejected.
// Either way the sinks are told, so the answer goes back.
func (p *Processor) RemoteFollow(ctx context.Context, follower, followee *models.User, apID string) (err error) {
	if follower.ID == followee.ID || !follower.Remote() || followee.Remote() {
		return errs.Invalid("object", "invalid_follow", "a remote user may follow only local users")
	}
	defer p.changedIfDone(ctx, &err, follower.ID, followee.ID)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		now := p.now().UTC()
		answer := models.Event{Type: models.EventFollowAccepted, ActorID: follower.ID, SubjectID: followee.ID, ObjectID: apID, At: now}
		blocked, err := p.blockedEitherWay(ctx, q, follower.ID, followee.ID)
		if err != nil {
			return err
		}
		if blocked {
			answer.Type = models.EventFollowRejected
			return p.events.Emit(ctx, q, answer)
		}
		added, err := p.addFollow(ctx, q, follower.ID, followee.ID, apID)
		if err != nil {
			return err
		}
		if !added { // a repeated Follow: answer again, with its own id
			if err := q.SetFollowActivity(ctx, follower.ID, followee.ID, apID); err != nil {
				return err
			}
		}
		return p.events.Emit(ctx, q, answer)
	})
}

// RemoteUnfollow is a remote user's Undo of their follow.
func (p *Processor) RemoteUnfollow(ctx context.Context, follower, followee *models.User) (err error) {
	defer p.changedIfDone(ctx, &err, follower.ID, followee.ID)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		return p.unfollow(ctx, q, follower.ID, followee.ID)
	})
}

// removeFollower ends follower's follow of a local user, as a block does;
// a remote follower's server is told with a Reject.
func (p *Processor) removeFollower(ctx context.Context, q database.Queries, follower, followee int64) error {
	apID, err := q.FollowActivity(ctx, follower, followee)
	if err != nil {
		return err
	}
	if err := p.unfollow(ctx, q, follower, followee); err != nil || apID == "" {
		return err
	}
	return p.events.Emit(ctx, q, models.Event{Type: models.EventFollowRejected, ActorID: follower, SubjectID: followee, ObjectID: apID, At: p.now().UTC()})
}

// RemoveAllFollows ends every follow to and from a remote actor that was
// deleted on its server.
func (p *Processor) RemoveAllFollows(ctx context.Context, actor *models.User) (err error) {
	followers, followees, err := p.db.FollowPairs(ctx, actor.ID)
	if err != nil {
		return err
	}
	defer p.changedIfDone(ctx, &err, slices.Concat(followers, followees, []int64{actor.ID})...)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		for _, id := range followers {
			if err := p.unfollow(ctx, q, id, actor.ID); err != nil {
				return err
			}
		}
		for _, id := range followees {
			if err := p.unfollow(ctx, q, actor.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
}
