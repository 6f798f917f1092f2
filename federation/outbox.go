package federation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/models"
)

// Emit turns a local change into activities on the delivery queue, in the
// transaction of the change: posts to the author's remote followers (each
// server's shared inbox once) and to remote users they mention; reposts,
// bookmarks and follows to the remote users they concern. Changes made by
// remote users were told to us, and are not sent on.
func (s *Service) Emit(ctx context.Context, q database.Queries, e models.Event) error {
	build := s.builderFor(e.Type)
	if build == nil {
		return nil // not an event other servers hear of
	}
	actor, err := actorOf(ctx, q, e)
	if err != nil {
		return err
	}
	out, err := build(ctx, q, actor, e)
	if err != nil || out == nil || len(out.inboxes) == 0 {
		return err
	}
	return s.enqueue(ctx, q, e, out)
}

// QuietIfUnheard reports whether no other server hears of e if the local
// author of its post has no followers there: other events than a new
// post's that do not federate at all, and a new post that neither
// replies to a post nor mentions a user from elsewhere.
func (s *Service) QuietIfUnheard(e models.Event) bool {
	if s.builderFor(e.Type) == nil {
		return true
	}
	post := e.Post
	if e.Type != models.EventPostCreated || post == nil || post.ReplyTo != nil || post.Mentioned == nil {
		return false
	}
	return !slices.ContainsFunc(post.Mentioned, (*models.User).Remote)
}

// activityBuilder makes the activity of an event acted by actor.
type activityBuilder func(ctx context.Context, q database.Queries, actor *models.User, e models.Event) (*outgoing, error)

// builderFor is what turns events of the type into activities; nil for
// the types that do not federate.
func (s *Service) builderFor(eventType string) activityBuilder {
	switch eventType {
	case models.EventPostCreated, models.EventPostRevised, models.EventPostDeleted:
		return s.postActivity
	case models.EventPostReposted, models.EventPostUnreposted:
		return s.repostActivity
	case models.EventPostBookmarked, models.EventPostUnbookmarked:
		return s.likeActivity
	case models.EventFollowRequested, models.EventUserUnfollowed, models.EventFollowAccepted, models.EventFollowRejected:
		return s.followActivity
	}
	return nil
}

// actorOf is the user who acted: the author of the event's post when it
// carries one, else read.
func actorOf(ctx context.Context, q database.Queries, e models.Event) (*models.User, error) {
	if p := e.Post; p != nil && p.User != nil && p.UserID == e.ActorID {
		return p.User, nil
	}
	return q.UserByID(ctx, e.ActorID)
}

// outgoing is one activity and where it goes.
type outgoing struct {
	signer   int64 // the local user whose key signs it
	activity convert.Activity
	inboxes  []string
	postID   *int64
}

func (s *Service) enqueue(ctx context.Context, q database.Queries, e models.Event, out *outgoing) error {
	out.activity.Context = []string{convert.ASContext}
	body, err := json.Marshal(out.activity)
	if err != nil {
		return fmt.Errorf("encode %s: %w", out.activity.Type, err)
	}
	slices.Sort(out.inboxes)
	jobs := make([]delivery.Job, 0, len(out.inboxes))
	for _, inbox := range slices.Compact(out.inboxes) {
		jobs = append(jobs, delivery.Job{
			Kind: models.DeliveryActivityPub, Event: e.Type, URL: inbox, Body: body,
			Signer: SignerName, SignerRef: out.signer, PostID: out.postID,
			MaxAttempts: deliveryAttempts, Timeout: deliveryTimeout,
		})
	}
	_, err = delivery.Enqueue(ctx, q, s.clock(), jobs...)
	return err
}

