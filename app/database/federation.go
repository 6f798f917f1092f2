package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pecan-social/pecan/models"
)

// UserByActorID loads a user by ActivityPub actor id.
func (q Queries) UserByActorID(ctx context.Context, actorID string) (*models.User, error) {
	u := new(models.User)
	if err := q.idb.NewSelect().Model(u).Where("actor_id = ?", actorID).Scan(ctx); err != nil {
		return nil, notFound(err, "user "+actorID)
	}
	return u, nil
}

// UserByKeyID loads the remote user whose public key has this id.
func (q Queries) UserByKeyID(ctx context.Context, keyID string) (*models.User, error) {
	u := new(models.User)
	if err := q.idb.NewSelect().Model(u).Where("key_id = ?", keyID).Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "key "+keyID)
	}
	return u, nil
}

// SaveRemoteUser inserts a remote user, or refreshes the one with the same
// actor id, and returns it with its id.
func (q Queries) SaveRemoteUser(ctx context.Context, u *models.User) (*models.User, error) {
	existing, err := q.UserByActorID(ctx, *u.ActorID)
	if errors.Is(err, ErrNotFound) {
		if err := q.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		return u, nil
	}
	if err != nil {
		return nil, err
	}
	u.ID, u.CreatedAt = existing.ID, existing.CreatedAt
	if existing.Username != u.Username && !strings.EqualFold(existing.Username, u.Username) {
		// Keep the name it has (it may have been disambiguated); a rename on
		// the remote side does not rename it here.
		u.Username, u.UsernameKey = existing.Username, existing.UsernameKey
	}
	_, err = q.idb.NewUpdate().Model(u).
		Column("username", "username_key", "name", "type", "profile_text", "inbox_url", "shared_inbox_url",
			"profile_url", "key_id", "public_key_pem", "fetched_at", "updated_at").
		WherePK().Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("refresh remote user %s: %w", *u.ActorID, err)
	}
	return q.UserByID(ctx, u.ID)
}

// SetUserKeys stores a local user's key pair if they have none, and
// reports whether it did: once stored, a key pair never changes, so signers
// may keep it and other servers' copies stay right.
func (q Queries) SetUserKeys(ctx context.Context, userID int64, publicPEM, privatePEM string) (bool, error) {
	res, err := q.idb.NewUpdate().Model((*models.User)(nil)).
		Set("public_key_pem = ?", publicPEM).Set("private_key_pem = ?", privatePEM).
		Where("id = ? AND public_key_pem = '' AND private_key_pem = ''", userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store keys of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PostByAPID loads a remote post by its ActivityPub id.
func (q Queries) PostByAPID(ctx context.Context, apID string) (*models.Post, error) {
	p := new(models.Post)
	err := q.idb.NewSelect().Model(p).Relation("User", models.UserSummary).Where("post.ap_id = ?", apID).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "post "+apID)
	}
	return p, nil
}

// SetFollowActivity records the id of the Follow activity behind a follow.
func (q Queries) SetFollowActivity(ctx context.Context, follower, followee int64, apID string) error {
	_, err := q.idb.NewUpdate().Table("follows").Set("ap_id = ?", apID).
		Where("follower_id = ? AND followee_id = ?", follower, followee).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set follow activity %d→%d: %w", follower, followee, err)
	}
	return nil
}

// FollowActivity is the id of the Follow activity behind a follow, or "".
func (q Queries) FollowActivity(ctx context.Context, follower, followee int64) (string, error) {
	var apID []*string
	err := q.idb.NewSelect().Table("follows").Column("ap_id").
		Where("follower_id = ? AND followee_id = ?", follower, followee).Scan(ctx, &apID)
	if err != nil {
		return "", fmt.Errorf("follow activity %d→%d: %w", follower, followee, err)
	}
	if len(apID) == 0 || apID[0] == nil {
		return "", nil
	}
	return *apID[0], nil
}

// AddFollowRequest records a pending follow of a remote user; it returns
// the request, new or as it was.
func (q Queries) AddFollowRequest(ctx context.Context, follower, followee int64, now time.Time) (*models.FollowRequest, bool, error) {
	r := &models.FollowRequest{FollowerID: follower, FolloweeID: followee, CreatedAt: now}
	res, err := q.idb.NewInsert().Model(r).On("CONFLICT (follower_id, followee_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("add follow request %d→%d: %w", follower, followee, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return r, true, nil
	}
	existing, err := q.FollowRequest(ctx, follower, followee)
	return existing, false, err
}

// FollowRequest loads a pending follow.
func (q Queries) FollowRequest(ctx context.Context, follower, followee int64) (*models.FollowRequest, error) {
	r := new(models.FollowRequest)
	err := q.idb.NewSelect().Model(r).Where("follower_id = ? AND followee_id = ?", follower, followee).Scan(ctx)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("follow request %d→%d", follower, followee))
	}
	return r, nil
}

// FollowRequestByID loads a pending follow by id.
func (q Queries) FollowRequestByID(ctx context.Context, id int64) (*models.FollowRequest, error) {
	r := new(models.FollowRequest)
	if err := q.idb.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("follow request %d", id))
	}
	return r, nil
}

