// Package graph holds the rules of the social graph: who follows, mutes
// and blocks whom, and the counts those keep.
package graph

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/events"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/models"
)

// Processor applies the graph rules.
type Processor struct {
	db        *database.DB
	events    events.Sink
	now       func() time.Time
	followURL func(requestID int64) string

	cache      *relationCache // nil: every page asks the database
	forgetting *kv.Forgetting
}

// New returns a graph processor that tells sink of follows. followURL
// names the Follow activity of a follow request to a remote user.
func New(db *database.DB, sink events.Sink, now func() time.Time, followURL func(requestID int64) string) *Processor {
	p := &Processor{db: db, events: sink, now: now, followURL: followURL}
	p.forgetting = kv.NewForgetting(forgetTopic, func(about string) { p.cache.forget(about) })
	return p
}

// forgetTopic is the notice on which every replica forgets relations.
const forgetTopic = "graph.forget"

// CacheRelationsFor lets what a viewer's follows, mutes and blocks are
// with a user be remembered for ttl (0: never). A change made through
// this processor is seen at once here, and on the replicas that share
// notices (ShareForgetting); one that no notice tells of within ttl.
func (p *Processor) CacheRelationsFor(ttl time.Duration) {
	p.cache = nil
	if ttl > 0 {
		p.cache = newRelationCache(ttl)
	}
}

// ShareForgetting tells every replica sharing n of each change to a
// follow, mute or block, so none shows the old relation.
func (p *Processor) ShareForgetting(n kv.Notices, logger *slog.Logger) {
	p.forgetting.Share(n, logger, "they see follows, mutes and blocks made here within http.relation_cache_ttl")
}

// ListenForForgets applies the other replicas' changes to this process's
// cache until ctx ends. A serving process runs it.
func (p *Processor) ListenForForgets(ctx context.Context) {
	if p.cache != nil {
		p.forgetting.Listen(ctx)
	}
}

// changed forgets, here and on every replica, what the users stand with
// anyone: a follow, mute or block between them was made or ended. It runs
// once the change is committed, so a page read meanwhile cannot cache
// what was there before.
func (p *Processor) changed(ctx context.Context, users ...int64) {
	p.forgetting.Forget(ctx, aboutUsers(users))
}

// changedIfDone is changed for a deferred call: a change that failed was
// rolled back, and there is nothing to forget.
func (p *Processor) changedIfDone(ctx context.Context, err *error, users ...int64) {
	if *err == nil {
		p.changed(ctx, users...)
	}
}

func notSelf(viewer, target *models.User) error {
	if viewer.ID == target.ID {
		return errs.Invalid("user_id", "cannot_target_self", "you cannot do that to yourself")
	}
	return nil
}

// Follow makes viewer follow target, unless either blocks the other.
func (p *Processor) Follow(ctx context.Context, viewer, target *models.User) (err error) {
	if err := notSelf(viewer, target); err != nil {
		return err
	}
	defer p.changedIfDone(ctx, &err, viewer.ID, target.ID)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if blocked, err := p.blockedEitherWay(ctx, q, viewer.ID, target.ID); err != nil || blocked {
			if err == nil {
				err = errs.Forbidden("blocked", "you cannot follow this user")
			}
			return err
		}
		if target.Remote() {
			return p.requestFollow(ctx, q, viewer, target)
		}
		_, err := p.addFollow(ctx, q, viewer.ID, target.ID, "")
		return err
	})
}

// addFollow records a follow with its counts and tells the sinks, and
// reports whether it is new. apID is the Follow activity behind it, if any.
func (p *Processor) addFollow(ctx context.Context, q database.Queries, follower, followee int64, apID string) (bool, error) {
	now := p.now().UTC()
	added, err := q.AddRelation(ctx, database.Follows, follower, followee, now)
	if err != nil || !added {
		return false, err
	}
	if apID != "" {
		if err := q.SetFollowActivity(ctx, follower, followee, apID); err != nil {
			return false, err
		}
	}
	if err := followCounts(ctx, q, follower, followee, 1); err != nil {
		return false, err
	}
	return true, p.events.Emit(ctx, q, models.Event{Type: models.EventUserFollowed, ActorID: follower, SubjectID: followee, ObjectID: apID, At: now})
}

// Unfollow ends a follow, or withdraws a follow request, if there was one.
func (p *Processor) Unfollow(ctx context.Context, viewer, target *models.User) (err error) {
	defer p.changedIfDone(ctx, &err, viewer.ID, target.ID)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if err := p.withdrawRequest(ctx, q, viewer.ID, target.ID); err != nil {
			return err
		}
		return p.unfollow(ctx, q, viewer.ID, target.ID)
	})
}

func (p *Processor) unfollow(ctx context.Context, q database.Queries, follower, followee int64) error {
	apID, err := q.FollowActivity(ctx, follower, followee)
	if err != nil {
		return err
	}
	removed, err := q.RemoveRelation(ctx, database.Follows, follower, followee)
	if err != nil || !removed {
		return err
	}
	if err := followCounts(ctx, q, follower, followee, -1); err != nil {
		return err
	}
	return p.events.Emit(ctx, q, models.Event{Type: models.EventUserUnfollowed, ActorID: follower, SubjectID: followee, ObjectID: apID, At: p.now().UTC()})
}