// postActivity is Create, Update or Delete of a local post, to the
// author's remote followers and the remote users it mentions or replies to.
func (s *Service) postActivity(ctx context.Context, q database.Queries, author *models.User, e models.Event) (*outgoing, error) {
	if author.Remote() {
		return nil, nil
	}
	post := e.Post
	if post == nil || post.ID != e.PostID {
		var err error
		if post, err = q.PostByID(ctx, e.PostID); err != nil {
			return nil, err
		}
	}
	nc, audience, err := s.noteContext(ctx, q, post)
	if err != nil {
		return nil, err
	}
	var inboxes []string
	if l := e.Listeners(); l == nil || l.RemoteFollowers {
		if inboxes, err = q.RemoteFollowerInboxes(ctx, author.ID); err != nil {
			return nil, err
		}
	}
	for _, u := range audience {
		inboxes = append(inboxes, u.DeliveryInbox())
	}
	if len(inboxes) == 0 {
		return nil, nil // no other server hears of it: nothing to render
	}
	note := s.site.ToNote(post, author, nc)
	actor := s.site.Actor(author.Username)
	act := convert.Activity{Actor: actor, To: note.To, Cc: note.Cc}
	switch e.Type {
	case models.EventPostCreated:
		act.ID, act.Type, act.Object, act.Published = note.ID+"/activity", "Create", note, note.Published
	case models.EventPostRevised:
		act.ID, act.Type, act.Object = note.ID+"#updates/"+uniqueSuffix(), "Update", note
	case models.EventPostDeleted:
		act.ID, act.Type, act.Object = note.ID+"#delete", "Delete", s.site.ToTombstone(post)
	}
	return &outgoing{signer: author.ID, activity: act, inboxes: inboxes, postID: &post.ID}, nil
}

// noteFor renders a post as a Note and lists the remote users it concerns:
// those it mentions and the author of the post it replies to.
func (s *Service) noteFor(ctx context.Context, q database.Queries, post *models.Post, author *models.User) (convert.Note, []*models.User, error) {
	nc, audience, err := s.noteContext(ctx, q, post)
	if err != nil {
		return convert.Note{}, nil, err
	}
	return s.site.ToNote(post, author, nc), audience, nil
}

// noteContext is what a post's Note says of other posts and users, and the
// remote users among them.
func (s *Service) noteContext(ctx context.Context, q database.Queries, post *models.Post) (convert.NoteContext, []*models.User, error) {
	nc := convert.NoteContext{Mentioned: map[int64]*models.User{}}
	var audience []*models.User
	if post.ReplyTo != nil {
		parent, err := q.PostByID(ctx, *post.ReplyTo)
		if err != nil {
			return nc, nil, err
		}
		nc.InReplyTo = s.site.NoteOf(parent)
		if parent.User != nil && parent.User.Remote() {
			audience = append(audience, parent.User)
		}
	}
	users, err := mentionedUsers(ctx, q, post)
	if err != nil {
		return nc, nil, err
	}
	for _, u := range users {
		nc.Mentioned[u.ID] = u
		if u.Remote() {
			audience = append(audience, u)
		}
	}
	return nc, audience, nil
}

// repostActivity is Announce (or Undo Announce) of a post by a local user,
// to their remote followers and the post's author if remote.
func (s *Service) repostActivity(ctx context.Context, q database.Queries, reposter *models.User, e models.Event) (*outgoing, error) {
	if reposter.Remote() {
		return nil, nil
	}
	original, err := q.PostByID(ctx, e.OriginalID)
	if err != nil {
		return nil, err
	}
	inboxes, err := q.RemoteFollowerInboxes(ctx, reposter.ID)
	if err != nil {
		return nil, err
	}
	if original.User != nil && original.User.Remote() {
		inboxes = append(inboxes, original.User.DeliveryInbox())
	}
	actor := s.site.Actor(reposter.Username)
	announce := convert.Activity{
		ID: s.site.Note(e.PostID), Type: "Announce", Actor: actor, Object: s.site.NoteOf(original),
		To: []string{convert.Public}, Cc: []string{s.site.Followers(reposter.Username), s.site.ActorOf(original.User)},
		Published: convert.Time(e.At),
	}
	if e.Type == models.EventPostReposted {
		return &outgoing{signer: reposter.ID, activity: announce, inboxes: inboxes}, nil
	}
	undo := convert.Activity{ID: announce.ID + "#undo", Type: "Undo", Actor: actor, Object: announce, To: announce.To, Cc: announce.Cc}
	return &outgoing{signer: reposter.ID, activity: undo, inboxes: inboxes}, nil
}