// DeleteFollowRequest removes a pending follow and reports whether there
// was one.
func (q Queries) DeleteFollowRequest(ctx context.Context, id int64) (bool, error) {
	res, err := q.idb.NewDelete().Model((*models.FollowRequest)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete follow request %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecordInboxActivity notes an inbound activity id and reports whether it
// is new: the second delivery of an activity does nothing.
func (q Queries) RecordInboxActivity(ctx context.Context, apID string, now time.Time) (bool, error) {
	res, err := q.idb.NewRaw("INSERT INTO inbox_activities (ap_id, received_at) VALUES (?, ?) ON CONFLICT (ap_id) DO NOTHING", apID, now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record activity %s: %w", apID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AddTombstone records that an actor deleted one of its objects.
func (q Queries) AddTombstone(ctx context.Context, apID, actorID string, now time.Time) error {
	_, err := q.idb.NewRaw("INSERT INTO tombstones (ap_id, actor_id, deleted_at) VALUES (?, ?, ?) ON CONFLICT (ap_id) DO NOTHING", apID, actorID, now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("tombstone %s: %w", apID, err)
	}
	return nil
}

// Tombstoned reports whether the actor deleted the object; another
// actor's Delete of the same id does not count.
func (q Queries) Tombstoned(ctx context.Context, apID, actorID string) (bool, error) {
	n, err := q.idb.NewSelect().Table("tombstones").Where("ap_id = ? AND actor_id = ?", apID, actorID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("tombstone %s: %w", apID, err)
	}
	return n > 0, nil
}

// ServerKey loads one of the instance's own key pairs.
func (q Queries) ServerKey(ctx context.Context, name string) (*models.ServerKey, error) {
	k := new(models.ServerKey)
	if err := q.idb.NewSelect().Model(k).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, notFound(err, "server key "+name)
	}
	return k, nil
}

// InsertServerKey stores a key pair unless one of that name exists (two
// replicas starting at once keep the first).
func (q Queries) InsertServerKey(ctx context.Context, k *models.ServerKey) error {
	if _, err := q.idb.NewInsert().Model(k).On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("store server key %s: %w", k.Name, err)
	}
	return nil
}

// RemoteFollowerInboxes lists where to deliver to a user's remote
// followers: each server's shared inbox once, or each follower's inbox
// where the server has none.
func (q Queries) RemoteFollowerInboxes(ctx context.Context, userID int64) ([]string, error) {
	var inboxes []string
	// Read through follows_remote_idx: only remote followers' rows, none
	// for an author followed only here. (Through all follows, a post by
	// someone with 100 local followers cost 1 ms of PostgreSQL's time.)
	p := NewParams(q.idb) // on every post
	err := q.idb.NewRaw(`SELECT DISTINCT CASE WHEN u.shared_inbox_url <> '' THEN u.shared_inbox_url ELSE u.inbox_url END
		FROM follows f JOIN users u ON u.id = f.follower_id
		WHERE f.followee_id = ? AND f.remote_follower AND u.inbox_url <> ''`, p.Arg(userID)).Conn(p.Conn()).Scan(ctx, &inboxes)
	if err != nil {
		return nil, fmt.Errorf("remote follower inboxes of user %d: %w", userID, err)
	}
	return inboxes, nil
}

// UsersByIDs loads users by id, in no particular order.
func (q Queries) UsersByIDs(ctx context.Context, ids []int64) ([]*models.User, error) {
	return q.UsersByIDsOrNames(ctx, ids, nil)
}

// InstanceUsage is what NodeInfo reports.
type InstanceUsage struct {
	Users, ActiveMonth, ActiveHalfyear, LocalPosts int64
}

// Usage counts local users, those who posted in the last month and half
// year, and local posts.
func (q Queries) Usage(ctx context.Context, now time.Time) (InstanceUsage, error) {
	var u InstanceUsage
	err := q.idb.NewRaw(`SELECT
		(SELECT count(*) FROM users WHERE domain = '') AS users,
		(SELECT count(DISTINCT p.user_id) FROM posts p JOIN users u ON u.id = p.user_id WHERE u.domain = '' AND p.created_at > ?) AS active_month,
		(SELECT count(DISTINCT p.user_id) FROM posts p JOIN users u ON u.id = p.user_id WHERE u.domain = '' AND p.created_at > ?) AS active_halfyear,
		(SELECT count(*) FROM posts p JOIN users u ON u.id = p.user_id WHERE u.domain = '' AND p.deleted_at IS NULL AND p.repost_of IS NULL) AS local_posts`,
		now.AddDate(0, -1, 0), now.AddDate(0, -6, 0)).Scan(ctx, &u.Users, &u.ActiveMonth, &u.ActiveHalfyear, &u.LocalPosts)
	if err != nil {
		return u, fmt.Errorf("instance usage: %w", err)
	}
	return u, nil
}

// PostsOfUser pages a user's live posts and reposts, newest first, for
// the ActivityPub outbox.
func (q Queries) PostsOfUser(ctx context.Context, userID, beforeID int64, limit int) ([]*models.Post, error) {
	var out []*models.Post
	sel := q.idb.NewSelect().Model(&out).Relation("User", models.UserSummary).Where("post.user_id = ? AND post.deleted_at IS NULL", userID)
	if beforeID > 0 {
		sel = sel.Where("post.id < ?", beforeID)
	}
	if err := sel.OrderExpr("post.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("outbox of user %d: %w", userID, err)
	}
	return out, nil
}

// HasLocalFollowers reports whether any local user follows the user.
func (q Queries) HasLocalFollowers(ctx context.Context, userID int64) (bool, error) {
	n, err := q.idb.NewSelect().TableExpr("follows AS f").Join("JOIN users AS u ON u.id = f.follower_id").
		Where("f.followee_id = ? AND u.domain = ''", userID).Limit(1).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("local followers of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// FollowPairs lists the other ends of a user's follows, both ways.
func (q Queries) FollowPairs(ctx context.Context, userID int64) (followers, followees []int64, err error) {
	err = q.idb.NewSelect().Table("follows").Column("follower_id").Where("followee_id = ?", userID).Scan(ctx, &followers)
	if err == nil {
		err = q.idb.NewSelect().Table("follows").Column("followee_id").Where("follower_id = ?", userID).Scan(ctx, &followees)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("follows of user %d: %w", userID, err)
	}
	return followers, followees, nil
}