func followCounts(ctx context.Context, q database.Queries, follower, followee int64, delta int) error {
	if err := q.AddToUserCount(ctx, follower, database.CountFollowing, delta); err != nil {
		return err
	}
	return q.AddToUserCount(ctx, followee, database.CountFollowers, delta)
}

func (p *Processor) blockedEitherWay(ctx context.Context, q database.Queries, a, b int64) (bool, error) {
	out, err := q.RelatedAmong(ctx, database.Blocks, a, []int64{b}, false)
	if err != nil || out[b] {
		return out[b], err
	}
	in, err := q.RelatedAmong(ctx, database.Blocks, a, []int64{b}, true)
	return in[b], err
}

// Mute hides target's posts from viewer's streams.
func (p *Processor) Mute(ctx context.Context, viewer, target *models.User) (err error) {
	if err := notSelf(viewer, target); err != nil {
		return err
	}
	defer p.changedIfDone(ctx, &err, viewer.ID, target.ID)
	_, err = p.db.AddRelation(ctx, database.Mutes, viewer.ID, target.ID, p.now().UTC())
	return err
}

// Unmute undoes a mute.
func (p *Processor) Unmute(ctx context.Context, viewer, target *models.User) (err error) {
	defer p.changedIfDone(ctx, &err, viewer.ID, target.ID)
	_, err = p.db.RemoveRelation(ctx, database.Mutes, viewer.ID, target.ID)
	return err
}

// Block hides each from the other and ends follows both ways.
func (p *Processor) Block(ctx context.Context, viewer, target *models.User) (err error) {
	if err := notSelf(viewer, target); err != nil {
		return err
	}
	defer p.changedIfDone(ctx, &err, viewer.ID, target.ID)
	return p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if _, err := q.AddRelation(ctx, database.Blocks, viewer.ID, target.ID, p.now().UTC()); err != nil {
			return err
		}
		if err := p.withdrawRequest(ctx, q, viewer.ID, target.ID); err != nil {
			return err
		}
		if err := p.unfollow(ctx, q, viewer.ID, target.ID); err != nil {
			return err
		}
		return p.removeFollower(ctx, q, target.ID, viewer.ID)
	})
}

// Unblock undoes a block; the follows it ended stay ended.
func (p *Processor) Unblock(ctx context.Context, viewer, target *models.User) (err error) {
	defer p.changedIfDone(ctx, &err, viewer.ID, target.ID)
	_, err = p.db.RemoveRelation(ctx, database.Blocks, viewer.ID, target.ID)
	return err
}

// Relations is how the viewer stands with each of a set of users.
type Relations struct {
	YouFollow, FollowsYou, YouMuted, YouBlocked map[int64]bool
}

// RelationsWith loads the viewer's relations with users, in one query.
func (p *Processor) RelationsWith(ctx context.Context, viewer *models.User, users []*models.User) (Relations, error) {
	r, _, err := p.Standing(ctx, viewer, users, nil)
	return r, err
}

// Standing loads the viewer's relations with users, and which of the
// posts (by id) they bookmarked and reposted: in one query, or in none
// when the cache knows every user and there are no posts to ask about.
func (p *Processor) Standing(ctx context.Context, viewer *models.User, users []*models.User, postIDs []int64) (Relations, database.Standing, error) {
	if viewer == nil {
		return Relations{}, database.Standing{}, nil
	}
	ids := make([]int64, 0, len(users))
	for _, u := range users {
		if u != nil && u.ID != viewer.ID { // no one stands anywhere with themselves
			ids = append(ids, u.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids) // a page shows its authors many times over
	rel := Relations{YouFollow: map[int64]bool{}, FollowsYou: map[int64]bool{}, YouMuted: map[int64]bool{}, YouBlocked: map[int64]bool{}}
	now := p.now()
	missing := p.cache.known(viewer.ID, ids, now, rel)
	s := database.Standing{Bookmarked: map[int64]bool{}, Reposted: map[int64]bool{}}
	if len(missing) > 0 || len(postIDs) > 0 {
		generation := p.cache.begin()
		var err error
		if s, err = p.db.StandingOf(ctx, viewer.ID, missing, postIDs); err != nil {
			return Relations{}, s, err
		}
		p.cache.put(viewer.ID, missing, s, now, generation)
		for _, id := range missing {
			rel.add(id, relationIn(s, id))
		}
	}
	s.YouFollow, s.FollowsYou, s.YouMuted, s.YouBlocked = rel.YouFollow, rel.FollowsYou, rel.YouMuted, rel.YouBlocked
	return rel, s, nil
}

// Page lists one page of a user's follows, followers, mutes or blocks,
// newest first. As on pnut streams, a negative count takes the oldest
// within the bounds (still shown newest first).
func (p *Processor) Page(ctx context.Context, g database.Graph, userID int64, incoming bool, beforeID, sinceID int64, count int) ([]database.RelationUser, bool, error) {
	oldestFirst, n := count < 0, count
	if oldestFirst {
		n = -count
	}
	list, err := p.db.RelationPage(ctx, g, userID, incoming, beforeID, sinceID, n+1, oldestFirst)
	if err != nil {
		return nil, false, err
	}
	more := len(list) > n
	if more {
		list = list[:n]
	}
	if oldestFirst {
		slices.Reverse(list)
	}
	return list, more, nil
}