// likeActivity is a local user's bookmark of a remote post as a Like (or
// its removal as Undo Like), to the post's author.
func (s *Service) likeActivity(ctx context.Context, q database.Queries, liker *models.User, e models.Event) (*outgoing, error) {
	if liker.Remote() {
		return nil, nil
	}
	post, err := q.PostByID(ctx, e.PostID)
	if err != nil {
		return nil, err
	}
	if post.User == nil || !post.User.Remote() {
		return nil, nil
	}
	actor := s.site.Actor(liker.Username)
	// Each Like and each Undo gets an id of its own: a receiver that
	// dedupes on ids must not take a second bookmark for the first.
	like := convert.Activity{ID: actor + "#likes/" + convert.ID(post.ID) + "/" + uniqueSuffix(), Type: "Like", Actor: actor, Object: s.site.NoteOf(post)}
	out := &outgoing{signer: liker.ID, activity: like, inboxes: []string{post.User.DeliveryInbox()}}
	if e.Type == models.EventPostUnbookmarked {
		out.activity = convert.Activity{ID: like.ID + "#undo", Type: "Undo", Actor: actor, Object: like}
	}
	return out, nil
}

// followActivity is Follow, Undo Follow, Accept or Reject between a local
// and a remote user.
func (s *Service) followActivity(ctx context.Context, q database.Queries, follower *models.User, e models.Event) (*outgoing, error) {
	followee, err := q.UserByID(ctx, e.SubjectID)
	if err != nil {
		return nil, err
	}
	follow := convert.Activity{ID: e.ObjectID, Type: "Follow", Actor: s.site.ActorOf(follower), Object: s.site.ActorOf(followee)}
	switch {
	case e.Type == models.EventFollowRequested && !follower.Remote() && followee.Remote():
		return &outgoing{signer: follower.ID, activity: follow, inboxes: []string{followee.InboxURL}}, nil
	case e.Type == models.EventUserUnfollowed && !follower.Remote() && followee.Remote() && e.ObjectID != "":
		undo := convert.Activity{ID: e.ObjectID + "#undo", Type: "Undo", Actor: follow.Actor, Object: follow}
		return &outgoing{signer: follower.ID, activity: undo, inboxes: []string{followee.InboxURL}}, nil
	case (e.Type == models.EventFollowAccepted || e.Type == models.EventFollowRejected) && follower.Remote() && !followee.Remote() && e.ObjectID != "":
		typ := "Accept"
		if e.Type == models.EventFollowRejected {
			typ = "Reject"
		}
		answer := convert.Activity{ID: s.site.Actor(followee.Username) + "#" + strings.ToLower(typ) + "s/" + convert.ID(follower.ID) + "/" + uniqueSuffix(),
			Type: typ, Actor: s.site.Actor(followee.Username), Object: follow}
		return &outgoing{signer: followee.ID, activity: answer, inboxes: []string{follower.InboxURL}}, nil
	}
	return nil, nil
}

// uniqueSuffix makes an activity id unique where nothing in the event is.
func uniqueSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mentionedUsers is the users post mentions: those that came with it, or
// else read by the ids of its mentions.
func mentionedUsers(ctx context.Context, q database.Queries, post *models.Post) ([]*models.User, error) {
	if post.Mentioned != nil {
		return post.Mentioned, nil
	}
	var ids []int64
	for _, m := range post.Entities.Mentions {
		if id, err := strconv.ParseInt(m.ID, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return q.UsersByIDs(ctx, ids)
}
