package federation

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// The documents this instance serves. Each is rendered by app/convert;
// here is only which rows they show and who may see them.

var errNoSuchActor = errs.NotFound("user_not_found", "no such user here")

// LocalActor is a local user by name, for their actor and collections.
func (s *Service) LocalActor(ctx context.Context, name string) (*models.User, error) {
	u, err := s.db.UserByUsername(ctx, name)
	if errors.Is(err, database.ErrNotFound) || (err == nil && u.Remote()) {
		return nil, errNoSuchActor
	}
	return u, err
}

// ActorDocument is a local user as an actor.
func (s *Service) ActorDocument(ctx context.Context, name string) (convert.Actor, error) {
	u, err := s.LocalActor(ctx, name)
	if err != nil {
		return convert.Actor{}, err
	}
	if u.PublicKeyPEM == "" { // an account made before federation: give it keys now
		if err := s.ensureKeys(ctx, u); err != nil {
			return convert.Actor{}, err
		}
	}
	return s.site.ToActor(u), nil
}

// ensureKeys gives a local user without keys a key pair.
func (s *Service) ensureKeys(ctx context.Context, u *models.User) error {
	priv, pub, err := GenerateKey()
	if err != nil {
		return err
	}
	stored, err := s.db.SetUserKeys(ctx, u.ID, pub, priv)
	if err != nil {
		return err
	}
	if !stored { // another request or replica gave them keys first: theirs hold
		fresh, err := s.db.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		pub, priv = fresh.PublicKeyPEM, fresh.PrivateKeyPEM
	}
	u.PublicKeyPEM, u.PrivateKeyPEM = pub, priv
	return nil
}

// InstanceActorDocument is the instance actor.
func (s *Service) InstanceActorDocument(ctx context.Context) (convert.Actor, error) {
	_, pub, err := s.InstanceKey(ctx)
	if err != nil {
		return convert.Actor{}, err
	}
	return s.site.ToInstanceActor(pub), nil
}

// PostDocument is a local post as ActivityPub shows it, and the status to
// answer with: a Note, an Announce for a repost, or 410 and a Tombstone
// for a deleted post.
func (s *Service) PostDocument(ctx context.Context, id int64) (any, int, error) {
	post, err := s.db.PostByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) || (err == nil && (post.User == nil || post.User.Remote())) {
		return nil, 0, errs.NotFound("post_not_found", "no such post here")
	}
	if err != nil {
		return nil, 0, err
	}
	if post.Deleted() {
		t := s.site.ToTombstone(post)
		t.Context = []string{convert.ASContext}
		return t, http.StatusGone, nil
	}
	if post.RepostOf != nil {
		original, err := s.db.PostByID(ctx, *post.RepostOf)
		if err != nil {
			return nil, 0, err
		}
		return s.announce(post, original), http.StatusOK, nil
	}
	note, _, err := s.noteFor(ctx, s.db.Queries, post, post.User)
	note.Context = []string{convert.ASContext}
	return note, http.StatusOK, err
}

func (s *Service) announce(repost, original *models.Post) convert.Activity {
	return convert.Activity{
		Context: []string{convert.ASContext},
		ID:      s.site.Note(repost.ID), Type: "Announce", Actor: s.site.ActorOf(repost.User), Object: s.site.NoteOf(original),
		To: []string{convert.Public}, Cc: []string{s.site.Followers(repost.User.Username), s.site.ActorOf(original.User)},
		Published: convert.Time(repost.CreatedAt),
	}
}

const outboxPage = 20

// Outbox is a local user's outbox: the collection, or with page one page
// of Create and Announce activities, newest first, before maxID.
func (s *Service) Outbox(ctx context.Context, name string, page bool, maxID int64) (convert.OrderedCollection, error) {
	u, err := s.LocalActor(ctx, name)
	if err != nil {
		return convert.OrderedCollection{}, err
	}
	outbox := s.site.Outbox(u.Username)
	if !page {
		return convert.OrderedCollection{Context: []string{convert.ASContext}, ID: outbox, Type: "OrderedCollection",
			TotalItems: u.PostCount, First: outbox + "?page=true"}, nil
	}
	list, err := s.db.PostsOfUser(ctx, u.ID, maxID, outboxPage)
	if err != nil {
		return convert.OrderedCollection{}, err
	}
	id := outbox + "?page=true"
	if maxID > 0 {
		id += "&max_id=" + convert.ID(maxID)
	}
	out := convert.OrderedCollection{Context: []string{convert.ASContext}, ID: id, Type: "OrderedCollectionPage",
		TotalItems: u.PostCount, PartOf: outbox, OrderedItems: []any{}}
	for _, p := range list {
		item, err := s.outboxItem(ctx, p)
		if err != nil {
			return out, err
		}
		out.OrderedItems = append(out.OrderedItems, item)
	}
	if len(list) == outboxPage {
		out.Next = outbox + "?" + url.Values{"page": {"true"}, "max_id": {convert.ID(list[len(list)-1].ID)}}.Encode()
	}
	return out, nil
}

func (s *Service) outboxItem(ctx context.Context, p *models.Post) (any, error) {
	if p.RepostOf != nil {
		original, err := s.db.PostByID(ctx, *p.RepostOf)
		if err != nil {
			return nil, err
		}
		a := s.announce(p, original)
		a.Context = nil
		return a, nil
	}
	note, _, err := s.noteFor(ctx, s.db.Queries, p, p.User)
	return convert.Activity{ID: note.ID + "/activity", Type: "Create", Actor: note.AttributedTo, Object: note,
		To: note.To, Cc: note.Cc, Published: note.Published}, err
}

// FollowCollection is the size of a local user's followers or following;
// the members themselves are not listed.
func (s *Service) FollowCollection(ctx context.Context, name string, followers bool) (convert.OrderedCollection, error) {
	u, err := s.LocalActor(ctx, name)
	if err != nil {
		return convert.OrderedCollection{}, err
	}
	c := convert.OrderedCollection{Context: []string{convert.ASContext}, Type: "OrderedCollection"}
	if followers {
		c.ID, c.TotalItems = s.site.Followers(u.Username), u.FollowerCount
	} else {
		c.ID, c.TotalItems = s.site.Following(u.Username), u.FollowingCount
	}
	return c, nil
}
